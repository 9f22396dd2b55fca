/*
 * json-write.h - the JSON format of the programs' reports (json.h reads
 * JSON back).
 *
 * A container puts its members on lines of their own, indented, or on one
 * line: the reports keep what belongs together (a result, a setting) on a
 * line, so that they read, and grep, as text too.
 */
#ifndef UAIO_JSON_WRITE_H
#define UAIO_JSON_WRITE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct jw {
	FILE *f;
	int depth, level; /* containers open; of those, with members on lines */
	unsigned long lines, some, array; /* per depth */
};

/* The document: one object, its members on lines; jw_end() finishes it. */
void jw_begin(struct jw *w, FILE *f);
/* A member object or array (key NULL within an array). */
void jw_object(struct jw *w, const char *key, bool lines);
void jw_array(struct jw *w, const char *key, bool lines);
/* Close the innermost object or array. */
void jw_end(struct jw *w);

/* Members.  A NULL string is null; so is a real that is not finite. */
void jw_str(struct jw *w, const char *key, const char *s);
void jw_int(struct jw *w, const char *key, long long v);
void jw_uint(struct jw *w, const char *key, uint64_t v);
void jw_real(struct jw *w, const char *key, double v);
void jw_bool(struct jw *w, const char *key, bool v);

#endif
