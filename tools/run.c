/*
 * run.c - uaio run: an unmodified program on uaio's libaio.so.1.
 *
 * The dynamic loader looks in LD_LIBRARY_PATH before the system paths (and
 * before a RUNPATH), so putting the directory of the libaio.so.1 this
 * command itself loaded first there makes a program linked against
 * libaio.so.1 load uaio's.  The engine and the other settings travel in the
 * UAIO_* environment variables the library reads at io_setup.  With --stats
 * the library appends one JSON line per context to the file named by
 * UAIO_STATS (when the context is destroyed, or at exit), and the command
 * stays around to print them once the program is done.
 */
#include "json.h"
#include "tool.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uaio.h>

static void usage(FILE *f)
{
	fputs("Usage: uaio run [OPTION]... [--] PROGRAM [ARG]...\n"
	      "\n"
	      "Run PROGRAM, unmodified, on uaio's libaio.so.1 with the "
	      "engine chosen.\n"
	      "\n"
	      "The directory of the libaio.so.1 that this command loaded "
	      "is put first in\n"
	      "LD_LIBRARY_PATH, so a program linked against libaio.so.1 (the "
	      "system's) loads\n"
	      "uaio's instead; the options become the environment variables "
	      "the library\n"
	      "reads.  The loader ignores LD_LIBRARY_PATH for setuid and "
	      "setgid programs,\n"
	      "and does not let it override a DT_RPATH (an old-style RPATH, "
	      "not RUNPATH)\n"
	      "that names a directory holding another libaio.so.1: use "
	      "--preload for those.\n"
	      "\n"
	      "Options:\n"
	      "  -e, --engine LIST  the engine: kernel, uring, threads, auto "
	      "(kernel, then\n"
	      "                     uring, then threads), or a preference "
	      "list such as\n"
	      "                     uring,threads (sets UAIO_ENGINE; "
	      "default: as set, else\n"
	      "                     auto)\n"
	      "  -t, --threads N    worker threads per context of the threads "
	      "engine, 1 to\n"
	      "                     4096 (sets UAIO_THREADS)\n"
	      "  -s, --stats        when the program is done, print on stderr "
	      "what each of\n"
	      "                     its AIO contexts did: requests by opcode, "
	      "completed,\n"
	      "                     cancelled, errors (completions with a "
	      "negative res other\n"
	      "                     than -ECANCELED), deepest queue, and "
	      "latency percentiles\n"
	      "                     (submit to completion; on the kernel "
	      "engine submit to\n"
	      "                     reap).  The library writes them to a "
	      "temporary file named\n"
	      "                     by UAIO_STATS, removed afterwards\n"
	      "  -d, --debug        let the library explain its choices on "
	      "stderr (sets\n"
	      "                     UAIO_DEBUG=1)\n"
	      "  -p, --preload      also put uaio's libaio.so.1 in LD_PRELOAD, "
	      "which wins over\n"
	      "                     a DT_RPATH too (it is then loaded into "
	      "every program\n"
	      "                     started, not only those that use "
	      "libaio)\n"
	      "  -h, --help         print this help and exit\n"
	      "\n"
	      "Without --stats the command replaces itself with PROGRAM; "
	      "with it, it waits\n"
	      "for PROGRAM, passing on SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 "
	      "(SIGINT and\n"
	      "SIGQUIT from a terminal reach PROGRAM directly).\n"
	      "\n"
	      "Exit status: PROGRAM's; if PROGRAM was killed by a signal, "
	      "'uaio run --stats'\n"
	      "kills itself with the same signal after printing.  126 when "
	      "PROGRAM cannot be\n"
	      "run, 127 when it is not found, 1 on another failure, 2 on a "
	      "usage error.\n",
	      f);
}

static void check_engines(const char *list)
{
	char *copy = strdup(list), *save = NULL, *tok;

	if (!copy)
		die("out of memory");
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		/* The library allows blanks around names, so do we. */
		tok += strspn(tok, " \t");
		tok[strcspn(tok, " \t")] = 0;
		static const char *const known[] = {UAIO_ENGINE_NAMES, "auto"};
		bool ok = false;

		for (size_t i = 0; i < UAIO_NENGINES + 1; i++)
			ok |= !strcmp(tok, known[i]);
		if (!ok)
			usage_error("--engine: unknown engine '%s' (kernel, "
				    "uring, threads or auto)",
				    tok);
	}
	free(copy);
	if (!list[0] || list[strlen(list) - 1] == ',' || list[0] == ',' ||
	    strstr(list, ",,"))
		usage_error("--engine: empty name in '%s'", list);
}

