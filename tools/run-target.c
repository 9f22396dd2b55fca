/*
 * run-target.c - a libaio program as users have them, for the 'uaio run'
 * tests: linked against the system's libaio.so.1, knowing nothing of uaio.
 *
 * It makes two contexts: the first does 3 preads, 2 pwrites and 1 fsync on a
 * scratch file and is destroyed; the second does 1 pread and is left for the
 * exit.  Then it prints which library it ran on and, on uaio, each
 * context's engine:  "libaio=uaio engine=threads,threads"  or
 * "libaio=system".  Exit 0 when every request completed as it should.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libaio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fail(const char *what, int err)
{
	fprintf(stderr, "run-target: %s: %s\n", what, strerror(err));
	return 1;
}

static int one(io_context_t ctx, struct iocb *cb, long want)
{
	struct iocb *cbs[1] = {cb};
	struct io_event ev;
	int r = io_submit(ctx, 1, cbs);

	if (r != 1)
		return fail("io_submit", r < 0 ? -r : EIO);
	r = io_getevents(ctx, 1, 1, &ev, NULL);
	if (r != 1)
		return fail("io_getevents", r < 0 ? -r : EIO);
	if ((long)ev.res != want || ev.obj != cb)
		return fail("unexpected res", ev.res > 0 ? EIO : (int)-ev.res);
	return 0;
}

static void engine_of(io_context_t ctx, char *name, size_t len)
{
	int (*fn)(io_context_t, char *, size_t);

	*(void **)&fn = dlsym(RTLD_DEFAULT, "uaio_engine");
	if (!fn || fn(ctx, name, len) < 0)
		snprintf(name, len, "?");
}

int main(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096], buf[512], e1[32], e2[32];
	io_context_t a = 0, b = 0;
	struct iocb cb;
	int fd, r;

	snprintf(path, sizeof(path), "%s/run-target.XXXXXX",
		 dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	if (fd < 0)
		return fail("mkstemp", errno);
	unlink(path);
	memset(buf, 'x', sizeof(buf));

	r = io_setup(8, &a);
	if (r)
		return fail("io_setup", -r);
	r = io_setup(4, &b);
	if (r)
		return fail("io_setup", -r);
	engine_of(a, e1, sizeof(e1));
	engine_of(b, e2, sizeof(e2));

	io_prep_pwrite(&cb, fd, buf, sizeof(buf), 0);
	if (one(a, &cb, sizeof(buf)))
		return 1;
	io_prep_pwrite(&cb, fd, buf, sizeof(buf), 512);
	if (one(a, &cb, sizeof(buf)))
		return 1;
	io_prep_fsync(&cb, fd);
	if (one(a, &cb, 0))
		return 1;
	for (int i = 0; i < 3; i++) {
		io_prep_pread(&cb, fd, buf, sizeof(buf), 512 * (i % 2));
		if (one(a, &cb, sizeof(buf)))
			return 1;
	}
	r = io_destroy(a);
	if (r)
		return fail("io_destroy", -r);
	io_prep_pread(&cb, fd, buf, sizeof(buf), 0);
	if (one(b, &cb, sizeof(buf)))
		return 1;
	/* b is left to the exit, on purpose. */

	if (dlsym(RTLD_DEFAULT, "uaio_version"))
		printf("libaio=uaio engine=%s,%s\n", e1, e2);
	else
		printf("libaio=system\n");
	fflush(stdout);
	close(fd);
	return 0;
}
