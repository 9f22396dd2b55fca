/*
 * bench.c - uaio bench: the run from its options to its report (bench.h).
 */
#include "bench.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

const char *const ubench_mode_name[NMODES] = {"uncached", "cached", "direct"};
const char *const ubench_mode_label[NMODES] = {"buffered uncached",
					       "buffered cached", "O_DIRECT"};
const char *const ubench_impl_name[NIMPLS] = {"libaio", "kernel", "uring",
					      "threads", "auto"};
const char *const ubench_impl_label[NIMPLS] = {
    "system libaio", "uaio kernel", "uaio uring", "uaio threads", "uaio auto"};

struct ubench_cell *ubench_cell(const struct ubench *r, unsigned m, unsigned d,
				unsigned i)
{
	return &r->cells[((size_t)m * r->o.ndepth + d) * NIMPLS + i];
}

void ubench_label(const struct ubench *r, unsigned i,
		  const struct ubench_cell *c, char *buf, size_t len)
{
	const char *const path[NPATHS] = {r->auto_base, "in io_submit",
					  "kernel AIO"};
	unsigned long long total = 0;
	size_t n = (size_t)snprintf(buf, len, "%s", ubench_impl_label[i]);
	const char *sep = " (";

	for (int p = 0; p < NPATHS; p++)
		total += c->paths[p];
	if (i != IMPL_AUTO || !total)
		return;
	for (int p = 0; p < NPATHS && n < len; p++) {
		double pct = (double)c->paths[p] * 100 / (double)total;

		if (pct >= 95)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", sep,
					      path[p]);
		else if (pct >= 1)
			n += (size_t)snprintf(buf + n, len - n, "%s%s %.0f%%",
					      sep, path[p], pct);
		else
			continue;
		sep = ", ";
	}
	if (n < len)
		snprintf(buf + n, len - n, ")");
}

bool ubench_wanted(const struct ubench *r, unsigned i)
{
	return r->o.impls_set ? r->o.impl_on[i] : true;
}

void ubench_describe(const struct ubench *r, char *buf, size_t len)
{
	static const char *const what[] = {"reads", "writes",
					   "reads and writes"};
	char bs[32], mix[48] = "";

	fmt_bytes(bs, sizeof(bs), r->o.bs);
	if (r->o.rw == BENCH_MIX)
		snprintf(mix, sizeof(mix), " (%u%% reads)", r->o.rwmix);
	snprintf(buf, len, "random %s %s%s, %s, %.3g s per cell", bs,
		 what[r->o.rw], mix, r->where, r->o.duration);
}

/* Cheap checks first: nothing is written before they pass. */
static void need_an_engine(struct ubench *r)
{
	char why[1024] = "";
	size_t n = 0;

	for (int i = 0; i < NIMPLS; i++) {
		if (r->impl_ok[i])
			return;
		if (r->impl_why[i][0])
			n += (size_t)snprintf(
			    why + n, sizeof(why) - n, "%s%s: %s", n ? "; " : "",
			    ubench_impl_name[i], r->impl_why[i]);
	}
	ubench_fail(r, "no engine to run: %s", why);
}

int cmd_bench(int argc, char **argv)
{
	static const struct bench_loop *const loops[BENCH_NAPIS] = {
	    &bench_loop_libaio};
	struct ubench r;
	bool failed;

	if (bench_is_child(argc, argv))
		bench_child_main(argc, argv, loops);
	memset(&r, 0, sizeof(r));
	r.fd = -1;
	ubench_parse(argc, argv, &r.o);
	bench_catch_signals();
	ubench_choose(&r);
	need_an_engine(&r);
	ubench_open_file(&r);
	r.cells =
	    calloc((size_t)NMODES * r.o.ndepth * NIMPLS, sizeof(*r.cells));
	if (!r.cells)
		ubench_fail(&r, "out of memory");
	failed = ubench_run_all(&r);
	ubench_cleanup(&r);
	if (r.o.json)
		ubench_print_json(&r);
	else
		ubench_print_text(&r);
	free(r.cells);
	if (fflush(stdout) || ferror(stdout))
		die("writing the output: %s", strerror(errno));
	return failed ? 1 : 0;
}
