/*
 * core.c - uaio-bench-core: what an AIO request costs, and what O_DIRECT
 * reads achieve, through the system libaio, each uaio engine, liburing,
 * glibc's POSIX AIO and plain pread, all in one run.
 *
 * The driver re-executes itself once per (method, run) with the environment
 * that selects the library (LD_LIBRARY_PATH=<uaio's build dir> and
 * UAIO_ENGINE=<engine> for uaio; neither for anything else): the binary links
 * the system's libaio.so.1 by its full path and carries no RUNPATH, so
 * LD_LIBRARY_PATH alone decides which libaio.so.1 a child gets.  Methods take
 * turns within each round, the first one rotating, so that machine noise
 * falls on all of them alike.  It reports; it does not judge: missed targets
 * still exit 0.
 */
#include "args.h"
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef UAIO_BENCH_LIBDIR
#define UAIO_BENCH_LIBDIR "."
#endif
#define TMPFS_MAGIC_ 0x01021994

const struct bench_method bench_methods[] = {
    {"libaio", "libaio (system)", API_LIBAIO, NULL, {true, true}},
    {"uaio-kernel", "uaio kernel", API_LIBAIO, "kernel", {true, true}},
    {"uaio-threads", "uaio threads", API_LIBAIO, "threads", {true, true}},
    {"uaio-uring", "uaio uring", API_LIBAIO, "uring", {true, true}},
    {"liburing", "liburing", API_URING, NULL, {true, true}},
    {"posix-aio", "glibc POSIX AIO", API_POSIX, NULL, {true, true}},
    /* One read at a time is no reference for a device at depth 32. */
    {"pread", "pread loop", API_PREAD, NULL, {true, false}},
};
const unsigned bench_nmethods =
    sizeof(bench_methods) / sizeof(bench_methods[0]);

_Static_assert(sizeof(bench_methods) / sizeof(bench_methods[0]) <=
		   BENCH_MAX_METHODS,
	       "raise BENCH_MAX_METHODS");

static const char *const test_names[BENCH_NTESTS] = {"cost", "direct"};

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: uaio-bench-core [options]\n"
	    "\n"
	    "Measures, in one run, each libaio implementation against the "
	    "others:\n"
	    "  cost    ns per 4 KiB read at random offsets of a cached 1 MiB "
	    "file,\n"
	    "          depth %d, submitted in batches, reaped as they come "
	    "(median of runs);\n"
	    "  direct  IOPS of O_DIRECT random 4 KiB reads at depth %d "
	    "(median of runs).\n"
	    "Methods: libaio (the system's, the reference), uaio-kernel, "
	    "uaio-threads,\n"
	    "uaio-uring (uaio's libaio.so.1 with UAIO_ENGINE set), "
	    "liburing, posix-aio\n"
	    "(aio_read + aio_suspend), pread (the floor; cost only).\n"
	    "\n"
	    "Options:\n"
	    "  --ops N            reads per cost run (default 2000000)\n"
	    "  --runs R           runs per method and test (default 5)\n"
	    "  --direct-size SIZE O_DIRECT file size, suffix K/M/G "
	    "(default 1G)\n"
	    "  --seconds S        length of each O_DIRECT run (default 5)\n"
	    "  --dir DIR          scratch directory (default $TMPDIR, else "
	    "/tmp)\n"
	    "  --methods LIST     comma-separated subset of the methods "
	    "above\n"
	    "  --only TEST        run only the cost or the direct test\n"
	    "  --uaio-lib DIR     directory of uaio's libaio.so.1\n"
	    "                     (default %s)\n"
	    "  --quick            a smoke run: --ops 50000 --runs 3 "
	    "--direct-size 64M\n"
	    "                     --seconds 0.5 (explicit options still "
	    "apply)\n"
	    "  --json             JSON on stdout instead of the table\n"
	    "  --help             this text\n"
	    "\n"
	    "Progress goes to stderr.  Exit status: 0 when every method "
	    "that could run\n"
	    "ran (missed targets included), 1 when one failed or the "
	    "scratch files\n"
	    "could not be made, 2 on a usage error.\n",
	    BENCH_COST_DEPTH, BENCH_DIRECT_DEPTH, UAIO_BENCH_LIBDIR);
}

static int method_index(const char *name)
{
	unsigned i;

	for (i = 0; i < bench_nmethods; i++)
		if (!strcmp(bench_methods[i].name, name))
			return (int)i;
	return -1;
}

