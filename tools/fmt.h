/*
 * fmt.h - numbers and errors written for people: "812ns", "46.5us",
 * "21.4k", "1.0 GiB", "EPERM".
 */
#ifndef UAIO_FMT_H
#define UAIO_FMT_H

#include <stddef.h>
#include <stdint.h>

/* "EPERM" for EPERM; never NULL. */
const char *errno_name(int err);

/* "812ns", "46.5us", "2.31ms"; "21.4k", "1.06M"; "1.0 GiB".  "-" for a
 * negative or infinite figure. */
void fmt_ns(char *buf, size_t len, double ns);
void fmt_count(char *buf, size_t len, double v);
void fmt_bytes(char *buf, size_t len, uint64_t v);

#endif
