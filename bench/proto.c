/*
 * proto.c - the lines between a child and its driver, both ends, and the
 * reasons they carry.
 */
#include "proto.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int bench_reason(struct bench_why *w, bool na, int err, const char *fmt, ...)
{
	va_list ap;

	w->na = na;
	va_start(ap, fmt);
	vsnprintf(w->msg, sizeof(w->msg), fmt, ap);
	va_end(ap);
	/* One line: the protocol is line by line. */
	w->msg[strcspn(w->msg, "\n")] = 0;
	return -err;
}

/* dprintf: a line reaches the driver whole and at once, unbuffered. */
void bench_proto_progress(uint64_t ops, uint64_t ns)
{
	dprintf(STDOUT_FILENO, "p %" PRIu64 " %" PRIu64 "\n", ops, ns);
}

void bench_proto_result(const struct bench_result *r)
{
	dprintf(STDOUT_FILENO,
		"r %" PRIu64 " %" PRIu64 " %.1f %.1f %.1f %.1f %.1f\n", r->ops,
		r->ns, r->mean, r->p50, r->p99, r->max, r->submit);
}

int bench_proto_why(const struct bench_why *w)
{
	dprintf(STDOUT_FILENO, "%c %s\n", w->na ? 'u' : 'e',
		w->msg[0] ? w->msg : "failed");
	return w->na ? BENCH_EXIT_NA : 1;
}

static bool result(const char *line, struct bench_result *r)
{
	unsigned long long ops, ns;

	if (sscanf(line, "r %llu %llu %lf %lf %lf %lf %lf", &ops, &ns, &r->mean,
		   &r->p50, &r->p99, &r->max, &r->submit) != 7 ||
	    !ops || !ns)
		return false;
	r->ops = ops;
	r->ns = ns;
	return true;
}

bool bench_proto_line(const char *line, struct bench_outcome *out,
		      bench_progress_fn *progress, void *arg)
{
	unsigned long long ops, ns;

	switch (line[0]) {
	case 'p':
		if (sscanf(line, "p %llu %llu", &ops, &ns) == 2 && progress)
			progress(arg, ops, ns);
		return true;
	case 'r':
		if (!result(line, &out->r))
			return false;
		out->state = BENCH_OK;
		return true;
	case 'u':
	case 'e':
		snprintf(out->reason, sizeof(out->reason), "%s",
			 line[1] ? line + 2 : "?");
		out->state = line[0] == 'u' ? BENCH_NA : BENCH_FAILED;
		return true;
	}
	return false;
}