static void parse_methods(const char *list, bool *selected)
{
	char *copy = strdup(list), *save = NULL, *tok;
	bool any = false;

	if (!copy)
		die("out of memory");
	memset(selected, 0, bench_nmethods * sizeof(*selected));
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		int i = method_index(tok);

		if (i < 0)
			usage_error("--methods: unknown method '%s'", tok);
		selected[i] = true;
		any = true;
	}
	free(copy);
	if (!any)
		usage_error("--methods: empty list");
}

static bool progress_tty;

static void progress_done(void)
{
	if (progress_tty)
		fprintf(stderr, "\r\033[K");
}

/* A nameless scratch file: nothing is left behind, however we exit. */
static int scratch_file(const char *dir)
{
	char path[4096];
	int fd;

	fd = open(dir, O_TMPFILE | O_RDWR, 0600);
	if (fd >= 0)
		return fd;
	snprintf(path, sizeof(path), "%s/uaio-bench-core.XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0)
		die("cannot create a file in %s: %s", dir, strerror(errno));
	unlink(path);
	return fd;
}

static void fill(char *buf, size_t len, uint64_t seed)
{
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t v = bench_rand(&seed);

		memcpy(buf + i, &v, 8);
	}
}

/* Write size bytes into fd; with O_DIRECT so that none stays in the page cache.
 */
static int write_file(int fd, uint64_t size, bool direct, char *why, size_t len)
{
	const size_t chunk = 1 << 20;
	char path[64], *buf;
	uint64_t off, seed = 0x5eed5eed5eedull;
	int wfd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	wfd = open(path, O_WRONLY | O_CLOEXEC | (direct ? O_DIRECT : 0));
	if (wfd < 0) {
		snprintf(why, len, "open %s%s: %s", path,
			 direct ? " with O_DIRECT" : "", strerror(errno));
		return -1;
	}
	buf = bench_buffers(chunk / BENCH_BS);
	if (!buf)
		die("out of memory");
	for (off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;
		ssize_t w;

		/* Distinct data per chunk: nothing below can share blocks. */
		fill(buf, chunk, seed + off);
		w = pwrite(wfd, buf, n, (off_t)off);
		if (w != (ssize_t)n) {
			snprintf(why, len, "writing the scratch file: %s",
				 w < 0 ? strerror(errno) : "short write");
			free(buf);
			close(wfd);
			return -1;
		}
		if (progress_tty && direct && !(off % (64 * chunk)))
			fprintf(stderr,
				"\r\033[Kpreparing the O_DIRECT file: "
				"%" PRIu64 "%%",
				off * 100 / size);
	}
	free(buf);
	if (fsync(wfd)) {
		snprintf(why, len, "fsync: %s", strerror(errno));
		close(wfd);
		return -1;
	}
	close(wfd);
	progress_done();
	return 0;
}

static double child_timeout(const struct bench_opts *o, enum bench_test t)
{
	/* Generous: a hung engine must not hang the run, a slow one must
	 * finish. */
	if (t == BENCH_COST)
		return 15 + (double)o->ops * 50e-6;
	return 15 + 3 * o->seconds;
}

/*
 * Run one measurement in a child.  Returns RES_OK with *val set, or RES_NA /
 * RES_FAILED with the reason.
 */
