/*
 * bench-file.c - the file uaio bench's cells use: a scratch file without
 * a name, so that nothing is left behind however the run ends; or one the
 * user named, only written to when the run writes and --force says so, and
 * only removed when this run created it.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "tool.h"

void ubench_cleanup(struct ubench *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	if (r->created[0])
		unlink(r->created);
	r->created[0] = 0;
}

void ubench_fail(struct ubench *r, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ubench_cleanup(r);
	die("%s", msg);
}

void ubench_check_signal(struct ubench *r)
{
	int sig = bench_signal;

	if (!sig)
		return;
	ubench_cleanup(r);
	tool_err("interrupted");
	signal(sig, SIG_DFL);
	raise(sig);
	exit(128 + sig);
}

/* Size of an open file or block device. */
static uint64_t file_size(int fd, const struct stat *st)
{
	uint64_t sz = 0;

	if (S_ISBLK(st->st_mode))
		return ioctl(fd, BLKGETSIZE64, &sz) ? 0 : sz;
	return (uint64_t)st->st_size;
}

static void check_space(struct ubench *r, const char *where)
{
	struct statvfs sv;
	char need[32], have[32];
	uint64_t avail;

	if (fstatvfs(r->fd, &sv))
		return;
	avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	if (avail >= r->o.size + (64ull << 20))
		return;
	fmt_bytes(need, sizeof(need), r->o.size);
	fmt_bytes(have, sizeof(have), avail);
	ubench_fail(r,
		    "not enough space in %s: the file needs %s, %s free "
		    "(see --size)",
		    where, need, have);
}

/* "ext4" or "block device", and the tmpfs note. */
static const char *kind(struct ubench *r, const struct stat *st, char *buf,
			size_t len)
{
	struct statfs sf;

	if (r->o.mode_on[MODE_DIRECT] && bench_on_tmpfs(r->fd))
		snprintf(r->mode_note[MODE_DIRECT],
			 sizeof(r->mode_note[MODE_DIRECT]),
			 "the file is on tmpfs: O_DIRECT measures memory, not "
			 "a disk");
	if (st && S_ISBLK(st->st_mode))
		return "block device";
	if (fstatfs(r->fd, &sf))
		return "?";
	return fs_name(sf.f_type, buf, len);
}

static void filling(void *arg, uint64_t done, uint64_t total)
{
	ubench_check_signal(arg);
	tool_status("preparing the file: %" PRIu64 "%%", done * 100 / total);
}

/* Fill the file, O_DIRECT when possible so that it starts out of the page
 * cache. */
static void fill(struct ubench *r, const char *where)
{
	struct bench_why why;

	check_space(r, where);
	if (bench_fill(r->fd, r->o.size, BENCH_FILL_DIRECT_IF_CAN, filling, r,
		       &why))
		ubench_fail(r, "preparing %s: %s", r->where, why.msg);
	tool_status_clear();
}

static void scratch(struct ubench *r)
{
	const char *dir = getenv("TMPDIR");
	char fsb[32], sz[32];

	if (!dir || !*dir)
		dir = "/tmp";
	r->fd = bench_scratch(dir);
	if (r->fd < 0)
		ubench_fail(r, "cannot make a scratch file in %s: %s", dir,
			    strerror(-r->fd));
	r->scratch = true;
	fmt_bytes(sz, sizeof(sz), r->o.size);
	snprintf(r->where, sizeof(r->where),
		 "%s unnamed scratch file in %.200s (%s)", sz, dir,
		 kind(r, NULL, fsb, sizeof(fsb)));
	fill(r, dir);
}

/* The user's file: read, or written with --force; never extended. */
static void existing(struct ubench *r, const struct stat *st)
{
	struct ubench_opts *o = &r->o;
	char fsb[32], sz[32];
	uint64_t have;

	if (!S_ISREG(st->st_mode) && !S_ISBLK(st->st_mode))
		ubench_fail(r, "%s is not a regular file or a block device",
			    o->file);
	if (o->rw != BENCH_READ && !o->force)
		ubench_fail(r,
			    "refusing to write to %s, which exists: --rw %s "
			    "would overwrite its data.  Nothing was written.  "
			    "Add --force to allow it, or name a file that "
			    "does not exist (it is then made and removed)",
			    o->file, bench_rw_names[o->rw]);
	r->fd = open(o->file,
		     (o->rw == BENCH_READ ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (r->fd < 0)
		ubench_fail(r, "open %s: %s", o->file, strerror(errno));
	have = file_size(r->fd, st);
	if (o->size_set && o->size > have)
		ubench_fail(r,
			    "%s has %" PRIu64 " bytes, fewer than --size "
			    "%" PRIu64 " (an existing file is never extended)",
			    o->file, have, o->size);
	o->size = o->size_set ? o->size : have - have % o->bs;
	if (o->size < o->bs)
		ubench_fail(r,
			    "%s is smaller than one block (--bs %" PRIu64 ")",
			    o->file, o->bs);
	fmt_bytes(sz, sizeof(sz), o->size);
	snprintf(r->where, sizeof(r->where), "%s of %.200s (%s)", sz, o->file,
		 kind(r, st, fsb, sizeof(fsb)));
}

void ubench_open_file(struct ubench *r)
{
	const char *file = r->o.file;
	char fsb[32], sz[32];
	struct stat st;

	if (!file) {
		scratch(r);
		return;
	}
	if (stat(file, &st) == 0) {
		existing(r, &st);
		return;
	}
	if (errno != ENOENT)
		ubench_fail(r, "%s: %s", file, strerror(errno));
	r->fd = open(file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (r->fd < 0)
		ubench_fail(r, "cannot create %s: %s", file, strerror(errno));
	snprintf(r->created, sizeof(r->created), "%s", file);
	fmt_bytes(sz, sizeof(sz), r->o.size);
	snprintf(r->where, sizeof(r->where),
		 "%s file %.200s (%s), removed afterwards", sz, file,
		 kind(r, NULL, fsb, sizeof(fsb)));
	fill(r, file);
}
