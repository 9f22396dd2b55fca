/*
 * run-stats.c - what each AIO context of the program did: the JSON lines
 * the library appended to the UAIO_STATS file, as a table on stderr.
 */
#include "run.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "json.h"
#include "msg.h"
#include "text.h"

static const char *const op_names[] = {"pread", "pwrite", "preadv", "pwritev",
				       "fsync", "fdsync", "poll"};
#define NOPS (sizeof(op_names) / sizeof(op_names[0]))

/* The counters after the opcodes, summed in the "all" row (max depth: the
 * largest), and the latency percentiles. */
static const char *const counters[] = {"completed", "cancelled", "errors",
				       "max_depth"};
static const char *const percentiles[] = {"p50", "p90", "p99", "max"};
#define NCOUNT 4
#define NTAIL (NCOUNT + 4)

struct stats {
	struct json **ctx; /* one object per context */
	unsigned n, cap, bad;
	bool show[NOPS]; /* opcodes some context used */
	unsigned col[NOPS];
	double sum[NOPS + NCOUNT];
};

static void add_line(struct stats *s, const char *line, unsigned lineno)
{
	char err[128];
	struct json *j = json_parse(line, err, sizeof(err));

	if (!j || j->type != JSON_OBJ) {
		if (s->bad++ < 3)
			tool_err("statistics line %u unreadable (%s): %.80s",
				 lineno, j ? "not an object" : err, line);
		json_free(j);
		return;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->ctx = realloc(s->ctx, s->cap * sizeof(*s->ctx));
		if (!s->ctx)
			die("out of memory");
	}
	s->ctx[s->n++] = j;
}

static int read_stats(const char *path, struct stats *s)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;

	if (!f)
		return -errno;
	for (unsigned lineno = 1; getline(&line, &cap, f) > 0; lineno++) {
		line[strcspn(line, "\n")] = 0;
		if (line[0])
			add_line(s, line, lineno);
	}
	free(line);
	fclose(f);
	return 0;
}

/* The columns: pid, context, engine, the opcodes used, the tail. */
static void columns(struct stats *s, struct table *t)
{
	static const char *const tail[NTAIL] = {
	    "completed", "cancelled", "errors", "max depth",
	    "p50",	 "p90",	      "p99",	"max"};
	const char *head[3 + NOPS + NTAIL] = {"pid", "context", "engine"};
	bool right[3 + NOPS + NTAIL] = {true};
	unsigned n = 3;

	for (unsigned i = 0; i < s->n; i++)
		for (unsigned k = 0; k < NOPS; k++)
			if (json_num(json_get(s->ctx[i], "ops"), op_names[k],
				     0))
				s->show[k] = true;
	for (unsigned k = 0; k < NOPS; k++)
		if (s->show[k]) {
			s->col[k] = n;
			right[n] = true;
			head[n++] = op_names[k];
		}
	for (unsigned k = 0; k < NTAIL; k++) {
		right[n] = true;
		head[n++] = tail[k];
	}
	table_init(t, n, head, right);
}

static void context_row(struct stats *s, struct table *t, const struct json *c)
{
	const struct json *ops = json_get(c, "ops"),
			  *lat = json_get(c, "lat_ns"),
			  *eng = json_get(c, "engine"),
			  *id = json_get(c, "ctx");
	unsigned col = t->ncols - NTAIL;
	char b[32];

	table_row(t);
	table_set(t, 0, "%.0f", json_num(c, "pid", -1));
	table_set(t, 1, "%s", id && id->str ? id->str : "?");
	table_set(t, 2, "%s", eng && eng->str ? eng->str : "?");
	for (unsigned k = 0; k < NOPS; k++) {
		double v = json_num(ops, op_names[k], 0);

		s->sum[k] += v;
		if (s->show[k])
			table_set(t, s->col[k], "%.0f", v);
	}
	for (unsigned k = 0; k < NCOUNT; k++) {
		double v = json_num(c, counters[k], 0);
		double *sum = &s->sum[NOPS + k];

		*sum = k == NCOUNT - 1 ? (v > *sum ? v : *sum) : *sum + v;
		table_set(t, col++, "%.0f", v);
	}
	if (json_num(c, "completed", 0) <= 0)
		return;
	for (unsigned k = 0; k < 4; k++) {
		fmt_ns(b, sizeof(b), json_num(lat, percentiles[k], -1));
		table_set(t, col++, "%s", b);
	}
}

static void total_row(const struct stats *s, struct table *t)
{
	unsigned col = t->ncols - NTAIL;

	table_row(t);
	table_set(t, 0, "all");
	table_set(t, 2, "%u contexts", s->n);
	for (unsigned k = 0; k < NOPS; k++)
		if (s->show[k])
			table_set(t, s->col[k], "%.0f", s->sum[k]);
	for (unsigned k = 0; k < NCOUNT; k++)
		table_set(t, col++, "%.0f", s->sum[NOPS + k]);
}

int run_print_stats(const char *path)
{
	struct stats s = {0};
	struct table t;
	int r = read_stats(path, &s);

	if (r) {
		tool_err("cannot read the statistics (%s): %s", path,
			 strerror(-r));
		return r;
	}
	if (!s.n) {
		fprintf(stderr,
			"uaio: no AIO context statistics were written: the "
			"program created no\n"
			"context, or did not load uaio's libaio.so.1 (a "
			"setuid program, a static\n"
			"one, or a DT_RPATH: see 'uaio run --help').\n");
		free(s.ctx);
		return 0;
	}
	columns(&s, &t);
	for (unsigned i = 0; i < s.n; i++)
		context_row(&s, &t, s.ctx[i]);
	if (s.n > 1)
		total_row(&s, &t);
	fflush(stdout);
	fprintf(stderr, "\nuaio: what each AIO context did (latency: submit "
			"to completion, to reap on the kernel engine)\n");
	table_print(&t, stderr, "");
	if (s.bad)
		fprintf(stderr,
			"uaio: %u statistics line%s could not be read\n", s.bad,
			s.bad == 1 ? "" : "s");
	table_free(&t);
	for (unsigned i = 0; i < s.n; i++)
		json_free(s.ctx[i]);
	free(s.ctx);
	return (int)s.n;
}
