/*
 * info-check - does `uaio info --json` tell the truth in this process?
 *
 *   info-check [--expect ENGINE=yes|no[:ERRNO]]... [--seccomp] -- UAIO
 *
 * Runs UAIO info --json and compares what it says with what this program
 * finds by itself, in the same conditions (run it under seccomp-run to put
 * both under a filter):
 *  - the raw io_setup(1) and io_uring_setup(1) results it reports are the
 *    ones this program gets;
 *  - kernel is usable exactly when io_setup works, else its error is
 *    io_setup's; uring exactly when uaio was built with it and
 *    io_uring_setup works, else its error is io_uring_setup's (ENOSYS when
 *    not built in); threads always;
 *  - "auto" made a context of auto (the uaio command's raw AIO calls reach
 *    uaio) on the first usable of uring and threads, with O_DIRECT on
 *    kernel AIO when io_setup works, else on that engine.
 * --expect states what the test's filter must have caused, so a filter that
 * did not bite fails the test instead of passing it vacuously: "no:EPERM"
 * is only checked for its errno when the engine exists in this build.
 * --seccomp: the report must show seccomp mode 2 with a filter.
 * --rwf probed|unprobed: RWF_HIPRI, DSYNC and SYNC (in every kernel that
 * has preadv2) must be reported accepted; or, when the test's filter denies
 * preadv2 and pwritev2, every bit "not probed" and none accepted (glibc's
 * wrappers would have made the denial look like EOPNOTSUPP).
 * The report is read with the uaio command's own JSON reader (tools/json.c)
 * and the raw calls are the command's (tools/raw.c); the verdicts that are
 * checked are this program's.
 * Exit 0 pass, 1 fail, 2 usage.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uaio.h>

#include "fmt.h"
#include "json.h"
#include "raw.h"

#ifndef UAIO_WITH_URING
#define UAIO_WITH_URING 0
#endif

static const char *const engines[] = {UAIO_ENGINE_NAMES};
static int failures;

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "info-check: FAIL: ");                 \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
			failures++;                                            \
		}                                                              \
	} while (0)

struct args {
	const char *expect[UAIO_NENGINES];
	bool seccomp;
	const char *rwf;
	const char *uaio;
};

/* As uaio info names a raw call's result. */
static const char *result(int err)
{
	return err ? errno_name(err) : "ok";
}

/* The text of member key of o (a string, or "true"/"false"), or "". */
static const char *text(const struct json *o, const char *key)
{
	const struct json *v = json_get(o, key);

	if (v && v->type == JSON_STR)
		return v->str;
	if (v && v->type == JSON_BOOL)
		return v->num ? "true" : "false";
	return "";
}

static bool parse_expect(struct args *a, const char *arg)
{
	const char *eq = strchr(arg, '=');

	for (int e = 0; eq && e < UAIO_NENGINES; e++)
		if (strlen(engines[e]) == (size_t)(eq - arg) &&
		    !strncmp(arg, engines[e], (size_t)(eq - arg))) {
			a->expect[e] = eq + 1;
			return true;
		}
	fprintf(stderr, "info-check: bad --expect %s\n", arg);
	return false;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--expect") && i + 1 < argc) {
			if (!parse_expect(a, argv[++i]))
				return 2;
		} else if (!strcmp(argv[i], "--seccomp")) {
			a->seccomp = true;
		} else if (!strcmp(argv[i], "--rwf") && i + 1 < argc) {
			a->rwf = argv[++i];
		} else if (!strcmp(argv[i], "--") && i + 1 < argc) {
			a->uaio = argv[i + 1];
			return 0;
		} else {
			break;
		}
	}
	fprintf(stderr, "usage: info-check [--expect ENGINE=yes|no[:ERRNO]]... "
			"[--seccomp] [--rwf probed|unprobed] -- UAIO\n");
	return 2;
}

/* `uaio info --json`, parsed; NULL after saying why. */
static struct json *run_info(const char *uaio)
{
	static char buf[1 << 16];
	size_t got = 0;
	char err[128];
	struct json *j;
	int p[2], st;
	pid_t pid;
	ssize_t r;

	if (pipe(p))
		return NULL;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		execl(uaio, uaio, "info", "--json", (char *)NULL);
		perror("info-check: exec");
		_exit(127);
	}
	close(p[1]);
	while ((r = read(p[0], buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)r;
	close(p[0]);
	buf[got] = 0;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "uaio info --json exited with status %d", st);
	printf("%s", buf);
	j = json_parse(buf, err, sizeof(err));
	if (!j)
		fprintf(stderr, "info-check: FAIL: not JSON: %s\n", err);
	return j;
}

/* The object of array arr whose "name" is name. */
static const struct json *named(const struct json *arr, const char *name)
{
	for (const struct json *k = arr ? arr->kids : NULL; k; k = k->next)
		if (!strcmp(text(k, "name"), name))
			return k;
	return NULL;
}

