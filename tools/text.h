/*
 * text.h - the text format of the programs' reports: tables whose columns
 * are sized to fit, and "label  text" lines wrapped under themselves.
 */
#ifndef UAIO_TEXT_H
#define UAIO_TEXT_H

#include <stdbool.h>
#include <stdio.h>

struct cell;

/*
 * A table: cells are copied; numeric columns (as flagged) are
 * right-aligned.  Used for the bench results, the per-context statistics
 * and uaio-bench-core's tables.
 */
struct table {
	unsigned ncols, nrows, cap;
	const char **head; /* NULL: no header line */
	bool *right;
	struct cell *cells; /* nrows * ncols */
};

void table_init(struct table *t, unsigned ncols, const char *const *head,
		const bool *right);
/* Start a row; then table_set() its cells (unset cells print empty). */
void table_row(struct table *t);
void table_set(struct table *t, unsigned col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A cell that runs to the end of the line: left-aligned, and not counted
 * in its column's width ("n/a: the reason"). */
void table_span(struct table *t, unsigned col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void table_print(const struct table *t, FILE *f, const char *indent);
void table_free(struct table *t);

/* "  label   text" on stdout: text wrapped at 78 columns, under itself. */
void text_labelled(const char *label, const char *text);

#endif
