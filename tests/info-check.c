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
 *  - "auto" picked the first usable of kernel, uring, threads.
 * --expect states what the test's filter must have caused, so a filter that
 * did not bite fails the test instead of passing it vacuously: "no:EPERM"
 * is only checked for its errno when the engine exists in this build.
 * --seccomp: the report must show seccomp mode 2 with a filter.
 * --rwf probed|unprobed: RWF_HIPRI, DSYNC and SYNC (in every kernel that
 * has preadv2) must be reported accepted; or, when the test's filter denies
 * preadv2 and pwritev2, every bit "not probed" and none accepted (glibc's
 * wrappers would have made the denial look like EOPNOTSUPP).
 * Exit 0 pass, 1 fail, 2 usage.
 */
#include <errno.h>
#include <linux/io_uring.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uaio.h>

#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#endif
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

static const char *err_name(int e)
{
	switch (e) {
	case 0:
		return "ok";
	case EPERM:
		return "EPERM";
	case ENOSYS:
		return "ENOSYS";
	case EAGAIN:
		return "EAGAIN";
	case ENOMEM:
		return "ENOMEM";
	case EACCES:
		return "EACCES";
	case EINVAL:
		return "EINVAL";
	default:
		return "other";
	}
}

static int raw_io_setup(void)
{
	unsigned long ctx = 0;

	if (syscall(SYS_io_setup, 1, &ctx))
		return errno;
	syscall(SYS_io_destroy, ctx);
	return 0;
}

static int raw_io_uring_setup(void)
{
	struct io_uring_params p;
	long fd;

	memset(&p, 0, sizeof(p));
	fd = syscall(SYS_io_uring_setup, 1, &p);
	if (fd < 0)
		return errno;
	close((int)fd);
	return 0;
}

/*
 * The value of "key" in the object that starts at or after from, as text:
 * a string without its quotes, or a bare word.  Stops at the object's end.
 */
static bool field(const char *from, const char *key, char *out, size_t len)
{
	char pat[64];
	const char *p, *end;
	size_t n;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	end = strchr(from, '}');
	p = strstr(from, pat);
	if (!p || (end && p > end))
		return false;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	if (*p == '"') {
		p++;
		n = strcspn(p, "\"");
	} else {
		n = strcspn(p, ",} \n");
	}
	snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), p);
	return true;
}

/* Where the engine's object begins in the report. */
static const char *engine_obj(const char *json, const char *name)
{
	char pat[64];

	snprintf(pat, sizeof(pat), "{\"name\": \"%s\"", name);
	return strstr(json, pat);
}

static char *run_info(const char *uaio)
{
	static char buf[1 << 16];
	size_t got = 0;
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
	return buf;
}

