/*
 * hello.c - the smallest uaio program: read the start of a file through an
 * AIO context, then say which engine ran it and which libaio.so.1 the
 * program loaded.
 *
 *   cc hello.c $(pkg-config --cflags --libs uaio) -o hello
 *   ./hello [FILE]
 *   UAIO_ENGINE=threads ./hello [FILE]
 *
 * Every libaio call returns a negative errno on failure and leaves errno
 * alone, hence strerror(-ret) rather than perror().
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libaio.h>
#include <uaio.h>

static int fail(const char *what, int err)
{
	fprintf(stderr, "hello: %s: %s\n", what, strerror(err));
	return 1;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/proc/self/exe";
	char buf[4096], engine[UAIO_ENGINE_NAME_MAX], why[UAIO_REASON_MAX];
	struct iocb cb, *cbs[1] = {&cb};
	struct io_event ev;
	io_context_t ctx = 0;
	Dl_info lib;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(path, errno);
	ret = io_setup(8, &ctx);
	if (ret < 0)
		return fail("io_setup", -ret);

	io_prep_pread(&cb, fd, buf, sizeof(buf), 0);
	ret = io_submit(ctx, 1, cbs);
	if (ret != 1)
		return fail("io_submit", ret < 0 ? -ret : EAGAIN);
	ret = io_getevents(ctx, 1, 1, &ev, NULL);
	if (ret != 1)
		return fail("io_getevents", ret < 0 ? -ret : EINTR);
	if ((long)ev.res < 0)
		return fail("read", (int)-(long)ev.res);

	ret = uaio_engine(ctx, engine, sizeof(engine));
	if (ret < 0)
		return fail("uaio_engine", -ret);
	ret = uaio_fallback_reason(ctx, why, sizeof(why));
	if (ret < 0)
		return fail("uaio_fallback_reason", -ret);
	/* The version string lives in the library's own read-only data, so
	 * its address names the file the library was loaded from. */
	if (!dladdr(uaio_version(), &lib) || !lib.dli_fname)
		return fail("dladdr", ENOENT);

	printf("read %ld bytes of %s\n", (long)ev.res, path);
	printf("engine: %s\n", engine);
	if (why[0])
		printf("fallback: %s\n", why);
	printf("uaio: %s\n", uaio_version());
	printf("library: %s\n", lib.dli_fname);

	/* After io_destroy nothing touches buf, cb or the file any more. */
	ret = io_destroy(ctx);
	if (ret < 0)
		return fail("io_destroy", -ret);
	close(fd);
	return 0;
}
