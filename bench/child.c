/*
 * child.c - one measurement, in a process of its own.
 *
 * The child first proves that the libaio it got is the one it was asked for
 * (uaio exports uaio_version, the system libaio does not): a benchmark that
 * silently measured the wrong library would be worse than none.  It prints
 * one line on stdout: the number, or why there is none.
 */
#include "bench.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *cur_method = "?";
static char first_err[512];

void bench_err(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "uaio-bench-core: %s: %s\n", cur_method, msg);
	if (!first_err[0])
		snprintf(first_err, sizeof(first_err), "%s", msg);
}

/* The file that defines sym in this process, for messages. */
static const char *sym_origin(const char *sym)
{
	void *p = dlsym(RTLD_DEFAULT, sym);
	Dl_info info;

	if (p && dladdr(p, &info) && info.dli_fname)
		return info.dli_fname;
	return "(not found)";
}

/* 0 if the loaded libaio is the one m asks for; else the exit status. */
static int check_impl(const struct bench_method *m, char *why, size_t len)
{
	bool is_uaio = dlsym(RTLD_DEFAULT, "uaio_version") != NULL;
	int (*probe)(const char *, char *, size_t);
	const char *lp = getenv("LD_LIBRARY_PATH");
	int r;

	if (m->api != API_LIBAIO)
		return 0;
	if (!m->engine && is_uaio) {
		bench_err("asked for the system libaio, but io_submit comes "
			  "from uaio's %s (LD_LIBRARY_PATH=%s)",
			  sym_origin("io_submit"), lp ? lp : "(unset)");
		return 1;
	}
	if (!m->engine)
		return 0;
	if (!is_uaio) {
		bench_err("asked for uaio (engine %s), but io_submit comes "
			  "from %s, which is not uaio (LD_LIBRARY_PATH=%s)",
			  m->engine, sym_origin("io_submit"),
			  lp ? lp : "(unset)");
		return 1;
	}
	*(void **)&probe = dlsym(RTLD_DEFAULT, "uaio_probe");
	if (!probe) {
		bench_err("uaio at %s exports no uaio_probe",
			  sym_origin("uaio_version"));
		return 1;
	}
	r = probe(m->engine, why, len);
	if (r == -EINVAL) {
		bench_err("uaio does not know engine \"%s\"", m->engine);
		return 1;
	}
	if (r < 0) {
		if (!why[0])
			snprintf(why, len, "%s", strerror(-r));
		return BENCH_EXIT_UNAVAILABLE;
	}
	return 0;
}

/* The inherited file, opened anew with the flags this test needs. */
static int reopen(const struct bench_job *job)
{
	char path[64];
	int fd, flags = O_RDONLY | O_CLOEXEC;

	if (job->test == BENCH_DIRECT)
		flags |= O_DIRECT;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", job->fd);
	fd = open(path, flags);
	if (fd < 0) {
		bench_err("open %s%s: %s", path,
			  job->test == BENCH_DIRECT ? " with O_DIRECT" : "",
			  strerror(errno));
		return -1;
	}
	close(job->fd);
	return fd;
}

/* Read the whole (small) file once so that the timed reads hit the page cache.
 */
static int warm(int fd, uint64_t size)
{
	char *buf = bench_buffers(16);
	uint64_t off;
	int ret = 0;

	if (!buf) {
		bench_err("out of memory");
		return -1;
	}
	for (off = 0; off < size; off += 16 * BENCH_BS) {
		if (pread(fd, buf, 16 * BENCH_BS, (off_t)off) <= 0) {
			bench_err("pread: %s", strerror(errno));
			ret = -1;
			break;
		}
	}
	free(buf);
	return ret;
}

int bench_child(const struct bench_method *m, const struct bench_job *job)
{
	struct bench_loop l = {
	    .nblocks = job->file_size / BENCH_BS,
	    .seed = job->seed | 1, /* xorshift must not start at 0 */
	};
	char why[256] = "";
	int r;

	cur_method = m->name;
	r = check_impl(m, why, sizeof(why));
	if (r)
		goto fail;
	l.fd = reopen(job);
	if (l.fd < 0) {
		r = 1;
		goto fail;
	}
	if (job->test == BENCH_COST) {
		if (warm(l.fd, job->file_size)) {
			r = 1;
			goto fail;
		}
		l.depth = BENCH_COST_DEPTH;
		l.ops = job->ops;
	} else {
		l.depth = BENCH_DIRECT_DEPTH;
		/*
		 * The window runs from the loop's first submission (after its
		 * setup) to the first reap past the deadline; elapsed_ns is
		 * measured, so the setup only shortens it.
		 */
		l.deadline_ns = bench_now_ns() + (uint64_t)(job->seconds * 1e9);
	}

	switch (m->api) {
	case API_LIBAIO:
		r = bench_loop_libaio(&l, m->engine, why, sizeof(why));
		break;
	case API_URING:
		r = bench_loop_uring(&l, why, sizeof(why));
		break;
	case API_POSIX:
		r = bench_loop_posix(&l, why, sizeof(why));
		break;
	case API_PREAD:
		r = bench_loop_pread(&l, why, sizeof(why));
		break;
	}
	if (r < 0)
		r = 1;
	if (r)
		goto fail;
	if (!l.done || !l.elapsed_ns) {
		bench_err("nothing completed in the timed window");
		r = 1;
		goto fail;
	}
	if (job->test == BENCH_COST)
		printf("%.3f\n", (double)l.elapsed_ns / (double)l.done);
	else
		printf("%.1f\n", (double)l.done * 1e9 / (double)l.elapsed_ns);
	return 0;

fail:
	if (r == BENCH_EXIT_UNAVAILABLE)
		printf("%s\n", why);
	else
		printf("%s\n", first_err[0] ? first_err : "failed");
	return r;
}
