/*
 * bench-json.c - uaio bench's report as JSON.
 */
#include "bench.h"

#include <math.h>

#include "tool.h"

static void workload(struct jw *w, const struct ubench *r)
{
	static const unsigned reads[] = {100, 0};

	jw_object(w, "workload", false);
	jw_str(w, "rw", bench_rw_names[r->o.rw]);
	jw_uint(w, "rwmix_read",
		r->o.rw == BENCH_MIX ? r->o.rwmix : reads[r->o.rw]);
	jw_uint(w, "bs", r->o.bs);
	jw_uint(w, "size", r->o.size);
	jw_real(w, "duration_s", r->o.duration);
	jw_uint(w, "runs", r->o.runs);
	jw_array(w, "depths", false);
	for (unsigned d = 0; d < r->o.ndepth; d++)
		jw_uint(w, NULL, r->o.depth[d]);
	jw_end(w);
	jw_array(w, "modes", false);
	for (unsigned m = 0; m < NMODES; m++)
		if (r->o.mode_on[m])
			jw_str(w, NULL, ubench_mode_name[m]);
	jw_end(w);
	jw_end(w);
	jw_object(w, "file", false);
	jw_str(w, "path", r->scratch ? NULL : r->o.file);
	jw_bool(w, "scratch", r->scratch);
	jw_str(w, "where", r->where);
	jw_end(w);
}

static void engines(struct jw *w, const struct ubench *r)
{
	jw_str(w, "system_libaio", r->impl_ok[IMPL_LIBAIO] ? r->syslib : NULL);
	jw_array(w, "engines", true);
	for (unsigned i = 0; i < NIMPLS; i++) {
		bool wanted = ubench_wanted(r, i);

		jw_object(w, NULL, false);
		jw_str(w, "name", ubench_impl_name[i]);
		jw_str(w, "label", ubench_impl_label[i]);
		jw_bool(w, "selected", wanted);
		jw_bool(w, "usable", r->impl_ok[i]);
		jw_str(w, "reason",
		       r->impl_ok[i] || !wanted ? NULL : r->impl_why[i]);
		jw_end(w);
	}
	jw_end(w);
	jw_object(w, "notes", false);
	for (unsigned m = 0; m < NMODES; m++)
		if (r->mode_note[m][0])
			jw_str(w, ubench_mode_name[m], r->mode_note[m]);
	if (r->reread_note)
		jw_str(w, "uncached_rereads", REREAD_NOTE);
	if (r->whole_note)
		jw_str(w, "uncached_whole_file", WHOLE_NOTE);
	jw_end(w);
}

static void cell(struct jw *w, const struct ubench *r, unsigned m, unsigned d,
		 unsigned i)
{
	static const char *const states[] = {"pending", "ok", "unavailable",
					     "failed"};
	const struct ubench_cell *c = ubench_cell(r, m, d, i);
	const struct bench_result *res = &c->out.r;
	unsigned against;
	double best;

	jw_object(w, NULL, false);
	jw_str(w, "mode", ubench_mode_name[m]);
	jw_uint(w, "depth", r->o.depth[d]);
	jw_str(w, "engine", ubench_impl_name[i]);
	jw_str(w, "state", states[c->out.state]);
	if (c->out.state == BENCH_OK) {
		jw_uint(w, "ops", res->ops);
		jw_real(w, "seconds", (double)res->ns / 1e9);
		jw_real(w, "iops", c->iops);
		jw_real(w, "mean_ns", res->mean);
		jw_real(w, "p50_ns", res->p50);
		jw_real(w, "p99_ns", res->p99);
		jw_real(w, "max_ns", res->max);
		jw_real(w, "submit_ns", res->submit);
		jw_real(w, "vs_libaio", c->vs_libaio);
		jw_array(w, "runs_iops", false);
		for (unsigned k = 0; k < c->nruns; k++)
			jw_real(w, NULL, c->run_iops[k]);
		jw_end(w);
	}
	if (i == IMPL_AUTO && ubench_auto_best(r, m, d, &best, &against)) {
		jw_real(w, "vs_best", best);
		jw_str(w, "best_other", ubench_impl_name[against]);
	}
	jw_real(w, "cached_pct_before", c->resident);
	if (i == IMPL_AUTO && c->paths[PATH_ENGINE] + c->paths[PATH_INLINE] +
				  c->paths[PATH_KAIO]) {
		/* Requests of a short run with UAIO_STATS, by path. */
		jw_object(w, "paths", false);
		jw_uint(w, r->auto_base, c->paths[PATH_ENGINE]);
		jw_uint(w, "in_submit", c->paths[PATH_INLINE]);
		jw_uint(w, "kernel_aio", c->paths[PATH_KAIO]);
		jw_end(w);
	}
	if (c->out.state != BENCH_OK)
		jw_str(w, "reason", c->out.reason);
	jw_end(w);
}

void ubench_print_json(const struct ubench *r)
{
	char desc[PATH_MAX + 256];
	struct jw w;

	ubench_describe(r, desc, sizeof(desc));
	jw_begin(&w, stdout);
	jw_str(&w, "uaio_version", uaio_version());
	jw_str(&w, "description", desc);
	workload(&w, r);
	engines(&w, r);
	jw_array(&w, "results", true);
	for (unsigned m = 0; m < NMODES; m++)
		for (unsigned d = 0; d < r->o.ndepth && r->o.mode_on[m]; d++)
			for (unsigned i = 0; i < NIMPLS; i++)
				if (r->impl_ok[i])
					cell(&w, r, m, d, i);
	jw_end(&w);
	jw_end(&w);
}
