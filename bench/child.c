/*
 * child.c - one measurement, in a process of its own: the library, the
 * file, the loop, the line that reports it.
 */
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"
#include "spec.h"

bool bench_is_child(int argc, char **argv)
{
	return argc > 1 && !strcmp(argv[1], BENCH_CHILD_ARG);
}

/* The inherited file, opened anew with the flags this spec needs. */
static int reopen(const struct bench_spec *s, struct bench_why *why)
{
	char path[64];
	int fd, flags = (s->rw == BENCH_READ ? O_RDONLY : O_RDWR) | O_CLOEXEC;

	if (s->direct)
		flags |= O_DIRECT;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", s->fd);
	fd = open(path, flags);
	if (fd < 0 && s->direct && errno == EINVAL)
		return bench_skip(why, EINVAL,
				  "the file system does not support O_DIRECT");
	if (fd < 0)
		return bench_fail(why, errno, "open %s: %s", path,
				  strerror(errno));
	close(s->fd);
	/* As fio does by default: no readahead behind random reads. */
	if (!s->direct)
		posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
	if (s->warm) {
		int r = bench_warm(fd, s->size, NULL, NULL);

		if (r) {
			close(fd);
			return bench_fail(why, -r, "reading the file: %s",
					  strerror(-r));
		}
	}
	return fd;
}

static int measure(const struct bench_spec *s, const struct bench_loop *loop,
		   struct bench_why *why)
{
	struct bench_lib lib = {0};
	struct bench_result res;
	struct bench_io io;
	int fd, r;

	if (s->api == BENCH_LIBAIO) {
		r = bench_lib_open(&lib, s->lib, s->engine, why);
		if (r)
			return r;
	}
	fd = reopen(s, why);
	if (fd < 0)
		return fd;
	r = bench_io_init(&io, s, fd, &lib, why);
	if (!r)
		r = bench_io_run(&io, loop);
	bench_io_result(&io, &res);
	bench_io_free(&io);
	close(fd);
	if (!r && (!res.ops || !res.ns))
		r = bench_fail(why, EIO,
			       "nothing completed in the timed window");
	if (!r)
		bench_proto_result(&res);
	/* Left loaded: the process ends now, and uaio's threads with it. */
	return r;
}

void bench_child_main(int argc, char **argv,
		      const struct bench_loop *const loops[BENCH_NAPIS])
{
	struct bench_why why = {0};
	struct bench_spec s;
	int r;

	bench_spec_parse(argc - 1, argv + 1, &s);
	if (!loops[s.api])
		r = bench_fail(&why, ENOSYS, "this program has no %s loop",
			       bench_api_names[s.api]);
	else
		r = measure(&s, loops[s.api], &why);
	/* _exit: nothing of the child's is worth an exit handler, and a leak
	 * check would turn an early return into a failure. */
	fflush(NULL);
	_exit(r ? bench_proto_why(&why) : 0);
}
