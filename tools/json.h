/*
 * json.h - a small JSON reader, enough for the UAIO_STATS lines that
 * 'uaio run --stats' reads back.
 */
#ifndef UAIO_TOOL_JSON_H
#define UAIO_TOOL_JSON_H

#include <stdbool.h>
#include <stddef.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUM, JSON_STR, JSON_OBJ, JSON_ARR };

struct json {
	enum json_type type;
	char *key;	   /* within an object, else NULL */
	double num;	   /* JSON_NUM, JSON_BOOL (0 or 1) */
	char *str;	   /* JSON_STR */
	struct json *kids; /* JSON_OBJ, JSON_ARR: first member */
	struct json *next; /* next member of the parent */
};

/* Parse text (the whole of it must be one value); NULL with err set. */
struct json *json_parse(const char *text, char *err, size_t errlen);
void json_free(struct json *j);
/* The member key of object o, or NULL. */
const struct json *json_get(const struct json *o, const char *key);
/* Member key as a number; def if absent or not a number. */
double json_num(const struct json *o, const char *key, double def);

#endif
