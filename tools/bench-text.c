/*
 * bench-text.c - uaio bench's report as text: the table, then what could
 * not be measured and why.
 */
#include "bench.h"

#include <math.h>
#include <stdio.h>

#include "tool.h"

/* The figures of cell c, or where its note is: its number. */
static void figures(struct table *t, const struct ubench_cell *c,
		    const struct ubench_cell *ref, unsigned *nnotes)
{
	char b[32];

	if (c->out.state != BENCH_OK) {
		table_set(t, 3, "%s",
			  c->out.state == BENCH_NA ? "n/a" : "FAILED");
		table_set(t, 7, "[%u]", ++*nnotes);
		return;
	}
	fmt_count(b, sizeof(b), c->iops);
	table_set(t, 3, "%s", b);
	fmt_ns(b, sizeof(b), c->out.r.mean);
	table_set(t, 4, "%s", b);
	fmt_ns(b, sizeof(b), c->out.r.p99);
	table_set(t, 5, "%s", b);
	fmt_ns(b, sizeof(b), c->out.r.submit);
	table_set(t, 6, "%s", b);
	if (ref->out.state == BENCH_OK && !isnan(c->vs_libaio))
		table_set(t, 7, "%.2fx", c->vs_libaio);
	else
		table_set(t, 7, "-");
}

/* A row per cell, the mode and depth named where they change; the number
 * of notes. */
static unsigned rows(const struct ubench *r, struct table *t)
{
	unsigned nnotes = 0;

	for (unsigned m = 0; m < NMODES; m++) {
		bool first_m = true;

		for (unsigned d = 0; d < r->o.ndepth && r->o.mode_on[m]; d++) {
			bool first_d = true;

			for (unsigned i = 0; i < NIMPLS; i++) {
				if (!r->impl_ok[i])
					continue;
				table_row(t);
				if (first_m)
					table_set(t, 0, "%s",
						  ubench_mode_label[m]);
				if (first_d)
					table_set(t, 1, "%u", r->o.depth[d]);
				first_m = first_d = false;
				char label[96];

				ubench_label(r, i, ubench_cell(r, m, d, i),
					     label, sizeof(label));
				table_set(t, 2, "%s", label);
				figures(t, ubench_cell(r, m, d, i),
					ubench_cell(r, m, d, IMPL_LIBAIO),
					&nnotes);
			}
		}
	}
	return nnotes;
}

/* The cells without figures, by their number in the table. */
static void cell_notes(const struct ubench *r)
{
	unsigned n = 0;

	printf("\n");
	for (unsigned m = 0; m < NMODES; m++)
		for (unsigned d = 0; d < r->o.ndepth && r->o.mode_on[m]; d++)
			for (unsigned i = 0; i < NIMPLS; i++) {
				const struct ubench_cell *c =
				    ubench_cell(r, m, d, i);

				if (r->impl_ok[i] && c->out.state != BENCH_OK)
					printf("[%u] %s, %s, depth %u: %s\n",
					       ++n, ubench_impl_label[i],
					       ubench_mode_label[m],
					       r->o.depth[d], c->out.reason);
			}
}

/* The question the table is most often read for: is the default the best
 * choice on each row? */
static void auto_best(const struct ubench *r)
{
	bool first = true;

	for (unsigned m = 0; m < NMODES; m++)
		for (unsigned d = 0; d < r->o.ndepth && r->o.mode_on[m]; d++) {
			unsigned against;
			double v;

			if (!ubench_auto_best(r, m, d, &v, &against))
				continue;
			if (first)
				printf("\nauto against the best of the others "
				       "(%s):\n",
				       r->o.runs > 1
					   ? "the median of each run's ratio"
					   : "its IOPS over theirs");
			first = false;
			printf("  %-18s %5u  %.2fx  (%s)\n",
			       ubench_mode_label[m], r->o.depth[d], v,
			       ubench_impl_label[against]);
		}
}

static void other_notes(const struct ubench *r)
{
	bool first = true;

	for (unsigned m = 0; m < NMODES; m++)
		if (r->o.mode_on[m] && r->mode_note[m][0])
			printf("\nnote: %s: %s\n", ubench_mode_label[m],
			       r->mode_note[m]);
	if (r->reread_note)
		printf("\nnote: %s: %s\n", ubench_mode_label[MODE_UNCACHED],
		       REREAD_NOTE);
	if (r->whole_note)
		printf("\nnote: %s: %s\n", ubench_mode_label[MODE_UNCACHED],
		       WHOLE_NOTE);
	for (unsigned i = 0; i < NIMPLS; i++) {
		if (!ubench_wanted(r, i) || r->impl_ok[i])
			continue;
		if (first)
			printf("\nnot run:\n");
		first = false;
		printf("  %-14s %s\n", ubench_impl_label[i], r->impl_why[i]);
	}
	if (!r->impl_ok[IMPL_LIBAIO])
		printf("\n(no system libaio to compare with: the 'vs libaio' "
		       "column is empty)\n");
}

void ubench_print_text(const struct ubench *r)
{
	static const char *const head[] = {"mode",	"depth",    "engine",
					   "IOPS",	"mean",	    "p99",
					   "in submit", "vs libaio"};
	static const bool right[] = {false, true, false, true,
				     true,  true, true,	 true};
	char desc[PATH_MAX + 256];
	struct table t;
	unsigned nnotes;

	ubench_describe(r, desc, sizeof(desc));
	printf("uaio bench (uaio %s): %s\n", uaio_version(), desc);
	if (r->o.runs > 1)
		printf("%u runs: medians; each ratio is the median of the "
		       "runs' ratios\n",
		       r->o.runs);
	printf("\n");
	table_init(&t, 8, head, right);
	nnotes = rows(r, &t);
	table_print(&t, stdout, "");
	table_free(&t);
	if (nnotes)
		cell_notes(r);
	auto_best(r);
	other_notes(r);
}
