/*
 * report.c - the table (or JSON) of medians, ratios to the system libaio,
 * and the project's performance targets.  Every ratio is of medians taken in
 * the same run: figures from different runs of this machine differ by more
 * than the margins the targets allow.
 */
#include "bench.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifndef UAIO_BENCH_VERSION
#define UAIO_BENCH_VERSION "?"
#endif

enum cmp { CMP_LE, CMP_LT, CMP_GE };

struct target {
	const char *what;
	enum bench_test test;
	const char *method, *ref;
	double limit;
	enum cmp cmp;
};

static const struct target targets[] = {
    {"uaio kernel cost <= 1.05x libaio", BENCH_COST, "uaio-kernel", "libaio",
     1.05, CMP_LE},
    {"uaio threads cost <= 0.5x glibc POSIX AIO", BENCH_COST, "uaio-threads",
     "posix-aio", 0.5, CMP_LE},
    {"uaio threads O_DIRECT IOPS >= 0.9x libaio", BENCH_DIRECT, "uaio-threads",
     "libaio", 0.9, CMP_GE},
    {"uaio uring cost <= 1.1x liburing", BENCH_COST, "uaio-uring", "liburing",
     1.1, CMP_LE},
    {"uaio uring cost < libaio", BENCH_COST, "uaio-uring", "libaio", 1.0,
     CMP_LT},
};
#define NTARGETS (sizeof(targets) / sizeof(targets[0]))

static const char *const cmp_names[] = {"<=", "<", ">="};
static const char *const test_keys[BENCH_NTESTS] = {"cost", "direct"};

static const struct bench_result *
find(struct bench_result *const results[BENCH_NTESTS], enum bench_test t,
     const char *name, const struct bench_method **mp)
{
	unsigned i;

	for (i = 0; i < bench_nmethods; i++) {
		if (!strcmp(bench_methods[i].name, name)) {
			if (mp)
				*mp = &bench_methods[i];
			return &results[t][i];
		}
	}
	return NULL;
}

/* The median of method i over the system libaio's, or 0 when there is none. */
static double ratio(struct bench_result *const results[BENCH_NTESTS],
		    enum bench_test t, unsigned i)
{
	const struct bench_result *ref = find(results, t, "libaio", NULL);

	if (results[t][i].state != RES_OK || !ref || ref->state != RES_OK)
		return 0;
	return results[t][i].median / ref->median;
}

enum tstate { T_MET, T_MISSED, T_NA };

static enum tstate evaluate(const struct target *tg,
			    struct bench_result *const results[BENCH_NTESTS],
			    double *val, char *why, size_t len)
{
	const struct bench_method *mm = NULL, *mr = NULL;
	const struct bench_result *a = find(results, tg->test, tg->method, &mm);
	const struct bench_result *b = find(results, tg->test, tg->ref, &mr);
	const struct bench_result *bad = a->state != RES_OK ? a : b;
	const struct bench_method *badm = a->state != RES_OK ? mm : mr;
	bool ok;

	*val = 0;
	if (a->state != RES_OK || b->state != RES_OK) {
		static const char *const st[] = {"not measured", "", "n/a",
						 "failed"};

		snprintf(why, len, "%s %s%s%s", badm->label, st[bad->state],
			 bad->reason[0] ? ": " : "", bad->reason);
		return T_NA;
	}
	why[0] = 0;
	*val = a->median / b->median;
	switch (tg->cmp) {
	case CMP_LE:
		ok = *val <= tg->limit;
		break;
	case CMP_LT:
		ok = *val < tg->limit;
		break;
	default:
		ok = *val >= tg->limit;
		break;
	}
	return ok ? T_MET : T_MISSED;
}

static void human_size(char *buf, size_t len, uint64_t b)
{
	if (b >= (1ull << 30) && !(b % (1ull << 30)))
		snprintf(buf, len, "%" PRIu64 " GiB", b >> 30);
	else if (b >= (1ull << 20) && !(b % (1ull << 20)))
		snprintf(buf, len, "%" PRIu64 " MiB", b >> 20);
	else if (b >= (1ull << 10) && !(b % (1ull << 10)))
		snprintf(buf, len, "%" PRIu64 " KiB", b >> 10);
	else
		snprintf(buf, len, "%" PRIu64 " bytes", b);
}

