/*
 * util.c - errno names, number formatting, JSON strings, tables and /proc
 * reads shared by the subcommands (messages and option parsing: args.c).
 */
#include "tool.h"

#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <uaio.h>

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

int errno_parse(const char *s)
{
	char *end;
	long v;

	if (!*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (!*end && !errno)
		return v > 0 && v < 4096 ? (int)v : -1;
	for (int e = 1; e < 4096; e++)
		if (!strcmp(errno_name(e), s))
			return e;
	return -1;
}

void fmt_ns(char *buf, size_t len, double ns)
{
	if (!(ns >= 0) || !isfinite(ns))
		snprintf(buf, len, "-");
	else if (ns < 1e3)
		snprintf(buf, len, "%.0fns", ns);
	else if (ns < 1e6)
		snprintf(buf, len, "%.*fus",
			 ns < 1e4   ? 2
			 : ns < 1e5 ? 1
				    : 0,
			 ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, len, "%.*fms",
			 ns < 1e7   ? 2
			 : ns < 1e8 ? 1
				    : 0,
			 ns / 1e6);
	else
		snprintf(buf, len, "%.2fs", ns / 1e9);
}

void fmt_count(char *buf, size_t len, double v)
{
	if (!(v >= 0) || !isfinite(v))
		snprintf(buf, len, "-");
	else if (v < 1e4)
		snprintf(buf, len, "%.0f", v);
	else if (v < 1e6)
		snprintf(buf, len, "%.*fk", v < 1e5 ? 1 : 0, v / 1e3);
	else if (v < 1e9)
		snprintf(buf, len, "%.*fM", v < 1e8 ? 2 : 1, v / 1e6);
	else
		snprintf(buf, len, "%.2fG", v / 1e9);
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
	if (d == floor(d))
		snprintf(buf, len, "%.0f %s", d, unit[u]);
	else
		snprintf(buf, len, "%.1f %s", d, unit[u]);
}

void json_str(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
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

int uaio_lib_path(char *buf, size_t len)
{
	char dir[PATH_MAX], real[PATH_MAX];
	const char *base;
	Dl_info info;

	if (!dladdr((void *)uaio_version, &info) || !info.dli_fname ||
	    !info.dli_fname[0])
		return -ENOENT;
	/* The directory made absolute, the name kept as the loader found it
	 * (libaio.so.1, not the file the symlink points to). */
	base = strrchr(info.dli_fname, '/');
	if (base) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(base - info.dli_fname),
			 info.dli_fname);
		base++;
	} else {
		snprintf(dir, sizeof(dir), ".");
		base = info.dli_fname;
	}
	if (!realpath(dir[0] ? dir : "/", real))
		return -errno;
	if ((size_t)snprintf(buf, len, "%s/%s", strcmp(real, "/") ? real : "",
			     base) >= len)
		return -ERANGE;
	return 0;
}

int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	int ret = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f))
		ret = ferror(f) ? -EIO : -ENODATA;
	else
		buf[strcspn(buf, "\n")] = 0;
	fclose(f);
	return ret;
}

int read_long(const char *path, long long *v)
{
	char buf[64], *end;
	int ret = read_line(path, buf, sizeof(buf));

	if (ret)
		return ret;
	errno = 0;
	*v = strtoll(buf, &end, 10);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

const char *fs_name(long f_type, char *buf, size_t len)
{
	static const struct {
		unsigned long magic;
		const char *name;
	} fs[] = {
	    {0xef53, "ext4"},	       {0x58465342, "xfs"},
	    {0x9123683e, "btrfs"},     {0x01021994, "tmpfs"},
	    {0x794c7630, "overlayfs"}, {0x6969, "nfs"},
	    {0x2fc12fc1, "zfs"},       {0xf2f52010, "f2fs"},
	    {0x65735546, "fuse"},      {0x62646576, "bdev"},
	    {0x858458f6, "ramfs"},     {0xff534d42, "cifs"},
	    {0x4d44, "vfat"},	       {0x5346544e, "ntfs"},
	    {0x01021997, "9p"},	       {0x73717368, "squashfs"},
	};

	for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++)
		if ((unsigned long)f_type == fs[i].magic)
			return fs[i].name;
	snprintf(buf, len, "fs 0x%lx", (unsigned long)f_type);
	return buf;
}

void table_init(struct table *t, unsigned ncols, const char *const *head,
		const bool *right)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->head = calloc(ncols, sizeof(*t->head));
	t->right = calloc(ncols, sizeof(*t->right));
	if (!t->head || !t->right)
		die("out of memory");
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

void table_set(struct table *t, unsigned col, const char *fmt, ...)
{
	char **cell = &t->cells[(size_t)(t->nrows - 1) * t->ncols + col];
	va_list ap;

	free(*cell);
	va_start(ap, fmt);
	if (vasprintf(cell, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
}

void table_print(const struct table *t, FILE *f, const char *indent)
{
	size_t *w = calloc(t->ncols, sizeof(*w));

	if (!w)
		die("out of memory");
	for (unsigned c = 0; c < t->ncols; c++) {
		w[c] = strlen(t->head[c]);
		for (unsigned r = 0; r < t->nrows; r++) {
			const char *s = t->cells[(size_t)r * t->ncols + c];

			if (s && strlen(s) > w[c])
				w[c] = strlen(s);
		}
	}
	for (int r = -1; r < (int)t->nrows; r++) {
		char line[4096];
		size_t n = 0;

		for (unsigned c = 0; c < t->ncols; c++) {
			const char *s =
			    r < 0 ? t->head[c]
				  : t->cells[(size_t)r * t->ncols + c];
			int width = (int)w[c];

			if (!s)
				s = "";
			n += (size_t)snprintf(line + n, sizeof(line) - n,
					      "%s%*s", c ? "  " : "",
					      t->right[c] ? width : -width, s);
			if (n >= sizeof(line))
				n = sizeof(line) - 1;
		}
		while (n && line[n - 1] == ' ')
			n--;
		line[n] = 0;
		fprintf(f, "%s%s\n", indent, line);
	}
	free(w);
}

void table_free(struct table *t)
{
	for (size_t i = 0; i < (size_t)t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->head);
	free(t->right);
	memset(t, 0, sizeof(*t));
}
