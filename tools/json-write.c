/*
 * json-write.c - JSON out: escaping, separators, indentation, numbers.
 */
#include "json-write.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#define BIT(d) (1ul << (d))

static void string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* What goes before a member: the separator, the indentation, the key. */
static void member(struct jw *w, const char *key)
{
	int d = w->depth;

	if (d && (w->lines & BIT(d)))
		fprintf(w->f, "%s\n%*s", w->some & BIT(d) ? "," : "",
			2 * w->level, "");
	else if (w->some & BIT(d))
		fputs(", ", w->f);
	w->some |= BIT(d);
	if (key) {
		string(w->f, key);
		fputs(": ", w->f);
	}
}

static void container(struct jw *w, const char *key, bool lines, bool array)
{
	member(w, key);
	fputc(array ? '[' : '{', w->f);
	w->depth++;
	w->some &= ~BIT(w->depth);
	w->lines = (w->lines & ~BIT(w->depth)) | (lines ? BIT(w->depth) : 0);
	w->array = (w->array & ~BIT(w->depth)) | (array ? BIT(w->depth) : 0);
	if (lines)
		w->level++;
}

void jw_begin(struct jw *w, FILE *f)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	container(w, NULL, true, false);
}

void jw_object(struct jw *w, const char *key, bool lines)
{
	container(w, key, lines, false);
}

void jw_array(struct jw *w, const char *key, bool lines)
{
	container(w, key, lines, true);
}

void jw_end(struct jw *w)
{
	int d = w->depth;

	if (w->lines & BIT(d)) {
		w->level--;
		if (w->some & BIT(d))
			fprintf(w->f, "\n%*s", 2 * w->level, "");
	}
	fputc(w->array & BIT(d) ? ']' : '}', w->f);
	if (--w->depth == 0)
		fputc('\n', w->f);
}

void jw_str(struct jw *w, const char *key, const char *s)
{
	member(w, key);
	if (s)
		string(w->f, s);
	else
		fputs("null", w->f);
}

void jw_int(struct jw *w, const char *key, long long v)
{
	member(w, key);
	fprintf(w->f, "%lld", v);
}

void jw_uint(struct jw *w, const char *key, uint64_t v)
{
	member(w, key);
	fprintf(w->f, "%" PRIu64, v);
}

/* Six significant digits, never an exponent, no trailing zeros. */
void jw_real(struct jw *w, const char *key, double v)
{
	char b[400], *e;
	int dec;

	member(w, key);
	if (!isfinite(v)) {
		fputs("null", w->f);
		return;
	}
	dec = 5 - (v != 0 ? (int)floor(log10(fabs(v))) : 0);
	snprintf(b, sizeof(b), "%.*f", dec < 0 ? 0 : dec > 12 ? 12 : dec, v);
	if (strchr(b, '.')) {
		e = b + strlen(b);
		while (e[-1] == '0')
			*--e = 0;
		if (e[-1] == '.')
			e[-1] = 0;
	}
	fputs(b, w->f);
}

void jw_bool(struct jw *w, const char *key, bool v)
{
	member(w, key);
	fputs(v ? "true" : "false", w->f);
}
