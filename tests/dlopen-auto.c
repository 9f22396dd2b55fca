/*
 * A program that loads libaio.so.1 with dlopen(RTLD_LOCAL) keeps glibc's
 * syscall(): its raw AIO system calls cannot reach uaio.  auto must then do
 * what the system's libaio does (the kernel's AIO, or its error), say why
 * in uaio_fallback_reason, and an explicit engine is still obeyed.
 *
 * Usage: dlopen-auto LIBAIO_SO [EXPECTED_SETUP_ERRNO]
 */
#include "helpers.h"

#include <dlfcn.h>
#include <errno.h>
#include <string.h>

int main(int argc, char **argv)
{
	int (*setup)(int, io_context_t *), (*destroy)(io_context_t);
	int (*usetup)(int, io_context_t *, const char *);
	int (*engine)(io_context_t, char *, size_t);
	int (*reason)(io_context_t, char *, size_t);
	int want = argc > 2 ? atoi(argv[2]) : 0;
	char name[32], why[256];
	io_context_t ctx = 0;
	void *lib;
	int ret;

	T_ASSERT(argc > 1);
	lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		T_FAIL("dlopen(%s): %s", argv[1], dlerror());
	setup = (int (*)(int, io_context_t *))dlsym(lib, "io_setup");
	destroy = (int (*)(io_context_t))dlsym(lib, "io_destroy");
	usetup = (int (*)(int, io_context_t *, const char *))dlsym(
	    lib, "uaio_setup");
	engine =
	    (int (*)(io_context_t, char *, size_t))dlsym(lib, "uaio_engine");
	reason = (int (*)(io_context_t, char *, size_t))dlsym(
	    lib, "uaio_fallback_reason");
	T_ASSERT(setup && destroy && usetup && engine && reason);

	unsetenv("UAIO_ENGINE");
	ret = setup(4, &ctx);
	if (want) {
		/* No kernel AIO: the system libaio's error, not an emulated
		 * context. */
		T_EQ(ret, -want);
	} else {
		T_EQ(ret, 0);
		T_EQ(engine(ctx, name, sizeof(name)), 0);
		T_ASSERT(strcmp(name, "kernel") == 0);
		T_ASSERT(reason(ctx, why, sizeof(why)) > 0);
		T_ASSERT(strstr(why, "raw AIO system calls"));
		printf("auto: %s (%s)\n", name, why);
		T_EQ(destroy(ctx), 0);
	}
	/* An engine asked for by name is what the program wants. */
	ctx = 0;
	T_EQ(usetup(4, &ctx, "threads"), 0);
	T_EQ(engine(ctx, name, sizeof(name)), 0);
	T_ASSERT(strcmp(name, "threads") == 0);
	T_EQ(destroy(ctx), 0);
	return 0;
}
