/*
 * core.c - uaio-bench-core's main: the methods, the files, the rounds, the
 * report.
 *
 * Each measurement runs in a child (measure.h) that loads the library it
 * measures by its path: the system's libaio.so.1, or uaio's from --uaio-lib
 * with UAIO_ENGINE set.  Methods take turns within each round, the first
 * one rotating, so that machine noise falls on all of them alike.  It
 * reports; it does not judge: missed targets still exit 0.
 */
#include "core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "args.h"

const struct core_method core_methods[] = {
    {"libaio", "libaio (system)", BENCH_LIBAIO, NULL, {true, true}},
    {"uaio-kernel", "uaio kernel", BENCH_LIBAIO, "kernel", {true, true}},
    {"uaio-threads", "uaio threads", BENCH_LIBAIO, "threads", {true, true}},
    {"uaio-uring", "uaio uring", BENCH_LIBAIO, "uring", {true, true}},
    {"liburing", "liburing", BENCH_URING, NULL, {true, true}},
    /* The floor for the libaio API over io_uring: what liburing pays plus
     * the one system call the kernel's submit-time checks cost. */
    {"liburing-checked",
     "liburing + fcntl per batch",
     BENCH_URING_CHECKED,
     NULL,
     {true, false}},
    {"posix-aio", "glibc POSIX AIO", BENCH_POSIX, NULL, {true, true}},
    /* One read at a time is no reference for a device at depth 32. */
    {"pread", "pread loop", BENCH_PREAD, NULL, {true, false}},
};
const unsigned core_nmethods = sizeof(core_methods) / sizeof(core_methods[0]);

_Static_assert(sizeof(core_methods) / sizeof(core_methods[0]) <=
		   CORE_MAX_METHODS,
	       "raise CORE_MAX_METHODS");

const char *const core_test_names[CORE_NTESTS] = {"cost", "direct"};

void core_host(char *buf, size_t len)
{
	struct utsname u;

	if (uname(&u))
		snprintf(buf, len, "?");
	else
		snprintf(buf, len, "%s %s %s", u.sysname, u.release, u.machine);
}

/* Why method m cannot run at all here, or NULL. */
static const char *unavailable(const struct core_opts *o,
			       const struct core_method *m, char *buf,
			       size_t len)
{
	if (m->engine && access(o->uaio_lib, R_OK)) {
		snprintf(buf, len, "uaio not built? %.160s: %.60s", o->uaio_lib,
			 strerror(errno));
		return buf;
	}
	if (m->api == BENCH_LIBAIO && !m->engine && !o->system_lib[0])
		return o->system_why.msg;
	return NULL;
}

/* The results of test t: a slot per method it runs; how many can run. */
static unsigned setup_results(struct core_opts *o, enum core_test t,
			      struct core_result *res)
{
	unsigned runnable = 0, listed = 0;
	char why[256];

	for (unsigned i = 0; i < core_nmethods; i++) {
		const char *na;

		if (!o->run_test[t] || !o->selected[i] ||
		    !core_methods[i].tests[t])
			continue;
		listed++;
		res[i].state = BENCH_OK;
		res[i].v = calloc(o->runs, sizeof(*res[i].v));
		if (!res[i].v)
			die("out of memory");
		na = unavailable(o, &core_methods[i], why, sizeof(why));
		if (na) {
			res[i].state = BENCH_NA;
			snprintf(res[i].reason, sizeof(res[i].reason), "%s",
				 na);
		}
		runnable += res[i].state == BENCH_OK;
	}
	/* A test none of the chosen methods takes is not reported. */
	if (!listed)
		o->run_test[t] = false;
	return runnable;
}

static void filling(void *arg, uint64_t done, uint64_t total)
{
	(void)arg;
	tool_status("preparing the O_DIRECT file: %d%%",
		    (int)(done * 100 / total));
}

/* Test t's scratch file, or -errno when the test cannot run (noted). */
static int prepare(struct core_opts *o, enum core_test t, uint64_t size)
{
	bool direct = t == CORE_DIRECT;
	struct bench_why why;
	int fd = bench_scratch(o->dir), r;

	if (fd < 0)
		die("cannot create a file in %s: %s", o->dir, strerror(-fd));
	if (direct && !o->json && bench_on_tmpfs(fd))
		tool_err("warning: %s is a tmpfs: O_DIRECT reads there "
			 "measure memory, not a disk",
			 o->dir);
	r = bench_fill(fd, size,
		       direct ? BENCH_FILL_DIRECT : BENCH_FILL_BUFFERED,
		       direct ? filling : NULL, NULL, &why);
	tool_status_clear();
	if (!r)
		return fd;
	if (!direct)
		die("%.120s: %.120s", o->dir, why.msg);
	/* A file system without O_DIRECT: report, go on. */
	snprintf(o->test_note[t], sizeof(o->test_note[t]), "%.120s: %.120s",
		 o->dir, why.msg);
	o->run_test[t] = false;
	close(fd);
	return r;
}

int main(int argc, char **argv)
{
	static const struct bench_loop *const loops[BENCH_NAPIS] = {
	    &bench_loop_libaio, &bench_loop_uring, &bench_loop_uring,
	    &bench_loop_posix, &bench_loop_pread};
	struct core_result *results[CORE_NTESTS];
	uint64_t sizes[CORE_NTESTS];
	struct core_opts o;
	bool failed = false;

	tool_name = "uaio-bench-core";
	if (bench_is_child(argc, argv))
		bench_child_main(argc, argv, loops);
	core_parse(argc, argv, &o);
	bench_find_system_libaio(NULL, o.system_lib, sizeof(o.system_lib),
				 &o.system_why);
	sizes[CORE_COST] = o.cost_size;
	sizes[CORE_DIRECT] = o.direct_size;
	for (unsigned t = 0; t < CORE_NTESTS; t++) {
		int fd = -1;

		results[t] = calloc(core_nmethods, sizeof(*results[t]));
		if (!results[t])
			die("out of memory");
		if (setup_results(&o, t, results[t]) && o.run_test[t])
			fd = prepare(&o, t, sizes[t]);
		if (fd >= 0) {
			failed |= core_rounds(&o, results[t], t, fd, sizes[t]);
			close(fd);
		}
		for (unsigned i = 0; i < core_nmethods; i++)
			core_summarise(&results[t][i]);
	}
	if (o.json)
		core_print_json(&o, results);
	else
		core_print_text(&o, results);
	for (unsigned t = 0; t < CORE_NTESTS; t++) {
		for (unsigned i = 0; i < core_nmethods; i++)
			free(results[t][i].v);
		free(results[t]);
	}
	return failed ? 1 : 0;
}