/* Tell the user now, rather than through an io_setup failure later. */
static void warn_unusable(const char *list)
{
	char *copy = strdup(list), *save = NULL, *tok;
	char why[UAIO_REASON_MAX];
	bool any = false;

	if (!copy)
		die("out of memory");
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		int r;

		tok += strspn(tok, " \t");
		tok[strcspn(tok, " \t")] = 0;
		if (!strcmp(tok, "auto")) {
			any = true;
			continue;
		}
		why[0] = 0;
		r = uaio_probe(tok, why, sizeof(why));
		if (!r) {
			any = true;
			continue;
		}
		tool_err("warning: engine %s is not usable here: %s", tok,
			 why[0] ? why : strerror(-r));
	}
	if (!any)
		tool_err("warning: no engine in '%s' is usable here: the "
			 "program's io_setup calls will fail with ENOSYS",
			 list);
	free(copy);
}

/* The program's path as execvp() would find it, for the setuid check. */
static bool find_program(const char *prog, char *out, size_t len)
{
	const char *path = getenv("PATH");
	char *copy, *save = NULL, *dir;
	bool found = false;

	if (strchr(prog, '/')) {
		snprintf(out, len, "%s", prog);
		return access(out, F_OK) == 0;
	}
	copy = strdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	if (!copy)
		die("out of memory");
	for (dir = strtok_r(copy, ":", &save); dir;
	     dir = strtok_r(NULL, ":", &save)) {
		snprintf(out, len, "%s/%s", *dir ? dir : ".", prog);
		if (access(out, X_OK) == 0) {
			found = true;
			break;
		}
	}
	free(copy);
	return found;
}

static void prepend_env(const char *var, const char *val, char sep)
{
	const char *old = getenv(var);
	char *s;

	if (old && *old) {
		if (asprintf(&s, "%s%c%s", val, sep, old) < 0)
			die("out of memory");
	} else {
		s = strdup(val);
		if (!s)
			die("out of memory");
	}
	if (setenv(var, s, 1))
		die("setenv %s: %s", var, strerror(errno));
	free(s);
}

/* ---- the statistics table ---- */

static const char *const op_names[] = {"pread", "pwrite", "preadv", "pwritev",
				       "fsync", "fdsync", "poll"};
#define NOPS (sizeof(op_names) / sizeof(op_names[0]))

static void ns_cell(struct table *t, unsigned col, double ns)
{
	char b[32];

	fmt_ns(b, sizeof(b), ns);
	table_set(t, col, "%s", b);
}

