/*
 * json.c - a recursive-descent JSON reader (RFC 8259, UTF-8 in and out).
 */
#include "json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
	const char *p;
	char *err;
	size_t errlen;
	int depth;
};

static bool fail(struct parser *ps, const char *what)
{
	if (!ps->err[0])
		snprintf(ps->err, ps->errlen, "%s at '%.20s'", what, ps->p);
	return false;
}

static void skip_ws(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' ||
	       *ps->p == '\r')
		ps->p++;
}

static int hex4(const char *s)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * The escape at s (after its backslash) decoded into o: the bytes written,
 * *s moved past it; 0 on a bad escape, *s left on it.
 */
static size_t unescape(const char **s, char *o)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e = **s ? strchr(from, **s) : NULL;
	int cp, lo;

	if (e) {
		*o = to[e - from];
		(*s)++;
		return 1;
	}
	cp = **s == 'u' ? hex4(*s + 1) : -1;
	if (cp < 0)
		return 0;
	*s += 5;
	/* A surrogate pair: one code point in two escapes. */
	if (cp >= 0xd800 && cp < 0xdc00 && (*s)[0] == '\\' && (*s)[1] == 'u') {
		lo = hex4(*s + 2);
		if (lo >= 0xdc00 && lo < 0xe000) {
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			*s += 6;
		}
	}
	return put_utf8(o, (unsigned)cp);
}

/* A string at ps->p (on the opening quote), decoded into a new buffer. */
static bool parse_string(struct parser *ps, char **out)
{
	const char *s = ++ps->p, *why = NULL;
	size_t n = 0, k;
	/* Decoding never lengthens the text. */
	char *o = malloc(strlen(s) + 1);

	if (!o)
		return fail(ps, "out of memory");
	while (!why && *s != '"') {
		unsigned char c = (unsigned char)*s;

		if (!c)
			why = "unterminated string";
		else if (c < 0x20)
			why = "control character in string";
		else if (c != '\\')
			o[n++] = *s++;
		else {
			s++;
			k = unescape(&s, o + n);
			n += k;
			why = k ? NULL : "bad escape";
		}
	}
	if (why) {
		free(o);
		ps->p = s;
		return fail(ps, why);
	}
	o[n] = 0;
	ps->p = s + 1;
	*out = o;
	return true;
}

static bool parse_value(struct parser *ps, struct json *j);

static bool parse_members(struct parser *ps, struct json *j, bool obj)
{
	struct json **tail = &j->kids;
	char close = obj ? '}' : ']';

	ps->p++;
	skip_ws(ps);
	if (*ps->p == close) {
		ps->p++;
		return true;
	}
	for (;;) {
		struct json *k = calloc(1, sizeof(*k));

		if (!k)
			return fail(ps, "out of memory");
		*tail = k;
		tail = &k->next;
		skip_ws(ps);
		if (obj) {
			if (*ps->p != '"')
				return fail(ps, "expected a key");
			if (!parse_string(ps, &k->key))
				return false;
			skip_ws(ps);
			if (*ps->p != ':')
				return fail(ps, "expected ':'");
			ps->p++;
		}
		if (!parse_value(ps, k))
			return false;
		skip_ws(ps);
		if (*ps->p == ',') {
			ps->p++;
			continue;
		}
		if (*ps->p == close) {
			ps->p++;
			return true;
		}
		return fail(ps, obj ? "expected ',' or '}'"
				    : "expected ',' or ']'");
	}
}

static bool parse_value(struct parser *ps, struct json *j)
{
	skip_ws(ps);
	if (++ps->depth > 64)
		return fail(ps, "nested too deep");
	switch (*ps->p) {
	case '{':
		j->type = JSON_OBJ;
		if (!parse_members(ps, j, true))
			return false;
		break;
	case '[':
		j->type = JSON_ARR;
		if (!parse_members(ps, j, false))
			return false;
		break;
	case '"':
		j->type = JSON_STR;
		if (!parse_string(ps, &j->str))
			return false;
		break;
	case 't':
	case 'f':
	case 'n':
		if (!strncmp(ps->p, "true", 4)) {
			j->type = JSON_BOOL;
			j->num = 1;
			ps->p += 4;
		} else if (!strncmp(ps->p, "false", 5)) {
			j->type = JSON_BOOL;
			ps->p += 5;
		} else if (!strncmp(ps->p, "null", 4)) {
			j->type = JSON_NULL;
			ps->p += 4;
		} else {
			return fail(ps, "unexpected word");
		}
		break;
	default: {
		char *end;

		if (*ps->p != '-' && (*ps->p < '0' || *ps->p > '9'))
			return fail(ps, "unexpected character");
		errno = 0;
		j->num = strtod(ps->p, &end);
		if (end == ps->p || errno == ERANGE)
			return fail(ps, "bad number");
		j->type = JSON_NUM;
		ps->p = end;
	}
	}
	ps->depth--;
	return true;
}

struct json *json_parse(const char *text, char *err, size_t errlen)
{
	struct parser ps = {.p = text, .err = err, .errlen = errlen};
	struct json *j = calloc(1, sizeof(*j));

	err[0] = 0;
	if (!j) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (parse_value(&ps, j)) {
		skip_ws(&ps);
		if (!*ps.p)
			return j;
		fail(&ps, "text after the value");
	}
	json_free(j);
	return NULL;
}

void json_free(struct json *j)
{
	while (j) {
		struct json *next = j->next;

		json_free(j->kids);
		free(j->key);
		free(j->str);
		free(j);
		j = next;
	}
}

const struct json *json_get(const struct json *o, const char *key)
{
	if (!o || o->type != JSON_OBJ)
		return NULL;
	for (const struct json *k = o->kids; k; k = k->next)
		if (!strcmp(k->key, key))
			return k;
	return NULL;
}

double json_num(const struct json *o, const char *key, double def)
{
	const struct json *k = json_get(o, key);

	return k && k->type == JSON_NUM ? k->num : def;
}
