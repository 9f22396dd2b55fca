/*
 * core-rounds.c - all runs of one test, and their medians.
 *
 * Within a round every method runs once, the first one rotating, with the
 * same offsets; a method that fails or is unavailable is not run again.
 */
#include "core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

static void spec_of(const struct core_opts *o, const struct core_method *m,
		    enum core_test t, struct bench_spec *s)
{
	bool cost = t == CORE_COST;

	memset(s, 0, sizeof(*s));
	s->api = m->api;
	s->engine = m->engine;
	if (m->api == BENCH_LIBAIO)
		s->lib = m->engine ? o->uaio_lib : o->system_lib;
	s->direct = !cost;
	s->warm = cost;
	s->rw = BENCH_READ;
	s->depth = cost ? CORE_COST_DEPTH : CORE_DIRECT_DEPTH;
	s->bs = CORE_BS;
	s->ops = cost ? o->ops : 0;
	s->seconds = cost ? 0 : o->seconds; /* cost: a count alone */
}

/* Generous: a hung engine must not hang the run, a slow one must finish. */
static double timeout(const struct core_opts *o, enum core_test t)
{
	if (t == CORE_COST)
		return 15 + (double)o->ops * 50e-6;
	return 15 + 3 * o->seconds;
}

/* One run of method i; false when it failed. */
static bool run(const struct core_opts *o, struct core_result *res,
		const struct bench_spec *s, enum core_test t, unsigned i)
{
	static const char *const prefix[] = {"uaio-bench-core", NULL};
	struct core_result *r = &res[i];
	struct bench_outcome out;
	int ret;

	ret = bench_spawn(prefix, s, timeout(o, t), NULL, NULL, &out);
	if (ret)
		die("cannot start a measurement: %s", strerror(-ret));
	if (out.state == BENCH_OK) {
		/* ns per read, or reads per second. */
		r->v[r->n++] = t == CORE_COST
				   ? (double)out.r.ns / (double)out.r.ops
				   : (double)out.r.ops * 1e9 / (double)out.r.ns;
		return true;
	}
	r->state = out.state;
	snprintf(r->reason, sizeof(r->reason), "%s", out.reason);
	if (out.state != BENCH_FAILED)
		return true;
	tool_err("%s %s failed: %s", core_methods[i].name, core_test_names[t],
		 r->reason);
	return false;
}

bool core_rounds(const struct core_opts *o, struct core_result *res,
		 enum core_test t, int fd, uint64_t size)
{
	unsigned order[CORE_MAX_METHODS], n = 0;
	bool failed = false;

	for (unsigned i = 0; i < core_nmethods; i++)
		if (res[i].state == BENCH_OK)
			order[n++] = i;
	for (unsigned r = 0; r < o->runs; r++) {
		struct bench_spec s;

		if (!tool_tty())
			fprintf(stderr, "uaio-bench-core: %s, round %u/%u\n",
				core_test_names[t], r + 1, o->runs);
		for (unsigned k = 0; k < n; k++) {
			unsigned i = order[(k + r) % n];

			if (res[i].state != BENCH_OK)
				continue;
			tool_status("[%s %u/%u] %s", core_test_names[t], r + 1,
				    o->runs, core_methods[i].name);
			spec_of(o, &core_methods[i], t, &s);
			s.fd = fd;
			s.size = size;
			s.seed = 0x9e3779b97f4a7c15ull * (r + 1);
			failed |= !run(o, res, &s, t, i);
		}
	}
	tool_status_clear();
	return failed;
}

void core_summarise(struct core_result *r)
{
	double *s;

	/* A test whose file could not be made ran nothing. */
	if (r->state == BENCH_OK && !r->n)
		r->state = BENCH_PENDING;
	if (r->state != BENCH_OK)
		return;
	s = malloc(r->n * sizeof(*s));
	if (!s)
		die("out of memory");
	memcpy(s, r->v, r->n * sizeof(*s));
	r->median = bench_median(s, r->n);
	r->min = s[0];
	r->max = s[r->n - 1];
	free(s);
}

double core_paired_ratio(const struct core_result *a,
			 const struct core_result *b)
{
	unsigned n = a->n < b->n ? a->n : b->n;
	double *q, m;

	if (!n)
		return 0;
	q = malloc(n * sizeof(*q));
	if (!q)
		die("out of memory");
	/* Run k of every method is in round k: a method that fails is not
	 * run again, and then has no ratio at all. */
	for (unsigned k = 0; k < n; k++)
		q[k] = a->v[k] / b->v[k];
	m = bench_median(q, n);
	free(q);
	return m;
}