/* Print the per-context table from the stats file; the number of contexts. */
static int print_stats(const char *path)
{
	static const char *const tail_head[] = {
	    "completed", "cancelled", "errors", "max depth",
	    "p50",	 "p90",	      "p99",	"max"};
	const char *head[3 + NOPS + 8];
	bool right[3 + NOPS + 8];
	bool show[NOPS] = {false};
	unsigned col_of[NOPS], ncols = 3;
	struct json **ctx = NULL;
	unsigned n = 0, nctx = 0, bad = 0;
	double sum[NOPS + 4] = {0};
	char *line = NULL;
	size_t cap = 0;
	struct table t;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		tool_err("cannot read the statistics (%s): %s", path,
			 strerror(errno));
		return -1;
	}
	for (unsigned lineno = 1; getline(&line, &cap, f) > 0; lineno++) {
		char err[128];
		struct json *j;

		line[strcspn(line, "\n")] = 0;
		if (!line[0])
			continue;
		j = json_parse(line, err, sizeof(err));
		if (!j || j->type != JSON_OBJ) {
			if (bad++ < 3)
				tool_err("statistics line %u unreadable (%s): "
					 "%.80s",
					 lineno, j ? "not an object" : err,
					 line);
			json_free(j);
			continue;
		}
		if (n == nctx) {
			nctx = nctx ? 2 * nctx : 64;
			ctx = realloc(ctx, nctx * sizeof(*ctx));
			if (!ctx)
				die("out of memory");
		}
		ctx[n++] = j;
	}
	free(line);
	fclose(f);
	if (!n) {
		free(ctx);
		fprintf(stderr,
			"uaio: no AIO context statistics were written: the "
			"program created no\n"
			"context, or did not load uaio's libaio.so.1 (a "
			"setuid program, a static\n"
			"one, or a DT_RPATH: see 'uaio run --help').\n");
		return 0;
	}

	/* Opcode columns only for opcodes some context used. */
	for (unsigned i = 0; i < n; i++)
		for (unsigned k = 0; k < NOPS; k++)
			if (json_num(json_get(ctx[i], "ops"), op_names[k], 0))
				show[k] = true;
	head[0] = "pid";
	head[1] = "context";
	head[2] = "engine";
	right[0] = true;
	right[1] = right[2] = false;
	for (unsigned k = 0; k < NOPS; k++)
		if (show[k]) {
			col_of[k] = ncols;
			right[ncols] = true;
			head[ncols++] = op_names[k];
		}
	for (unsigned k = 0; k < 8; k++) {
		right[ncols] = true;
		head[ncols++] = tail_head[k];
	}
	table_init(&t, ncols, head, right);
	for (unsigned i = 0; i < n; i++) {
		const struct json *ops = json_get(ctx[i], "ops"),
				  *lat = json_get(ctx[i], "lat_ns"),
				  *eng = json_get(ctx[i], "engine"),
				  *id = json_get(ctx[i], "ctx");
		unsigned c = ncols - 8;

		table_row(&t);
		table_set(&t, 0, "%.0f", json_num(ctx[i], "pid", -1));
		table_set(&t, 1, "%s", id && id->str ? id->str : "?");
		table_set(&t, 2, "%s", eng && eng->str ? eng->str : "?");
		for (unsigned k = 0; k < NOPS; k++) {
			double v = json_num(ops, op_names[k], 0);

			sum[k] += v;
			if (show[k])
				table_set(&t, col_of[k], "%.0f", v);
		}
		sum[NOPS] += json_num(ctx[i], "completed", 0);
		sum[NOPS + 1] += json_num(ctx[i], "cancelled", 0);
		sum[NOPS + 2] += json_num(ctx[i], "errors", 0);
		if (json_num(ctx[i], "max_depth", 0) > sum[NOPS + 3])
			sum[NOPS + 3] = json_num(ctx[i], "max_depth", 0);
		table_set(&t, c++, "%.0f", json_num(ctx[i], "completed", 0));
		table_set(&t, c++, "%.0f", json_num(ctx[i], "cancelled", 0));
		table_set(&t, c++, "%.0f", json_num(ctx[i], "errors", 0));
		table_set(&t, c++, "%.0f", json_num(ctx[i], "max_depth", 0));
		if (json_num(ctx[i], "completed", 0) > 0) {
			ns_cell(&t, c++, json_num(lat, "p50", -1));
			ns_cell(&t, c++, json_num(lat, "p90", -1));
			ns_cell(&t, c++, json_num(lat, "p99", -1));
			ns_cell(&t, c++, json_num(lat, "max", -1));
		}
	}
	if (n > 1) {
		unsigned c = ncols - 8;

		table_row(&t);
		table_set(&t, 0, "all");
		table_set(&t, 2, "%u contexts", n);
		for (unsigned k = 0; k < NOPS; k++)
			if (show[k])
				table_set(&t, col_of[k], "%.0f", sum[k]);
		for (unsigned k = 0; k < 4; k++)
			table_set(&t, c++, "%.0f", sum[NOPS + k]);
	}
	fflush(stdout);
	fprintf(stderr, "\nuaio: what each AIO context did (latency: submit "
			"to completion, to reap on the kernel engine)\n");
	table_print(&t, stderr, "");
	if (bad)
		fprintf(stderr,
			"uaio: %u statistics line%s could not be read\n", bad,
			bad == 1 ? "" : "s");
	table_free(&t);
	for (unsigned i = 0; i < n; i++)
		json_free(ctx[i]);
	free(ctx);
	return (int)n;
}

/* ---- waiting for the program ---- */

static volatile sig_atomic_t child_pid;

static void forward(int sig)
{
	if (child_pid > 0)
		kill((pid_t)child_pid, sig);
}

