/*
 * fmt.c - numbers and errors written for people.
 */
#include "fmt.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

const char *errno_name(int err)
{
	static __thread char buf[16];
	const char *s = NULL;

#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 32)
	s = strerrorname_np(err);
#endif
	if (s)
		return s;
	snprintf(buf, sizeof(buf), "errno %d", err);
	return buf;
}

/*
 * A unit is used from `from` on; a figure in it gets two decimals below
 * `two`, one below `one`: three significant digits, or about.
 */
struct unit {
	double from, scale;
	const char *name;
	double two, one;
};

static void scaled(char *buf, size_t len, double v, const struct unit *u,
		   size_t n)
{
	size_t i = 0;

	if (!(v >= 0) || !isfinite(v)) {
		snprintf(buf, len, "-");
		return;
	}
	while (i + 1 < n && v >= u[i + 1].from)
		i++;
	v /= u[i].scale;
	snprintf(buf, len, "%.*f%s",
		 v < u[i].two	? 2
		 : v < u[i].one ? 1
				: 0,
		 v, u[i].name);
}

void fmt_ns(char *buf, size_t len, double ns)
{
	static const struct unit u[] = {
	    {0, 1, "ns", 0, 0},
	    {1e3, 1e3, "us", 10, 100},
	    {1e6, 1e6, "ms", 10, 100},
	    {1e9, 1e9, "s", INFINITY, INFINITY},
	};

	scaled(buf, len, ns, u, sizeof(u) / sizeof(u[0]));
}

void fmt_count(char *buf, size_t len, double v)
{
	static const struct unit u[] = {
	    {0, 1, "", 0, 0},
	    {1e4, 1e3, "k", 0, 100},
	    {1e6, 1e6, "M", 100, INFINITY},
	    {1e9, 1e9, "G", INFINITY, INFINITY},
	};

	scaled(buf, len, v, u, sizeof(u) / sizeof(u[0]));
}

void fmt_bytes(char *buf, size_t len, uint64_t v)
{
	static const char *const unit[] = {"KiB", "MiB", "GiB", "TiB"};
	double d = (double)v;
	int u = -1;

	if (v < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", v);
		return;
	}
	while (d >= 1024 && u < 3) {
		d /= 1024;
		u++;
	}
	snprintf(buf, len, "%.*f %s", d == floor(d) ? 0 : 1, d, unit[u]);
}