int main(int argc, char **argv)
{
	const char *expect[3] = {NULL, NULL, NULL};
	bool want_seccomp = false;
	const char *rwf = NULL;
	char v[256], v2[256];
	const char *uaio = NULL, *json;
	int sys_setup, sys_uring, first_usable = -1;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--expect") && i + 1 < argc) {
			char *eq = strchr(argv[++i], '=');
			int e;

			for (e = 0; e < 3; e++)
				if (eq &&
				    !strncmp(argv[i], engines[e],
					     (size_t)(eq - argv[i])) &&
				    strlen(engines[e]) ==
					(size_t)(eq - argv[i]))
					break;
			if (e == 3) {
				fprintf(stderr, "info-check: bad --expect %s\n",
					argv[i]);
				return 2;
			}
			expect[e] = eq + 1;
		} else if (!strcmp(argv[i], "--seccomp")) {
			want_seccomp = true;
		} else if (!strcmp(argv[i], "--rwf") && i + 1 < argc) {
			rwf = argv[++i];
		} else if (!strcmp(argv[i], "--") && i + 1 < argc) {
			uaio = argv[i + 1];
			break;
		} else {
			fprintf(stderr, "usage: info-check [--expect "
					"ENGINE=yes|no[:ERRNO]]... "
					"[--seccomp] -- UAIO\n");
			return 2;
		}
	}
	if (!uaio) {
		fprintf(stderr, "info-check: no uaio binary given\n");
		return 2;
	}

	sys_setup = raw_io_setup();
	sys_uring = raw_io_uring_setup();
	json = run_info(uaio);
	if (!json || !*json) {
		fprintf(stderr, "info-check: FAIL: no output\n");
		return 1;
	}
	printf("%s", json);

	CHECK(field(strstr(json, "\"syscalls\"") ?: json, "io_setup", v,
		    sizeof(v)) &&
		  !strcmp(v, err_name(sys_setup)),
	      "reports io_setup = %s, this process gets %s", v,
	      err_name(sys_setup));
	CHECK(field(strstr(json, "\"syscalls\"") ?: json, "io_uring_setup", v,
		    sizeof(v)) &&
		  !strcmp(v, err_name(sys_uring)),
	      "reports io_uring_setup = %s, this process gets %s", v,
	      err_name(sys_uring));

	for (int e = 0; e < 3; e++) {
		const char *obj = engine_obj(json, engines[e]);
		bool usable, want;
		const char *want_err = NULL;

		if (!obj) {
			CHECK(0, "no entry for engine %s", engines[e]);
			continue;
		}
		CHECK(field(obj, "usable", v, sizeof(v)) &&
			  (!strcmp(v, "true") || !strcmp(v, "false")),
		      "%s: no usable field", engines[e]);
		usable = !strcmp(v, "true");
		field(obj, "error", v2, sizeof(v2));
		switch (e) {
		case 0:
			want = sys_setup == 0;
			want_err = err_name(sys_setup);
			break;
		case 1:
			want = UAIO_WITH_URING && sys_uring == 0;
			want_err =
			    UAIO_WITH_URING ? err_name(sys_uring) : "ENOSYS";
			break;
		default:
			want = true;
		}
		CHECK(usable == want, "%s: usable %s, expected %s", engines[e],
		      usable ? "true" : "false", want ? "true" : "false");
		if (!usable && !want && want_err)
			CHECK(!strcmp(v2, want_err),
			      "%s: error %s, expected %s", engines[e], v2,
			      want_err);
		if (usable && first_usable < 0)
			first_usable = e;

		if (expect[e]) {
			bool exp_usable = !strncmp(expect[e], "yes", 3);
			const char *colon = strchr(expect[e], ':');

			CHECK(usable == exp_usable,
			      "%s: usable %s, the test expects %s", engines[e],
			      usable ? "true" : "false", expect[e]);
			/* Without liburing, uring is absent, not filtered. */
			if (colon && !(e == 1 && !UAIO_WITH_URING))
				CHECK(!strcmp(v2, colon + 1),
				      "%s: error %s, the test expects %s",
				      engines[e], v2, colon + 1);
		}
	}

	CHECK(
	    field(strstr(json, "\"auto\":") ?: json, "engine", v, sizeof(v)) &&
		first_usable >= 0 && !strcmp(v, engines[first_usable]),
	    "auto chose %s, the first usable engine is %s", v,
	    first_usable >= 0 ? engines[first_usable] : "none");

	if (want_seccomp) {
		const char *s = strstr(json, "\"seccomp\":");

		CHECK(s && field(s, "mode", v, sizeof(v)) && !strcmp(v, "2"),
		      "seccomp mode %s, expected 2 (filter)", s ? v : "?");
		CHECK(s && field(s, "filters", v, sizeof(v)) && atoi(v) >= 1,
		      "seccomp filters %s, expected at least 1", s ? v : "?");
	}

	if (rwf && !strcmp(rwf, "probed")) {
		static const char *const known[] = {"HIPRI", "DSYNC", "SYNC"};

		for (int k = 0; k < 3; k++) {
			char pat[64];
			const char *o;

			snprintf(pat, sizeof(pat), "\"name\": \"%s\"",
				 known[k]);
			o = strstr(json, pat);
			CHECK(o && field(o, "verdict", v, sizeof(v)) &&
				  !strcmp(v, "accepted"),
			      "RWF_%s: verdict '%s', expected accepted",
			      known[k], o ? v : "(absent)");
		}
	} else if (rwf) {
		const char *o = strstr(json, "\"rwf\":");
		int n = 0;

		CHECK(o &&
			  field(strstr(o, "\"accepted_mask\":") ?: o,
				"accepted_mask", v, sizeof(v)) &&
			  !strcmp(v, "0x0"),
		      "accepted_mask %s with preadv2/pwritev2 denied", v);
		for (o = json; (o = strstr(o, "\"verdict\": ")); o++, n++) {
			field(o, "verdict", v, sizeof(v));
			CHECK(!strcmp(v, "not probed"),
			      "a flag's verdict is '%s' with preadv2/pwritev2 "
			      "denied",
			      v);
		}
		CHECK(n == 32, "%d verdicts, expected 32 (every bit)", n);
	}

	if (failures) {
		fprintf(stderr, "info-check: %d check%s failed\n", failures,
			failures == 1 ? "" : "s");
		return 1;
	}
	fprintf(stderr,
		"info-check: ok (io_setup %s, io_uring_setup %s, uring %s "
		"built in, auto = %s)\n",
		err_name(sys_setup), err_name(sys_uring),
		UAIO_WITH_URING ? "is" : "not", engines[first_usable]);
	return 0;
}