static int run_and_report(char **argv, const char *stats)
{
	static const int fwd[] = {SIGTERM, SIGHUP, SIGUSR1, SIGUSR2};
	struct sigaction sa, ign, old_int, old_quit;
	int p[2], st, err = 0;
	pid_t pid;
	ssize_t r;

	/* The child reports a failed exec on a close-on-exec pipe. */
	if (pipe2(p, O_CLOEXEC))
		die("pipe: %s", strerror(errno));
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (!pid) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGQUIT, &old_quit, NULL);
		close(p[0]);
		execvp(argv[0], argv);
		err = errno;
		r = write(p[1], &err, sizeof(err));
		(void)r;
		_exit(err == ENOENT ? 127 : 126);
	}
	child_pid = pid;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = forward;
	sa.sa_flags = SA_RESTART;
	for (size_t i = 0; i < sizeof(fwd) / sizeof(fwd[0]); i++)
		sigaction(fwd[i], &sa, NULL);
	close(p[1]);
	do
		r = read(p[0], &err, sizeof(err));
	while (r < 0 && errno == EINTR);
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	child_pid = 0;
	if (r == sizeof(err)) {
		tool_err("%s: %s", argv[0], strerror(err));
		unlink(stats);
		return err == ENOENT ? 127 : 126;
	}

	print_stats(stats);
	unlink(stats);
	if (WIFSIGNALED(st)) {
		struct rlimit no_core = {0, 0};
		int sig = WTERMSIG(st);

		/* Die the same way, so the caller sees what it would have
		 * seen without us; no core of our own. */
		setrlimit(RLIMIT_CORE, &no_core);
		signal(sig, SIG_DFL);
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGQUIT, &old_quit, NULL);
		raise(sig);
		return 128 + sig;
	}
	return WEXITSTATUS(st);
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"engine", required_argument, NULL, 'e'},
	    {"threads", required_argument, NULL, 't'},
	    {"stats", no_argument, NULL, 's'},
	    {"debug", no_argument, NULL, 'd'},
	    {"preload", no_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *engine = NULL, *threads = NULL;
	bool stats = false, debug = false, preload = false;
	char lib[PATH_MAX], dir[PATH_MAX], prog[PATH_MAX];
	char stats_path[PATH_MAX] = "";
	struct stat sb;
	int c, r;

	opterr = 0;
	optind = 1;
	/* '+': the program's own options are not ours. */
	while ((c = getopt_long(argc, argv, "+:e:t:sdph", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			engine = optarg;
			check_engines(engine);
			break;
		case 't':
			parse_uint("--threads", optarg, 1, 4096);
			threads = optarg;
			break;
		case 's':
			stats = true;
			break;
		case 'd':
			debug = true;
			break;
		case 'p':
			preload = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			usage_error("%s needs an argument", argv[optind - 1]);
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		usage_error("no program to run");
	argv += optind;

	r = uaio_lib_path(lib, sizeof(lib));
	if (r)
		die("cannot tell where uaio's libaio.so.1 is: %s",
		    strerror(-r));
	snprintf(dir, sizeof(dir), "%s", lib);
	*strrchr(dir, '/') = 0;
	if (find_program(argv[0], prog, sizeof(prog)) && stat(prog, &sb) == 0 &&
	    (sb.st_mode & (S_ISUID | S_ISGID)))
		tool_err("warning: %s is set%s: the loader ignores "
			 "LD_LIBRARY_PATH and LD_PRELOAD for it, so it will "
			 "not run on uaio",
			 prog, sb.st_mode & S_ISUID ? "uid" : "gid");

	prepend_env("LD_LIBRARY_PATH", dir, ':');
	if (preload)
		prepend_env("LD_PRELOAD", lib, ' ');
	if (engine) {
		warn_unusable(engine);
		setenv("UAIO_ENGINE", engine, 1);
	}
	if (threads)
		setenv("UAIO_THREADS", threads, 1);
	if (debug)
		setenv("UAIO_DEBUG", "1", 1);
	if (stats) {
		const char *tmp = getenv("TMPDIR");
		char base[PATH_MAX];
		int fd;

		if (!tmp || !*tmp || !realpath(tmp, base))
			snprintf(base, sizeof(base), "/tmp");
		snprintf(stats_path, sizeof(stats_path),
			 "%.4000s/uaio-stats.XXXXXX", base);
		fd = mkostemp(stats_path, O_CLOEXEC);
		if (fd < 0)
			die("cannot make the statistics file in %s: %s", base,
			    strerror(errno));
		close(fd);
		setenv("UAIO_STATS", stats_path, 1);
		return run_and_report(argv, stats_path);
	}
	execvp(argv[0], argv);
	r = errno;
	tool_err("%s: %s", argv[0], strerror(r));
	return r == ENOENT ? 127 : 126;
}
