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
 * stays around to print them once the program is done (run-stats.c).
 */
#include "run.h"
#include "tool.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uaio.h>

static const char help[] =
    "Usage: uaio run [OPTION]... [--] PROGRAM [ARG]...\n"
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
    "usage error.\n";

/* An engine name of --engine: the library's, or auto. */
static void known_engine(const char *opt, const char *name, void *arg)
{
	static const char *const known[] = {UAIO_ENGINE_NAMES, "auto"};

	(void)arg;
	for (size_t i = 0; i < UAIO_NENGINES + 1; i++)
		if (!strcmp(name, known[i]))
			return;
	usage_error("%s: unknown engine '%s' (kernel, uring, threads or auto)",
		    opt, name);
}

static void engine_list(const char *opt, const char *list, void *dest)
{
	/* The library allows blanks around names, so do we. */
	args_each(opt, list, known_engine, NULL);
	*(const char **)dest = list;
}

/* Tell the user now, rather than through an io_setup failure later. */
static void warn_unusable(const char *opt, const char *name, void *any)
{
	char why[UAIO_REASON_MAX] = "";
	int r = strcmp(name, "auto") ? uaio_probe(name, why, sizeof(why)) : 0;

	(void)opt;
	if (!r)
		*(bool *)any = true;
	else
		tool_err("warning: engine %s is not usable here: %s", name,
			 why[0] ? why : strerror(-r));
}

static void check_usable(const char *list)
{
	bool any = false;

	args_each("--engine", list, warn_unusable, &any);
	if (!any)
		tool_err("warning: no engine in '%s' is usable here: the "
			 "program's io_setup calls will fail with ENOSYS",
			 list);
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

static void warn_setid(const char *prog)
{
	char path[PATH_MAX];
	struct stat sb;

	if (find_program(prog, path, sizeof(path)) && stat(path, &sb) == 0 &&
	    (sb.st_mode & (S_ISUID | S_ISGID)))
		tool_err("warning: %s is set%s: the loader ignores "
			 "LD_LIBRARY_PATH and LD_PRELOAD for it, so it will "
			 "not run on uaio",
			 path, sb.st_mode & S_ISUID ? "uid" : "gid");
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

/* ---- waiting for the program ---- */

static volatile sig_atomic_t child_pid;
/* SIGINT and SIGQUIT as the command got them, for the program. */
static struct sigaction old_int, old_quit;

static void forward(int sig)
{
	if (child_pid > 0)
		kill((pid_t)child_pid, sig);
}

/* Die the same way as the program, so the caller sees what it would have
 * seen without us; no core of our own. */
static int die_like(int sig)
{
	struct rlimit no_core = {0, 0};

	setrlimit(RLIMIT_CORE, &no_core);
	signal(sig, SIG_DFL);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	raise(sig);
	return 128 + sig;
}

/* Start argv; a failed exec is reported on a close-on-exec pipe. */
static pid_t start(char **argv, int *errfd)
{
	int p[2], err;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		die("pipe: %s", strerror(errno));
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
		_exit(write(p[1], &err, sizeof(err)) == sizeof(err) &&
			      err == ENOENT
			  ? 127
			  : 126);
	}
	close(p[1]);
	*errfd = p[0];
	return pid;
}

static int run_and_report(char **argv, const char *stats)
{
	static const int fwd[] = {SIGTERM, SIGHUP, SIGUSR1, SIGUSR2};
	struct sigaction sa, ign;
	int errfd, st, err = 0;
	ssize_t r;

	/* SIGINT and SIGQUIT from a terminal reach the program directly. */
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	child_pid = start(argv, &errfd);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = forward;
	sa.sa_flags = SA_RESTART;
	for (size_t i = 0; i < sizeof(fwd) / sizeof(fwd[0]); i++)
		sigaction(fwd[i], &sa, NULL);
	do
		r = read(errfd, &err, sizeof(err));
	while (r < 0 && errno == EINTR);
	close(errfd);
	while (waitpid((pid_t)child_pid, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	child_pid = 0;
	if (r == sizeof(err)) {
		tool_err("%s: %s", argv[0], strerror(err));
		unlink(stats);
		return err == ENOENT ? 127 : 126;
	}
	run_print_stats(stats);
	unlink(stats);
	return WIFSIGNALED(st) ? die_like(WTERMSIG(st)) : WEXITSTATUS(st);
}

/* A temporary UAIO_STATS file; its path in path. */
static void stats_file(char *path, size_t len)
{
	const char *tmp = getenv("TMPDIR");
	char base[PATH_MAX];
	int fd;

	if (!tmp || !*tmp || !realpath(tmp, base))
		snprintf(base, sizeof(base), "/tmp");
	snprintf(path, len, "%.4000s/uaio-stats.XXXXXX", base);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		die("cannot make the statistics file in %s: %s", base,
		    strerror(errno));
	close(fd);
	setenv("UAIO_STATS", path, 1);
}

/* LD_LIBRARY_PATH (and LD_PRELOAD) lead to the library this command runs
 * on. */
static void point_to_uaio(bool preload)
{
	char lib[PATH_MAX], dir[PATH_MAX];
	int r = uaio_lib_path(lib, sizeof(lib));

	if (r)
		die("cannot tell where uaio's libaio.so.1 is: %s",
		    strerror(-r));
	snprintf(dir, sizeof(dir), "%s", lib);
	*strrchr(dir, '/') = 0;
	prepend_env("LD_LIBRARY_PATH", dir, ':');
	if (preload)
		prepend_env("LD_PRELOAD", lib, ' ');
}

int cmd_run(int argc, char **argv)
{
	const char *engine = NULL;
	unsigned threads = 0;
	bool stats = false, debug = false, preload = false;
	const struct opt opts[] = {
	    {"engine", 'e', OPT_FN, &engine, .fn = engine_list},
	    {"threads", 't', OPT_UINT, &threads, .min = 1, .max = 4096},
	    {"stats", 's', OPT_FLAG, &stats},
	    {"debug", 'd', OPT_FLAG, &debug},
	    {"preload", 'p', OPT_FLAG, &preload},
	    {NULL},
	};
	char stats_path[PATH_MAX], n[16];
	int i = args_parse(argc, argv, opts, help, ARGS_OPERANDS);

	if (i >= argc)
		usage_error("no program to run");
	argv += i;
	warn_setid(argv[0]);
	point_to_uaio(preload);
	if (engine) {
		check_usable(engine);
		setenv("UAIO_ENGINE", engine, 1);
	}
	snprintf(n, sizeof(n), "%u", threads);
	if (threads)
		setenv("UAIO_THREADS", n, 1);
	if (debug)
		setenv("UAIO_DEBUG", "1", 1);
	if (stats) {
		stats_file(stats_path, sizeof(stats_path));
		return run_and_report(argv, stats_path);
	}
	execvp(argv[0], argv);
	i = errno;
	tool_err("%s: %s", argv[0], strerror(i));
	return i == ENOENT ? 127 : 126;
}