/* Engine e's entry against what this process finds; whether usable. */
static bool check_engine(const struct json *report, int e, const struct args *a,
			 int sys_setup, int sys_uring)
{
	const struct json *obj = named(json_get(report, "engines"), engines[e]);
	bool usable = !strcmp(text(obj, "usable"), "true");
	const char *err = text(obj, "error"), *colon;
	bool want =
	    e == 2 || (e == 0 ? !sys_setup : UAIO_WITH_URING && !sys_uring);
	const char *want_err = e == 0		  ? result(sys_setup)
			       : !UAIO_WITH_URING ? "ENOSYS"
						  : result(sys_uring);

	CHECK(obj, "no entry for engine %s", engines[e]);
	CHECK(usable == want, "%s: usable %s, expected %s", engines[e],
	      usable ? "true" : "false", want ? "true" : "false");
	if (!usable && !want && e != 2)
		CHECK(!strcmp(err, want_err), "%s: error %s, expected %s",
		      engines[e], err, want_err);
	if (!a->expect[e])
		return usable;
	CHECK(usable == !strncmp(a->expect[e], "yes", 3),
	      "%s: usable %s, the test expects %s", engines[e],
	      usable ? "true" : "false", a->expect[e]);
	colon = strchr(a->expect[e], ':');
	/* Without liburing, uring is absent, not filtered. */
	if (colon && !(e == 1 && !UAIO_WITH_URING))
		CHECK(!strcmp(err, colon + 1),
		      "%s: error %s, the test expects %s", engines[e], err,
		      colon + 1);
	return usable;
}

static void check_rwf(const struct json *report, const char *mode)
{
	const struct json *rwf = json_get(report, "rwf");
	const struct json *flags = json_get(rwf, "flags");
	static const char *const known[] = {"HIPRI", "DSYNC", "SYNC"};
	int n = 0;

	if (!strcmp(mode, "probed")) {
		for (int k = 0; k < 3; k++) {
			const char *v = text(named(flags, known[k]), "verdict");

			CHECK(!strcmp(v, "accepted"),
			      "RWF_%s: verdict '%s', expected accepted",
			      known[k], v);
		}
		return;
	}
	CHECK(!strcmp(text(rwf, "accepted_mask"), "0x0"),
	      "accepted_mask %s with preadv2/pwritev2 denied",
	      text(rwf, "accepted_mask"));
	for (const struct json *f = flags ? flags->kids : NULL; f;
	     f = f->next, n++)
		CHECK(!strcmp(text(f, "verdict"), "not probed"),
		      "a flag's verdict is '%s' with preadv2/pwritev2 denied",
		      text(f, "verdict"));
	CHECK(n == 32, "%d verdicts, expected 32 (every bit)", n);
}

static void check_seccomp(const struct json *report)
{
	const struct json *s = json_get(report, "seccomp");

	CHECK(json_num(s, "mode", -1) == 2,
	      "seccomp mode %g, expected 2 "
	      "(filter)",
	      json_num(s, "mode", -1));
	CHECK(json_num(s, "filters", -1) >= 1,
	      "seccomp filters %g, expected at least 1",
	      json_num(s, "filters", -1));
}

/* The "auto" choice: engines[] is kernel, uring, threads. */
static void check_auto(const struct json *choice, const bool *usable)
{
	const char *base = usable[1] ? engines[1] : engines[2];
	const char *direct = usable[0] ? engines[0] : base;

	CHECK(!strcmp(text(choice, "engine"), "auto"),
	      "auto made a context on %s, not one of auto",
	      text(choice, "engine"));
	CHECK(!strcmp(text(choice, "runs_on"), base),
	      "auto runs on %s, the first usable of uring and threads is %s",
	      text(choice, "runs_on"), base);
	CHECK(!strcmp(text(choice, "o_direct_on"), direct),
	      "auto sends O_DIRECT to %s, expected %s",
	      text(choice, "o_direct_on"), direct);
}

int main(int argc, char **argv)
{
	struct args a = {0};
	int sys_setup = -raw_io_setup(), sys_uring = -raw_io_uring_setup();
	bool usable[UAIO_NENGINES];
	int r = parse_args(argc, argv, &a);
	const struct json *syscalls;
	struct json *report;

	if (r)
		return r;
	report = run_info(a.uaio);
	if (!report)
		return 1;
	syscalls = json_get(report, "syscalls");
	CHECK(!strcmp(text(syscalls, "io_setup"), result(sys_setup)),
	      "reports io_setup = %s, this process gets %s",
	      text(syscalls, "io_setup"), result(sys_setup));
	CHECK(!strcmp(text(syscalls, "io_uring_setup"), result(sys_uring)),
	      "reports io_uring_setup = %s, this process gets %s",
	      text(syscalls, "io_uring_setup"), result(sys_uring));
	for (int e = 0; e < UAIO_NENGINES; e++)
		usable[e] = check_engine(report, e, &a, sys_setup, sys_uring);
	check_auto(json_get(report, "auto"), usable);
	if (a.seccomp)
		check_seccomp(report);
	if (a.rwf)
		check_rwf(report, a.rwf);
	json_free(report);
	if (failures) {
		fprintf(stderr, "info-check: %d check%s failed\n", failures,
			failures == 1 ? "" : "s");
		return 1;
	}
	fprintf(stderr,
		"info-check: ok (io_setup %s, io_uring_setup %s, uring %s "
		"built in, auto on %s)\n",
		result(sys_setup), result(sys_uring),
		UAIO_WITH_URING ? "is" : "not",
		usable[1] ? "uring" : "threads");
	return 0;
}
