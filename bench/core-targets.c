/*
 * core-targets.c - the project's performance targets, judged on the
 * median of each round's ratio (core_paired_ratio()) within one run:
 * figures from different runs of a small machine, or even medians taken
 * minutes apart in one, differ by more than the margins the targets allow.
 */
#include "core.h"

#include <stdio.h>
#include <string.h>

const struct core_target core_targets[] = {
    {"uaio kernel cost <= 1.05x libaio", CORE_COST, "uaio-kernel", "libaio",
     1.05, "<="},
    {"uaio threads cost <= 0.5x glibc POSIX AIO", CORE_COST, "uaio-threads",
     "posix-aio", 0.5, "<="},
    {"uaio threads O_DIRECT IOPS >= 0.9x libaio", CORE_DIRECT, "uaio-threads",
     "libaio", 0.9, ">="},
    {"uaio uring cost <= 1.1x liburing", CORE_COST, "uaio-uring", "liburing",
     1.1, "<="},
    {"uaio uring cost < libaio", CORE_COST, "uaio-uring", "libaio", 1.0, "<"},
};
const unsigned core_ntargets = sizeof(core_targets) / sizeof(core_targets[0]);

static unsigned method_index(const char *name)
{
	unsigned i = 0;

	while (i < core_nmethods && strcmp(core_methods[i].name, name))
		i++;
	return i;
}

double core_ratio(core_results results, enum core_test t, unsigned i)
{
	const struct core_result *ref = &results[t][method_index("libaio")];

	if (results[t][i].state != BENCH_OK || ref->state != BENCH_OK)
		return 0;
	return core_paired_ratio(&results[t][i], ref);
}

enum core_verdict core_evaluate(const struct core_target *tg,
				core_results results, double *ratio, char *why,
				size_t len)
{
	static const char *const st[] = {"not measured", "", "n/a", "failed"};
	unsigned a = method_index(tg->method), b = method_index(tg->ref);
	unsigned bad = results[tg->test][a].state != BENCH_OK ? a : b;
	const struct core_result *r = &results[tg->test][bad];

	*ratio = 0;
	why[0] = 0;
	if (r->state != BENCH_OK) {
		snprintf(why, len, "%s %s%s%s", core_methods[bad].label,
			 st[r->state], r->reason[0] ? ": " : "", r->reason);
		return CORE_NA;
	}
	*ratio =
	    core_paired_ratio(&results[tg->test][a], &results[tg->test][b]);
	if (!strcmp(tg->cmp, "<="))
		return *ratio <= tg->limit ? CORE_MET : CORE_MISSED;
	if (!strcmp(tg->cmp, "<"))
		return *ratio < tg->limit ? CORE_MET : CORE_MISSED;
	return *ratio >= tg->limit ? CORE_MET : CORE_MISSED;
}
