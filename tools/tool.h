/*
 * tool.h - shared by the subcommands of the uaio command.
 *
 * Exit statuses are part of the interface: 0 success, 1 failure, 2 usage
 * error ('uaio run' returns the program's own status instead).
 */
#ifndef UAIO_TOOL_H
#define UAIO_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "args.h"

/* "EPERM" for EPERM; never NULL. */
const char *errno_name(int err);
/* The errno named ("EPERM") or numbered ("1"); -1 if neither. */
int errno_parse(const char *s);

/* Human-readable figures: "812ns", "46.5us", "2.31ms"; "21.4k", "1.06M";
 * "1.0 GiB". */
void fmt_ns(char *buf, size_t len, double ns);
void fmt_count(char *buf, size_t len, double v);
void fmt_bytes(char *buf, size_t len, uint64_t v);

/* s as a JSON string, quotes included; NULL prints null. */
void json_str(FILE *f, const char *s);

/* The libaio.so.1 this process loaded (the one that defines uaio_version):
 * its absolute path, or -errno. */
int uaio_lib_path(char *buf, size_t len);

/* A read-only file's first line, without the newline; -errno. */
int read_line(const char *path, char *buf, size_t len);
/* A /proc/sys-style file holding one integer; -errno. */
int read_long(const char *path, long long *v);

/* The name of a file system type from statfs's f_type ("ext4", ...). */
const char *fs_name(long f_type, char *buf, size_t len);

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * A text table: cells are copied; columns are sized to fit and numeric
 * columns (as flagged) are right-aligned.  Used for the per-context stats
 * and the bench results.
 */
struct table {
	unsigned ncols, nrows, cap;
	const char **head;
	bool *right;
	char **cells; /* nrows * ncols */
};

void table_init(struct table *t, unsigned ncols, const char *const *head,
		const bool *right);
/* Start a row; then table_set() its cells (unset cells print empty). */
void table_row(struct table *t);
void table_set(struct table *t, unsigned col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void table_print(const struct table *t, FILE *f, const char *indent);
void table_free(struct table *t);

int cmd_info(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_bench(int argc, char **argv);

#endif /* UAIO_TOOL_H */
