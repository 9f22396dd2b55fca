/*
 * lib.c - the libaio.so.1 a child measures, loaded by its path.
 *
 * The program that measures may itself be linked with a libaio.so.1 (the
 * uaio command is, with uaio's), so the one measured is loaded by path and
 * called through pointers, and checked: a benchmark that silently measured
 * the wrong library would be worse than none.  The system's goes into a
 * namespace of its own (dlmopen): its functions call glibc's syscall(),
 * which uaio, where it is loaded, defines too (to catch programs' raw AIO
 * calls), and the reference must not run through uaio.  uaio's is loaded
 * into the program's namespace, where it joins the copy the program has, if
 * any: its threads and its exit handling need the process's own libc.
 */
#include "loop.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <uaio.h>
#include <unistd.h>

#ifndef UAIO_SYSTEM_LIBAIO
#define UAIO_SYSTEM_LIBAIO ""
#endif

/* The versions libaio 0.3.113 (and uaio) give these functions. */
static void *sym(void *h, const char *name, const char *version)
{
	void *p = dlvsym(h, name, version);

	return p ? p : dlsym(h, name);
}

static int resolve(struct bench_lib *l, const char *path, struct bench_why *why)
{
	*(void **)&l->setup = sym(l->handle, "io_setup", "LIBAIO_0.4");
	*(void **)&l->submit = sym(l->handle, "io_submit", "LIBAIO_0.1");
	*(void **)&l->getevents = sym(l->handle, "io_getevents", "LIBAIO_0.4");
	*(void **)&l->destroy = sym(l->handle, "io_destroy", "LIBAIO_0.4");
	*(void **)&l->engine = dlsym(l->handle, "uaio_engine");
	if (!l->setup || !l->submit || !l->getevents || !l->destroy)
		return bench_fail(why, ENOEXEC, "%s lacks the libaio functions",
				  path);
	return 0;
}

/* uaio's library, on an engine this host must be able to run. */
static int usable(struct bench_lib *l, const char *engine,
		  struct bench_why *why)
{
	int (*probe)(const char *, char *, size_t);
	char reason[UAIO_REASON_MAX] = "";
	int r;

	/* auto runs wherever uaio does: on what the host allows. */
	if (!strcmp(engine, "auto"))
		return 0;
	*(void **)&probe = dlsym(l->handle, "uaio_probe");
	if (!probe)
		return bench_fail(why, ENOEXEC, "uaio exports no uaio_probe");
	r = probe(engine, reason, sizeof(reason));
	if (r == -EINVAL)
		return bench_fail(why, EINVAL, "uaio does not know engine %s",
				  engine);
	if (r < 0)
		return bench_skip(why, -r, "%s",
				  reason[0] ? reason : strerror(-r));
	return 0;
}

int bench_lib_open(struct bench_lib *l, const char *path, const char *engine,
		   struct bench_why *why)
{
	bool is_uaio;
	int r;

	memset(l, 0, sizeof(*l));
	l->handle = engine ? dlopen(path, RTLD_NOW | RTLD_LOCAL)
			   : dlmopen(LM_ID_NEWLM, path, RTLD_NOW | RTLD_LOCAL);
	if (!l->handle)
		return bench_skip(why, ENOENT, "cannot load %s: %s", path,
				  dlerror());
	is_uaio = dlsym(l->handle, "uaio_version") != NULL;
	if (engine && !is_uaio)
		r = bench_fail(why, EINVAL, "%s is not uaio's libaio.so.1",
			       path);
	else if (!engine && is_uaio)
		r = bench_fail(why, EINVAL,
			       "%s is uaio's libaio.so.1, not the system's",
			       path);
	else
		r = resolve(l, path, why);
	if (!r && engine)
		r = usable(l, engine, why);
	if (r)
		bench_lib_close(l);
	return r;
}

void bench_lib_close(struct bench_lib *l)
{
	if (l->handle)
		dlclose(l->handle);
	l->handle = NULL;
}

int bench_lib_check(const struct bench_lib *l, io_context_t ctx,
		    const char *engine, struct bench_why *why)
{
	char name[UAIO_ENGINE_NAME_MAX] = "?";
	int r;

	if (!engine)
		return 0;
	r = l->engine ? l->engine(ctx, name, sizeof(name)) : -ENOSYS;
	/* auto may settle on one engine (uaio(7)): any is auto's choice. */
	if (r < 0 || (strcmp(name, engine) && strcmp(engine, "auto")))
		return bench_fail(why, EINVAL,
				  "asked for engine %s, the context runs on %s",
				  engine, r < 0 ? strerror(-r) : name);
	return 0;
}

/* Where distributions install the system libaio, and its names there. */
static const char *const dirs[] = {
#ifdef UAIO_MULTIARCH
    "/usr/lib/" UAIO_MULTIARCH,
    "/lib/" UAIO_MULTIARCH,
#endif
    "/usr/lib64",
    "/lib64",
    "/usr/lib",
    "/lib",
};
static const char *const names[] = {"libaio.so.1", "libaio.so.1t64"};

static int try_path(const char *path, struct bench_why *why)
{
	struct bench_lib l;
	int r = bench_lib_open(&l, path, NULL, why);

	bench_lib_close(&l);
	return r;
}

int bench_find_system_libaio(const char *given, char *path, size_t len,
			     struct bench_why *why)
{
	if (given) {
		snprintf(path, len, "%s", given);
		return try_path(path, why);
	}
	bench_skip(why, ENOENT,
		   "not installed (no libaio.so.1 in the usual library "
		   "directories)");
	snprintf(path, len, "%s", UAIO_SYSTEM_LIBAIO);
	if (path[0] && !access(path, R_OK) && !try_path(path, why))
		return 0;
	for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++)
		for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
			snprintf(path, len, "%s/%s", dirs[d], names[n]);
			if (!access(path, R_OK) && !try_path(path, why))
				return 0;
		}
	path[0] = 0;
	return -ENOENT;
}