static void print_test(const struct bench_opts *o,
		       struct bench_result *const results[BENCH_NTESTS],
		       enum bench_test t)
{
	char size[32];
	unsigned i;

	if (!o->run_test[t] && !o->test_note[t][0])
		return;
	if (t == BENCH_COST) {
		human_size(size, sizeof(size), o->cost_size);
		printf("Cost per read: 4 KiB reads at random offsets of a "
		       "cached %s file, depth %d,\n"
		       "%" PRIu64 " reads per run, %u run%s; ns per read, "
		       "lower is better.\n",
		       size, BENCH_COST_DEPTH, o->ops, o->runs,
		       o->runs > 1 ? "s" : "");
	} else {
		human_size(size, sizeof(size), o->direct_size);
		printf("O_DIRECT reads: 4 KiB at random offsets of a %s "
		       "file, depth %d, %g s per run,\n"
		       "%u run%s; IOPS, higher is better.\n",
		       size, BENCH_DIRECT_DEPTH, o->seconds, o->runs,
		       o->runs > 1 ? "s" : "");
	}
	if (!o->run_test[t]) {
		printf("  not run: %s\n\n", o->test_note[t]);
		return;
	}
	printf("\n%-18s %12s %12s %12s %10s\n", "method", "median", "min",
	       "max", "vs libaio");
	for (i = 0; i < bench_nmethods; i++) {
		const struct bench_result *r = &results[t][i];
		/* ns to a tenth; IOPS whole. */
		int prec = t == BENCH_COST ? 1 : 0;
		double q = ratio(results, t, i);

		switch (r->state) {
		case RES_NONE:
			break;
		case RES_OK:
			printf("%-18s %12.*f %12.*f %12.*f",
			       bench_methods[i].label, prec, r->median, prec,
			       r->min, prec, r->max);
			if (q > 0)
				printf(" %10.3f\n", q);
			else
				printf(" %10s\n", "-");
			break;
		case RES_NA:
			printf("%-18s n/a: %s\n", bench_methods[i].label,
			       r->reason);
			break;
		case RES_FAILED:
			printf("%-18s FAILED: %s\n", bench_methods[i].label,
			       r->reason);
			break;
		}
	}
	printf("\n");
}

static void host(char *buf, size_t len)
{
	struct utsname u;

	if (uname(&u))
		snprintf(buf, len, "?");
	else
		snprintf(buf, len, "%s %s %s", u.sysname, u.release, u.machine);
}

void bench_report_table(const struct bench_opts *o,
			struct bench_result *const results[BENCH_NTESTS])
{
	char h[256], why[512];
	unsigned i;

	host(h, sizeof(h));
	printf("uaio-bench-core %s on %s, %ld CPUs\n"
	       "uaio library: %s/libaio.so.1; scratch directory: %s\n\n",
	       UAIO_BENCH_VERSION, h, sysconf(_SC_NPROCESSORS_ONLN),
	       o->uaio_dir, o->dir);
	for (i = 0; i < BENCH_NTESTS; i++)
		print_test(o, results, (enum bench_test)i);

	printf("Targets (ratios of medians; the run reports, it does not "
	       "judge):\n");
	for (i = 0; i < NTARGETS; i++) {
		double v;
		enum tstate s =
		    evaluate(&targets[i], results, &v, why, sizeof(why));

		if (s == T_NA)
			printf("  %-7s %-44s (%s)\n", "n/a", targets[i].what,
			       why);
		else
			printf("  %-7s %-44s %.3fx\n",
			       s == T_MET ? "met" : "MISSED", targets[i].what,
			       v);
	}
	fflush(stdout);
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_num(double v)
{
	if (v > 0)
		printf("%.6g", v);
	else
		printf("null");
}

void bench_report_json(const struct bench_opts *o,
		       struct bench_result *const results[BENCH_NTESTS])
{
	static const char *const states[] = {"not-run", "ok", "n/a", "failed"};
	char h[256], why[512];
	unsigned t, i, k;
	bool first;

