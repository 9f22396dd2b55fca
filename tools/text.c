/*
 * text.c - tables and wrapped lines.
 */
#include "text.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"

struct cell {
	char *s;
	bool span;
};

void table_init(struct table *t, unsigned ncols, const char *const *head,
		const bool *right)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->right = calloc(ncols, sizeof(*t->right));
	t->head = head ? calloc(ncols, sizeof(*t->head)) : NULL;
	if (!t->right || (head && !t->head))
		die("out of memory");
	if (head)
		memcpy(t->head, head, ncols * sizeof(*head));
	if (right)
		memcpy(t->right, right, ncols * sizeof(*right));
}

void table_row(struct table *t)
{
	if (t->nrows == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 16;
		t->cells = realloc(t->cells, (size_t)t->cap * t->ncols *
						 sizeof(*t->cells));
		if (!t->cells)
			die("out of memory");
	}
	memset(&t->cells[(size_t)t->nrows * t->ncols], 0,
	       t->ncols * sizeof(*t->cells));
	t->nrows++;
}

static void vset(struct table *t, unsigned col, bool span, const char *fmt,
		 va_list ap)
{
	struct cell *c = &t->cells[(size_t)(t->nrows - 1) * t->ncols + col];

	free(c->s);
	if (vasprintf(&c->s, fmt, ap) < 0)
		die("out of memory");
	c->span = span;
}

void table_set(struct table *t, unsigned col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(t, col, false, fmt, ap);
	va_end(ap);
}

void table_span(struct table *t, unsigned col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(t, col, true, fmt, ap);
	va_end(ap);
}

static const struct cell *cell(const struct table *t, unsigned r, unsigned c)
{
	return &t->cells[(size_t)r * t->ncols + c];
}

static size_t *widths(const struct table *t)
{
	size_t *w = calloc(t->ncols, sizeof(*w));

	if (!w)
		die("out of memory");
	for (unsigned c = 0; c < t->ncols; c++) {
		w[c] = t->head ? strlen(t->head[c]) : 0;
		for (unsigned r = 0; r < t->nrows; r++) {
			const struct cell *x = cell(t, r, c);

			if (x->s && !x->span && strlen(x->s) > w[c])
				w[c] = strlen(x->s);
		}
	}
	return w;
}

/* Row r, or the header for r < 0, without trailing blanks. */
static void print_row(const struct table *t, const size_t *w, int r, FILE *f,
		      const char *indent)
{
	char line[4096];
	size_t n = 0;

	for (unsigned c = 0; c < t->ncols; c++) {
		const struct cell *x = r < 0 ? NULL : cell(t, (unsigned)r, c);
		const char *s = r < 0 ? t->head[c] : x->s;
		int width = x && x->span ? 0 : (int)w[c];

		n += (size_t)snprintf(
		    line + n, sizeof(line) - n, "%s%*s", c ? "  " : "",
		    t->right[c] && width ? width : -width, s ? s : "");
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		if (x && x->span)
			break;
	}
	while (n && line[n - 1] == ' ')
		n--;
	line[n] = 0;
	fprintf(f, "%s%s\n", indent, line);
}

void table_print(const struct table *t, FILE *f, const char *indent)
{
	size_t *w = widths(t);

	for (int r = t->head ? -1 : 0; r < (int)t->nrows; r++)
		print_row(t, w, r, f, indent);
	free(w);
}

void table_free(struct table *t)
{
	for (size_t i = 0; i < (size_t)t->nrows * t->ncols; i++)
		free(t->cells[i].s);
	free(t->cells);
	free(t->head);
	free(t->right);
	memset(t, 0, sizeof(*t));
}

void text_labelled(const char *label, const char *text)
{
	const int indent = 22, width = 78;
	int col = printf("  %-*s", indent - 2, label);

	if (col > indent) {
		printf("\n%*s", indent, "");
		col = indent;
	}
	while (*text) {
		int n = (int)strcspn(text, " ");

		if (col > indent && col + 1 + n > width) {
			printf("\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			putchar(' ');
			col++;
		}
		col += printf("%.*s", n, text);
		text += n;
		while (*text == ' ')
			text++;
	}
	putchar('\n');
}
