/*
 * spawn.c - the driver's side of a measurement: start the child, follow
 * its lines, time it out, say what became of it.
 */
#include "measure.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto.h"
#include "spec.h"

volatile sig_atomic_t bench_signal;
static volatile sig_atomic_t child_pid;

static void on_signal(int sig)
{
	bench_signal = sig;
	if (child_pid > 0)
		kill((pid_t)child_pid, SIGKILL);
}

void bench_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* In the forked child: the environment the spec asks for, then exec. */
static void __attribute__((noreturn))
exec_child(const struct bench_spec *s, struct bench_argv *a, int out)
{
	char n[16];

	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	dup2(out, STDOUT_FILENO);
	/* The one descriptor it inherits (reopened by the child). */
	fcntl(s->fd, F_SETFD, 0);
	/* Statistics cost time: only a cell that asks for them. */
	if (s->stats)
		setenv("UAIO_STATS", s->stats, 1);
	else
		unsetenv("UAIO_STATS");
	if (s->engine)
		setenv("UAIO_ENGINE", s->engine, 1);
	else
		unsetenv("UAIO_ENGINE");
	if (s->threads) {
		snprintf(n, sizeof(n), "%u", s->threads);
		setenv("UAIO_THREADS", n, 1);
	}
	execv("/proc/self/exe", a->argv);
	dprintf(STDOUT_FILENO, "e exec /proc/self/exe: %s\n", strerror(errno));
	_exit(1);
}

/* Lines from fd into out until the end, the timeout or a signal. */
static int follow(int fd, uint64_t deadline, bench_progress_fn *progress,
		  void *arg, struct bench_outcome *out, bool *garbled)
{
	char buf[4096], *nl;
	size_t got = 0;

	while (!bench_signal) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		uint64_t t = bench_now_ns();
		ssize_t n;

		if (t >= deadline)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)((deadline - t) / 1000000 + 1)) <= 0)
			continue;
		n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		got += (size_t)n;
		buf[got] = 0;
		while ((nl = strchr(buf, '\n'))) {
			*nl = 0;
			*garbled |= !bench_proto_line(buf, out, progress, arg);
			got -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, got + 1);
		}
		if (got == sizeof(buf) - 1)
			got = 0; /* a line that long is garbage */
	}
	return -EINTR;
}

/* What the child's end and its lines say together. */
static void conclude(int st, int ended, double timeout, bool garbled,
		     struct bench_outcome *out)
{
	int code = WIFEXITED(st) ? WEXITSTATUS(st) : 0;
	const char *late = out->state == BENCH_OK ? " after its result" : "";

	if (ended == -ETIMEDOUT)
		snprintf(out->reason, sizeof(out->reason),
			 "timed out after %.0f s", timeout);
	else if (WIFSIGNALED(st))
		snprintf(out->reason, sizeof(out->reason),
			 "killed by signal %d (%s)", WTERMSIG(st),
			 strsignal(WTERMSIG(st)));
	else if (!code && out->state != BENCH_OK)
		snprintf(out->reason, sizeof(out->reason), "%s",
			 garbled ? "unreadable report" : "no result");
	else if (code && (out->state == BENCH_PENDING || *late))
		snprintf(out->reason, sizeof(out->reason), "exit status %d%s",
			 code, late);
	else
		return;
	out->state = BENCH_FAILED;
}

int bench_spawn(const char *const *prefix, const struct bench_spec *spec,
		double timeout, bench_progress_fn *progress, void *arg,
		struct bench_outcome *out)
{
	struct bench_argv a;
	bool garbled = false;
	int p[2], st, ended;
	pid_t pid;

	memset(out, 0, sizeof(*out));
	if (bench_signal)
		return -EINTR;
	bench_spec_argv(spec, prefix, &a);
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (!pid)
		exec_child(spec, &a, p[1]);
	child_pid = pid;
	close(p[1]);
	ended = follow(p[0], bench_now_ns() + (uint64_t)(timeout * 1e9),
		       progress, arg, out, &garbled);
	if (ended == -ETIMEDOUT)
		kill(pid, SIGKILL);
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	child_pid = 0;
	if (ended == -EINTR)
		return -EINTR;
	conclude(st, ended, timeout, garbled, out);
	return 0;
}