static enum bench_state run_child(const struct bench_opts *o,
				  const struct bench_method *m,
				  enum bench_test t, int fd, uint64_t size,
				  uint64_t seed, double *val, char *reason,
				  size_t rlen)
{
	char a_fd[24], a_size[24], a_ops[24], a_sec[32], a_seed[24];
	char out[1024], *nl, *end;
	char *argv[] = {"uaio-bench-core",
			"--child",
			(char *)m->name,
			"--test",
			(char *)test_names[t],
			"--fd",
			a_fd,
			"--size",
			a_size,
			"--ops",
			a_ops,
			"--seconds",
			a_sec,
			"--seed",
			a_seed,
			NULL};
	uint64_t deadline;
	size_t got = 0;
	bool timed_out = false;
	int p[2], st;
	pid_t pid;

	snprintf(a_fd, sizeof(a_fd), "%d", fd);
	snprintf(a_size, sizeof(a_size), "%" PRIu64, size);
	snprintf(a_ops, sizeof(a_ops), "%" PRIu64, o->ops);
	snprintf(a_sec, sizeof(a_sec), "%.17g", o->seconds);
	snprintf(a_seed, sizeof(a_seed), "%" PRIu64, seed);

	if (pipe2(p, O_CLOEXEC))
		die("pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (!pid) {
		dup2(p[1], STDOUT_FILENO);
		if (m->engine) {
			setenv("LD_LIBRARY_PATH", o->uaio_dir, 1);
			setenv("UAIO_ENGINE", m->engine, 1);
		} else {
			unsetenv("LD_LIBRARY_PATH");
			unsetenv("UAIO_ENGINE");
		}
		execv("/proc/self/exe", argv);
		fprintf(stderr, "uaio-bench-core: exec /proc/self/exe: %s\n",
			strerror(errno));
		_exit(127);
	}
	close(p[1]);

	deadline = bench_now_ns() + (uint64_t)(child_timeout(o, t) * 1e9);
	for (;;) {
		struct pollfd pfd = {.fd = p[0], .events = POLLIN};
		uint64_t now = bench_now_ns();
		ssize_t r;

		if (now >= deadline) {
			kill(pid, SIGKILL);
			timed_out = true;
			break;
		}
		r = poll(&pfd, 1, (int)((deadline - now) / 1000000 + 1));
		if (r < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (r <= 0)
			continue;
		r = read(p[0], out + got, sizeof(out) - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
		if (got == sizeof(out) - 1)
			break;
	}
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	out[got] = 0;
	nl = strchr(out, '\n');
	if (nl)
		*nl = 0;

	if (timed_out) {
		snprintf(reason, rlen, "timed out after %.0f s",
			 child_timeout(o, t));
		return RES_FAILED;
	}
	if (WIFSIGNALED(st)) {
		snprintf(reason, rlen, "killed by signal %d (%s)", WTERMSIG(st),
			 strsignal(WTERMSIG(st)));
		return RES_FAILED;
	}
	if (WEXITSTATUS(st) == BENCH_EXIT_UNAVAILABLE) {
		snprintf(reason, rlen, "%.250s", out[0] ? out : "unavailable");
		return RES_NA;
	}
	if (WEXITSTATUS(st)) {
		snprintf(reason, rlen, "%.200s (exit %d)",
			 out[0] ? out : "failed", WEXITSTATUS(st));
		return RES_FAILED;
	}
	errno = 0;
	*val = strtod(out, &end);
	if (errno || end == out || !(*val > 0) || !isfinite(*val)) {
		snprintf(reason, rlen, "unreadable result '%.200s'", out);
		return RES_FAILED;
	}
	return RES_OK;
}

/*
 * All runs of one test.  Within a round every method runs once, the first
 * one rotating, with the same offsets; a method that fails or is unavailable
 * is not run again.  Returns whether one failed.
 */
static bool run_rounds(const struct bench_opts *o, struct bench_result *res,
		       enum bench_test t, int fd, uint64_t size)
{
	unsigned order[BENCH_MAX_METHODS], n = 0, r, k, i;
	bool failed = false;

	for (i = 0; i < bench_nmethods; i++)
		if (res[i].state == RES_OK)
			order[n++] = i;
	for (r = 0; r < o->runs; r++) {
		uint64_t seed = 0x9e3779b97f4a7c15ull * (r + 1);

		if (!progress_tty)
			fprintf(stderr, "uaio-bench-core: %s, round %u/%u\n",
				test_names[t], r + 1, o->runs);
		for (k = 0; k < n; k++) {
			unsigned mi = order[(k + r) % n];
			const struct bench_method *m = &bench_methods[mi];
			enum bench_state st;
			double v;

			if (res[mi].state != RES_OK)
				continue;
			if (progress_tty)
				fprintf(stderr, "\r\033[K[%s %u/%u] %s",
					test_names[t], r + 1, o->runs, m->name);
			st = run_child(o, m, t, fd, size, seed, &v,
				       res[mi].reason, sizeof(res[mi].reason));
			if (st == RES_OK) {
				res[mi].v[res[mi].n++] = v;
				continue;
			}
			res[mi].state = st;
			if (st == RES_FAILED) {
				failed = true;
				progress_done();
				fprintf(stderr,
					"uaio-bench-core: %s %s failed: %s\n",
					m->name, test_names[t], res[mi].reason);
			}
		}
	}
	progress_done();
	return failed;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void summarise(struct bench_result *r)
{
	double *s;

	if (r->state != RES_OK)
		return;
	s = malloc(r->n * sizeof(*s));
	if (!s)
		die("out of memory");
	memcpy(s, r->v, r->n * sizeof(*s));
	qsort(s, r->n, sizeof(*s), cmp_double);
	r->min = s[0];
	r->max = s[r->n - 1];
	r->median =
	    r->n % 2 ? s[r->n / 2] : (s[r->n / 2 - 1] + s[r->n / 2]) / 2;
	free(s);
}

static int child_main(const char *method, const char *test, int fd,
		      uint64_t size, uint64_t ops, double seconds,
		      uint64_t seed)
{
	struct bench_job job = {
	    .fd = fd,
	    .file_size = size,
	    .ops = ops,
	    .seconds = seconds,
	    .seed = seed,
	};
	int i = method_index(method);

	if (i < 0 || fd < 0 || size < BENCH_BS)
		usage_error("--child: bad arguments");
	if (!strcmp(test, "cost"))
		job.test = BENCH_COST;
	else if (!strcmp(test, "direct"))
		job.test = BENCH_DIRECT;
	else
		usage_error("--test: unknown test '%s'", test);
	return bench_child(&bench_methods[i], &job);
}

enum {
	OPT_OPS = 256,
	OPT_RUNS,
	OPT_DIRECT_SIZE,
	OPT_SECONDS,
	OPT_DIR,
	OPT_METHODS,
	OPT_ONLY,
	OPT_UAIO_LIB,
	OPT_QUICK,
	OPT_JSON,
	OPT_HELP,
	/* internal: the measuring child */
	OPT_CHILD,
	OPT_TEST,
	OPT_FD,
	OPT_SIZE,
	OPT_SEED,
};

static const struct option long_opts[] = {
    {"ops", required_argument, NULL, OPT_OPS},
    {"runs", required_argument, NULL, OPT_RUNS},
    {"direct-size", required_argument, NULL, OPT_DIRECT_SIZE},
    {"seconds", required_argument, NULL, OPT_SECONDS},
    {"dir", required_argument, NULL, OPT_DIR},
    {"methods", required_argument, NULL, OPT_METHODS},
    {"only", required_argument, NULL, OPT_ONLY},
    {"uaio-lib", required_argument, NULL, OPT_UAIO_LIB},
    {"quick", no_argument, NULL, OPT_QUICK},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, OPT_HELP},
    {"child", required_argument, NULL, OPT_CHILD},
    {"test", required_argument, NULL, OPT_TEST},
    {"fd", required_argument, NULL, OPT_FD},
    {"size", required_argument, NULL, OPT_SIZE},
    {"seed", required_argument, NULL, OPT_SEED},
    {NULL, 0, NULL, 0},
};

int main(int argc, char **argv)
{
	struct bench_opts o = {0};
	struct bench_result *results[BENCH_NTESTS];
	bool set_ops = false, set_runs = false, set_size = false,
	     set_sec = false, quick = false, failed = false;
	const char *child = NULL, *child_test = "cost", *tmp;
	uint64_t child_size = 0, child_seed = 1;
	int child_fd = -1, c, fds[BENCH_NTESTS] = {-1, -1};
	uint64_t sizes[BENCH_NTESTS];
	unsigned runnable[BENCH_NTESTS] = {0}, listed[BENCH_NTESTS] = {0};
	char libpath[4096];
	unsigned i, t;

	tool_name = "uaio-bench-core";
	for (i = 0; i < bench_nmethods; i++)
		o.selected[i] = true;
	o.run_test[BENCH_COST] = o.run_test[BENCH_DIRECT] = true;
	o.ops = 2000000;
	o.runs = 5;
	o.cost_size = 1 << 20;
	o.direct_size = 1ull << 30;
	o.seconds = 5;
	o.uaio_dir = UAIO_BENCH_LIBDIR;
	tmp = getenv("TMPDIR");
	o.dir = tmp && *tmp ? tmp : "/tmp";

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_OPS:
			o.ops = parse_uint("--ops", optarg, 0, UINT64_MAX);
			set_ops = true;
			if (!o.ops)
				usage_error("--ops must be at least 1");
			break;
		case OPT_RUNS: {
			uint64_t v =
			    parse_uint("--runs", optarg, 0, UINT64_MAX);

			if (!v || v > 1000)
				usage_error("--runs must be 1 to 1000");
			o.runs = (unsigned)v;
			set_runs = true;
			break;
		}
		case OPT_DIRECT_SIZE:
			o.direct_size = parse_size("--direct-size", optarg);
			set_size = true;
			if (o.direct_size < BENCH_BS ||
			    o.direct_size % BENCH_BS)
				usage_error("--direct-size must be a "
					    "multiple of %d",
					    BENCH_BS);
			break;
		case OPT_SECONDS:
			o.seconds = parse_seconds("--seconds", optarg);
			set_sec = true;
			break;
		case OPT_DIR:
			o.dir = optarg;
			break;
		case OPT_METHODS:
			parse_methods(optarg, o.selected);
			break;
		case OPT_ONLY:
			if (!strcmp(optarg, "cost"))
				o.run_test[BENCH_DIRECT] = false;
			else if (!strcmp(optarg, "direct"))
				o.run_test[BENCH_COST] = false;
			else
				usage_error("--only: 'cost' or 'direct', "
					    "not '%s'",
					    optarg);
			break;
		case OPT_UAIO_LIB:
			o.uaio_dir = optarg;
			break;
		case OPT_QUICK:
			quick = true;
			break;
		case OPT_JSON:
			o.json = true;
			break;
		case 'h':
		case OPT_HELP:
			usage(stdout);
			return 0;
		case OPT_CHILD:
			child = optarg;
			break;
		case OPT_TEST:
			child_test = optarg;
			break;
		case OPT_FD:
			child_fd =
			    (int)(parse_uint("--fd", optarg, 0, UINT64_MAX) &
				  INT_MAX);
			break;
		case OPT_SIZE:
			child_size =
			    parse_uint("--size", optarg, 0, UINT64_MAX);
			break;
		case OPT_SEED:
			child_seed =
			    parse_uint("--seed", optarg, 0, UINT64_MAX);
			break;
		case ':':
			usage_error("%s needs an argument", argv[optind - 1]);
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (child)
		return child_main(child, child_test, child_fd, child_size,
				  o.ops, o.seconds, child_seed);

	if (quick) {
		if (!set_ops)
			o.ops = 50000;
		if (!set_runs)
			o.runs = 3;
		if (!set_size)
			o.direct_size = 64 << 20;
		if (!set_sec)
			o.seconds = 0.5;
	}
	progress_tty = isatty(STDERR_FILENO);

	snprintf(libpath, sizeof(libpath), "%s/libaio.so.1", o.uaio_dir);
	for (t = 0; t < BENCH_NTESTS; t++) {
		results[t] = calloc(bench_nmethods, sizeof(*results[t]));
		if (!results[t])
			die("out of memory");
		for (i = 0; i < bench_nmethods; i++) {
			struct bench_result *res = &results[t][i];

			if (!o.run_test[t] || !o.selected[i] ||
			    !bench_methods[i].tests[t])
				continue;
			res->state = RES_OK;
			res->v = calloc(o.runs, sizeof(*res->v));
			if (!res->v)
				die("out of memory");
			if (bench_methods[i].engine && access(libpath, R_OK)) {
				res->state = RES_NA;
				snprintf(res->reason, sizeof(res->reason),
					 "uaio not built? %.160s: %.60s",
					 libpath, strerror(errno));
			}
			if (res->state == RES_OK)
				runnable[t]++;
			listed[t]++;
		}
		/* A test none of the chosen methods takes is not reported. */
		if (!listed[t])
			o.run_test[t] = false;
	}

	sizes[BENCH_COST] = o.cost_size;
	sizes[BENCH_DIRECT] = o.direct_size;
	for (t = 0; t < BENCH_NTESTS; t++) {
		char why[256];
		struct statfs sf;

		if (!o.run_test[t] || !runnable[t])
			continue;
		fds[t] = scratch_file(o.dir);
		if (t == BENCH_DIRECT && !o.json && !fstatfs(fds[t], &sf) &&
		    sf.f_type == TMPFS_MAGIC_)
			fprintf(stderr,
				"uaio-bench-core: warning: %s is a tmpfs: "
				"O_DIRECT reads there measure memory, not a "
				"disk\n",
				o.dir);
		if (write_file(fds[t], sizes[t], t == BENCH_DIRECT, why,
			       sizeof(why))) {
			if (t == BENCH_COST)
				die("%.120s: %.120s", o.dir, why);
			/* A file system without O_DIRECT: report, go on. */
			snprintf(o.test_note[t], sizeof(o.test_note[t]),
				 "%.120s: %.120s", o.dir, why);
			o.run_test[t] = false;
		}
	}

	for (t = 0; t < BENCH_NTESTS; t++) {
		if (!o.run_test[t] || !runnable[t])
			continue;
		if (run_rounds(&o, results[t], (enum bench_test)t, fds[t],
			       sizes[t]))
			failed = true;
		close(fds[t]);
	}
	for (t = 0; t < BENCH_NTESTS; t++)
		for (i = 0; i < bench_nmethods; i++)
			summarise(&results[t][i]);

	if (o.json)
		bench_report_json(&o, results);
	else
		bench_report_table(&o, results);
	for (t = 0; t < BENCH_NTESTS; t++) {
		for (i = 0; i < bench_nmethods; i++)
			free(results[t][i].v);
		free(results[t]);
	}
	return failed ? 1 : 0;
}