	host(h, sizeof(h));
	printf("{\n  \"program\": \"uaio-bench-core\",\n  \"version\": ");
	json_str(UAIO_BENCH_VERSION);
	printf(",\n  \"host\": ");
	json_str(h);
	printf(",\n  \"cpus\": %ld,\n  \"uaio_lib\": ",
	       sysconf(_SC_NPROCESSORS_ONLN));
	json_str(o->uaio_dir);
	printf(",\n  \"dir\": ");
	json_str(o->dir);
	printf(",\n  \"config\": {\"ops\": %" PRIu64 ", \"runs\": %u, "
	       "\"block_size\": %d, \"cost_file_size\": %" PRIu64
	       ", \"cost_depth\": %d, \"direct_size\": %" PRIu64
	       ", \"direct_depth\": %d, \"seconds\": %g},\n",
	       o->ops, o->runs, BENCH_BS, o->cost_size, BENCH_COST_DEPTH,
	       o->direct_size, BENCH_DIRECT_DEPTH, o->seconds);
	printf("  \"tests\": {\n");
	for (t = 0; t < BENCH_NTESTS; t++) {
		printf("    \"%s\": {\"unit\": \"%s\", \"better\": \"%s\", "
		       "\"run\": %s, \"note\": ",
		       test_keys[t], t == BENCH_COST ? "ns/op" : "IOPS",
		       t == BENCH_COST ? "lower" : "higher",
		       o->run_test[t] ? "true" : "false");
		json_str(o->test_note[t]);
		printf(", \"methods\": [");
		first = true;
		for (i = 0; i < bench_nmethods; i++) {
			const struct bench_result *r = &results[t][i];

			if (r->state == RES_NONE)
				continue;
			printf("%s\n      {\"method\": \"%s\", \"label\": ",
			       first ? "" : ",", bench_methods[i].name);
			first = false;
			json_str(bench_methods[i].label);
			printf(", \"status\": \"%s\", \"runs\": [",
			       states[r->state]);
			for (k = 0; k < r->n; k++)
				printf("%s%.6g", k ? ", " : "", r->v[k]);
			printf("], \"median\": ");
			json_num(r->state == RES_OK ? r->median : 0);
			printf(", \"min\": ");
			json_num(r->state == RES_OK ? r->min : 0);
			printf(", \"max\": ");
			json_num(r->state == RES_OK ? r->max : 0);
			printf(", \"ratio_vs_libaio\": ");
			json_num(ratio(results, (enum bench_test)t, i));
			printf(", \"reason\": ");
			json_str(r->state == RES_OK ? "" : r->reason);
			printf("}");
		}
		printf("%s]}%s\n", first ? "" : "\n    ",
		       t + 1 < BENCH_NTESTS ? "," : "");
	}
	printf("  },\n  \"targets\": [");
	for (i = 0; i < NTARGETS; i++) {
		static const char *const ts[] = {"met", "missed", "n/a"};
		const struct target *tg = &targets[i];
		double v;
		enum tstate s = evaluate(tg, results, &v, why, sizeof(why));

		printf("%s\n    {\"target\": ", i ? "," : "");
		json_str(tg->what);
		printf(", \"test\": \"%s\", \"method\": \"%s\", "
		       "\"reference\": \"%s\", \"comparison\": \"%s\", "
		       "\"limit\": %g, \"ratio\": ",
		       test_keys[tg->test], tg->method, tg->ref,
		       cmp_names[tg->cmp], tg->limit);
		json_num(v);
		printf(", \"status\": \"%s\", \"reason\": ", ts[s]);
		json_str(why);
		printf("}");
	}
	printf("\n  ]\n}\n");
	fflush(stdout);
}
