/*
 * core-json.c - uaio-bench-core's report as JSON.
 */
#include "core.h"

#include <math.h>
#include <unistd.h>

#include "json-write.h"

#ifndef UAIO_BENCH_VERSION
#define UAIO_BENCH_VERSION "?"
#endif

/* A figure, or null where there is none. */
static void figure(struct jw *w, const char *key, double v)
{
	jw_real(w, key, v > 0 ? v : NAN);
}

static void config(struct jw *w, const struct core_opts *o)
{
	jw_object(w, "config", false);
	jw_uint(w, "ops", o->ops);
	jw_uint(w, "runs", o->runs);
	jw_int(w, "block_size", CORE_BS);
	jw_uint(w, "cost_file_size", o->cost_size);
	jw_int(w, "cost_depth", CORE_COST_DEPTH);
	jw_uint(w, "direct_size", o->direct_size);
	jw_int(w, "direct_depth", CORE_DIRECT_DEPTH);
	jw_real(w, "seconds", o->seconds);
	jw_end(w);
}

static void method(struct jw *w, core_results results, enum core_test t,
		   unsigned i)
{
	static const char *const states[] = {"not-run", "ok", "n/a", "failed"};
	const struct core_result *r = &results[t][i];
	bool ok = r->state == BENCH_OK;

	jw_object(w, NULL, false);
	jw_str(w, "method", core_methods[i].name);
	jw_str(w, "label", core_methods[i].label);
	jw_str(w, "status", states[r->state]);
	jw_array(w, "runs", false);
	for (unsigned k = 0; k < r->n; k++)
		jw_real(w, NULL, r->v[k]);
	jw_end(w);
	figure(w, "median", ok ? r->median : 0);
	figure(w, "min", ok ? r->min : 0);
	figure(w, "max", ok ? r->max : 0);
	figure(w, "ratio_vs_libaio", core_ratio(results, t, i));
	jw_str(w, "reason", ok ? "" : r->reason);
	jw_end(w);
}

static void tests(struct jw *w, const struct core_opts *o, core_results results)
{
	jw_object(w, "tests", true);
	for (unsigned t = 0; t < CORE_NTESTS; t++) {
		jw_object(w, core_test_names[t], false);
		jw_str(w, "unit", t == CORE_COST ? "ns/op" : "IOPS");
		jw_str(w, "better", t == CORE_COST ? "lower" : "higher");
		jw_bool(w, "run", o->run_test[t]);
		jw_str(w, "note", o->test_note[t]);
		jw_array(w, "methods", true);
		for (unsigned i = 0; i < core_nmethods; i++)
			if (results[t][i].state != BENCH_PENDING)
				method(w, results, t, i);
		jw_end(w);
		jw_end(w);
	}
	jw_end(w);
}

static void targets(struct jw *w, core_results results)
{
	static const char *const verdicts[] = {"met", "missed", "n/a"};
	char why[512];

	jw_array(w, "targets", true);
	for (unsigned i = 0; i < core_ntargets; i++) {
		const struct core_target *tg = &core_targets[i];
		double v;
		enum core_verdict s =
		    core_evaluate(tg, results, &v, why, sizeof(why));

		jw_object(w, NULL, false);
		jw_str(w, "target", tg->what);
		jw_str(w, "test", core_test_names[tg->test]);
		jw_str(w, "method", tg->method);
		jw_str(w, "reference", tg->ref);
		jw_str(w, "comparison", tg->cmp);
		jw_real(w, "limit", tg->limit);
		figure(w, "ratio", v);
		jw_str(w, "status", verdicts[s]);
		jw_str(w, "reason", why);
		jw_end(w);
	}
	jw_end(w);
}

void core_print_json(const struct core_opts *o, core_results results)
{
	char h[256];
	struct jw w;

	core_host(h, sizeof(h));
	jw_begin(&w, stdout);
	jw_str(&w, "program", "uaio-bench-core");
	jw_str(&w, "version", UAIO_BENCH_VERSION);
	jw_str(&w, "host", h);
	jw_int(&w, "cpus", sysconf(_SC_NPROCESSORS_ONLN));
	jw_str(&w, "uaio_lib", o->uaio_dir);
	jw_str(&w, "system_lib", o->system_lib[0] ? o->system_lib : NULL);
	jw_str(&w, "dir", o->dir);
	config(&w, o);
	tests(&w, o, results);
	targets(&w, results);
	jw_end(&w);
	fflush(stdout);
}
