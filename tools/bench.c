/*
 * bench.c - uaio bench: random I/O on every engine this host can run, and on
 * the system libaio, compared in one run.
 *
 * For each mode (buffered with the file's cache dropped, buffered with the
 * file cached, O_DIRECT), each depth and each engine, one child process
 * (bench-child.c) runs the cell; the driver prepares the file and the page
 * cache before it, shows progress, and prints the table at the end.  The
 * scratch file has no name (O_TMPFILE, or unlinked at once), so nothing is
 * left behind however the run ends; a file the user named is only written
 * to when the run writes and --force says so, and only removed when this
 * run created it.
 */
#include "bench.h"
#include "tool.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/fs.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uaio.h>

const char *const bench_mode_name[NMODES] = {"uncached", "cached", "direct"};
const char *const bench_mode_label[NMODES] = {"buffered uncached",
					      "buffered cached", "O_DIRECT"};
const char *const bench_impl_name[NIMPLS] = {"libaio", "kernel", "uring",
					     "threads"};
const char *const bench_impl_label[NIMPLS] = {"system libaio", "uaio kernel",
					      "uaio uring", "uaio threads"};
static const char *const rw_name[] = {"read", "write", "randrw"};

#ifndef UAIO_SYSTEM_LIBAIO
#define UAIO_SYSTEM_LIBAIO ""
#endif

#define MAX_DEPTHS 16
#define REREAD_NOTE                                                            \
	"a cell read more blocks than the file has, so that some of its "      \
	"reads "                                                               \
	"hit the cache (use a larger --size or a shorter --duration)"

struct opts {
	uint64_t size, bs;
	bool size_set;
	unsigned depth[MAX_DEPTHS], ndepth;
	enum bench_rw rw;
	unsigned rwmix;
	bool rwmix_set;
	double duration;
	bool duration_set;
	bool mode_on[NMODES];
	bool impl_on[NIMPLS], impls_set;
	const char *file;
	bool force, json, quick;
	const char *threads;
	const char *syslib;
};

enum cell_state { CELL_PENDING, CELL_OK, CELL_NA, CELL_FAILED };

struct result {
	enum cell_state state;
	uint64_t ops, elapsed_ns;
	double iops, mean, p50, p99, max, submit;
	double resident; /* % of the file cached when the cell began, -1 */
	char reason[256];
};

struct run {
	struct opts o;
	int fd;
	bool scratch;		/* nameless file of our own */
	char created[PATH_MAX]; /* a --file we made, to remove */
	char where[PATH_MAX + 64];
	char syslib[PATH_MAX];
	char impl_why[NIMPLS][UAIO_REASON_MAX];
	bool impl_ok[NIMPLS];
	char mode_note[NMODES][160];
	bool reread_note;   /* an uncached cell read more than the file */
	struct result *res; /* [mode][depth][impl] */
	unsigned ncells, cell;
};

static volatile sig_atomic_t interrupted;
static volatile sig_atomic_t cur_child;
static bool tty;

static void on_signal(int sig)
{
	interrupted = sig;
	if (cur_child > 0)
		kill((pid_t)cur_child, SIGKILL);
}

static void usage(FILE *f)
{
	fputs("Usage: uaio bench [OPTION]...\n"
	      "\n"
	      "Random I/O through the libaio API on every uaio engine this "
	      "host can run and,\n"
	      "when it is installed, on the system libaio, in one run, so "
	      "that the figures can\n"
	      "be compared as ratios.\n"
	      "\n"
	      "Without options: a 1 GiB scratch file in $TMPDIR (default "
	      "/tmp), random 4 KiB\n"
	      "reads for 3 seconds per cell, at depths 1 and 32, in three "
	      "modes:\n"
	      "  uncached  buffered I/O, the file's page cache dropped "
	      "before each cell\n"
	      "            (fsync, then posix_fadvise(POSIX_FADV_DONTNEED): "
	      "no root needed)\n"
	      "  cached    buffered I/O, the file read into the page cache "
	      "first\n"
	      "  direct    O_DIRECT\n"
	      "Each cell (mode, depth, engine) runs in a child process of "
	      "its own that keeps\n"
	      "DEPTH requests in flight, submitting every free slot in one "
	      "io_submit and\n"
	      "reaping with io_getevents.  As with fio's defaults, offsets "
	      "do not repeat\n"
	      "until every block of the file has been used, and buffered "
	      "cells advise\n"
	      "POSIX_FADV_RANDOM.  Latency runs from before the io_submit "
	      "that carried a\n"
	      "request to after the io_getevents that returned it.  The "
	      "scratch file has no\n"
	      "name and vanishes however the run ends.\n"
	      "\n"
	      "A progress line is shown on stderr (one line per cell when "
	      "stderr is not a\n"
	      "terminal); at the end, a table on stdout: IOPS, mean and 99th "
	      "percentile\n"
	      "latency, the mean time spent inside io_submit per request, "
	      "and IOPS as a ratio\n"
	      "of the system libaio's in the same mode and depth.\n"
	      "\n"
	      "Options:\n"
	      "  --engines LIST   comma-separated: libaio (the system's; also "
	      "'system'),\n"
	      "                   kernel, uring, threads (default: the system "
	      "libaio when\n"
	      "                   installed, and every engine uaio_probe() "
	      "finds usable)\n"
	      "  --modes LIST     comma-separated: uncached, cached, direct "
	      "(default: all)\n"
	      "  --depth LIST     comma-separated queue depths, 1 to 4096 "
	      "(default 1,32)\n"
	      "  --bs SIZE        request size, a multiple of 512 (default "
	      "4K)\n"
	      "  --rw RW          read, write or randrw (also randread, "
	      "randwrite); offsets\n"
	      "                   are always random (default read)\n"
	      "  --rwmix PCT      with --rw randrw: percentage of reads "
	      "(default 50)\n"
	      "  --size SIZE      file size: of the scratch file, or of a new "
	      "--file (default\n"
	      "                   1G); with an existing --file, how much of "
	      "it to use\n"
	      "                   (default all, never more than it has)\n"
	      "  --duration SECS  length of each cell (default 3)\n"
	      "  --file PATH      use PATH (a file or a block device) instead "
	      "of a scratch\n"
	      "                   file; if it does not exist it is made, "
	      "filled, and removed\n"
	      "                   at the end.  An existing one is only read, "
	      "unless --force\n"
	      "  --force          allow --rw write or randrw on an existing "
	      "--file: its data\n"
	      "                   are overwritten.  Without it such a run "
	      "stops before\n"
	      "                   touching the file\n"
	      "  --threads N      worker threads per context for the threads "
	      "engine\n"
	      "                   (UAIO_THREADS)\n"
	      "  --system-libaio PATH\n"
	      "                   the system libaio.so.1 to compare with "
	      "(default: found in\n"
	      "                   the usual library directories)\n"
	      "  --quick          a short run: --size 64M --duration 0.5 "
	      "(explicit options\n"
	      "                   still win)\n"
	      "  --json           print the results as JSON on stdout instead "
	      "of the table\n"
	      "  --help           print this help and exit\n"
	      "\n"
	      "SIZE takes a K, M, G or T suffix (powers of 1024).  Sizes "
	      "and offsets must suit\n"
	      "O_DIRECT on the device (a multiple of its logical block "
	      "size).  On tmpfs the\n"
	      "page cache cannot be dropped and O_DIRECT measures memory, "
	      "not a disk.\n"
	      "\n"
	      "Exit status: 0 when every cell that could run on this host "
	      "ran (an engine or\n"
	      "mode the host cannot run is reported, not a failure), 1 when "
	      "a cell failed\n"
	      "(a request error, a crash, a timeout) or the file could not "
	      "be prepared or was\n"
	      "refused, 2 on a usage error.  Interrupted, it removes what it "
	      "made and dies of\n"
	      "the same signal.\n",
	      f);
}

static struct result *cell_res(struct run *r, unsigned m, unsigned d,
			       unsigned i)
{
	return &r->res[((size_t)m * r->o.ndepth + d) * NIMPLS + i];
}

/* ---- options ---- */

static void parse_list(const char *opt, const char *arg,
		       const char *const *names, unsigned n, bool *on)
{
	char *copy = strdup(arg), *save = NULL, *tok;
	bool any = false;

	if (!copy)
		die("out of memory");
	memset(on, 0, n * sizeof(*on));
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned i;

		if (!strcmp(opt, "--engines") && !strcmp(tok, "system"))
			tok = "libaio";
		for (i = 0; i < n; i++)
			if (!strcmp(tok, names[i]))
				break;
		if (i == n)
			usage_error("%s: unknown name '%s'", opt, tok);
		on[i] = any = true;
	}
	free(copy);
	if (!any)
		usage_error("%s: empty list", opt);
}

static void parse_depths(const char *arg, struct opts *o)
{
	char *copy = strdup(arg), *save = NULL, *tok;

	if (!copy)
		die("out of memory");
	o->ndepth = 0;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (o->ndepth == MAX_DEPTHS)
			usage_error("--depth: at most %d depths", MAX_DEPTHS);
		o->depth[o->ndepth++] =
		    (unsigned)parse_uint("--depth", tok, 1, 4096);
	}
	free(copy);
	if (!o->ndepth)
		usage_error("--depth: empty list");
}

/* ---- the system libaio ---- */

/* Whether path is a loadable libaio.so.1 that is not uaio's. */
static bool is_system_libaio(const char *path, char *why, size_t len)
{
	void *h;
	bool ok;

	if (access(path, R_OK)) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return false;
	}
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(why, len, "%s", dlerror());
		return false;
	}
	ok = dlsym(h, "io_submit") && !dlsym(h, "uaio_version");
	if (!ok)
		snprintf(why, len, "%s is %s", path,
			 dlsym(h, "uaio_version") ? "uaio's libaio.so.1"
						  : "not a libaio");
	dlclose(h);
	return ok;
}

static bool find_system_libaio(struct run *r, char *why, size_t len)
{
	static const char *const dirs[] = {
#ifdef UAIO_MULTIARCH
	    "/usr/lib/" UAIO_MULTIARCH,
	    "/lib/" UAIO_MULTIARCH,
#endif
	    "/usr/lib64",
	    "/lib64",
	    "/usr/lib",
	    "/lib",
	};
	static const char *const names[] = {"libaio.so.1", "libaio.so.1t64"};

	if (r->o.syslib) {
		snprintf(r->syslib, sizeof(r->syslib), "%s", r->o.syslib);
		return is_system_libaio(r->syslib, why, len);
	}
	snprintf(why, len,
		 "not installed (no libaio.so.1 in the usual "
		 "library directories; see --system-libaio)");
	if (UAIO_SYSTEM_LIBAIO[0] && access(UAIO_SYSTEM_LIBAIO, R_OK) == 0) {
		snprintf(r->syslib, sizeof(r->syslib), "%s",
			 UAIO_SYSTEM_LIBAIO);
		if (is_system_libaio(r->syslib, why, len))
			return true;
	}
	for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++)
		for (size_t n = 0; n < 2; n++) {
			snprintf(r->syslib, sizeof(r->syslib), "%s/%s", dirs[d],
				 names[n]);
			if (access(r->syslib, R_OK) == 0 &&
			    is_system_libaio(r->syslib, why, len))
				return true;
		}
	r->syslib[0] = 0;
	return false;
}

static void choose_impls(struct run *r)
{
	for (int i = 0; i < NIMPLS; i++) {
		bool wanted = r->o.impls_set ? r->o.impl_on[i] : true;
		int ret;

		if (!wanted)
			continue;
		if (i == IMPL_LIBAIO) {
			r->impl_ok[i] = find_system_libaio(
			    r, r->impl_why[i], sizeof(r->impl_why[i]));
			continue;
		}
		ret = uaio_probe(bench_impl_name[i], r->impl_why[i],
				 sizeof(r->impl_why[i]));
		r->impl_ok[i] = ret == 0;
		if (ret && !r->impl_why[i][0])
			snprintf(r->impl_why[i], sizeof(r->impl_why[i]), "%s",
				 strerror(-ret));
	}
}

/* ---- the file ---- */

static void progress_clear(void)
{
	if (tty)
		fprintf(stderr, "\r\033[K");
}

static void cleanup(struct run *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	if (r->created[0])
		unlink(r->created);
	r->created[0] = 0;
}

static void __attribute__((noreturn)) die_interrupted(struct run *r)
{
	int sig = interrupted;

	progress_clear();
	cleanup(r);
	tool_err("interrupted");
	signal(sig, SIG_DFL);
	raise(sig);
	exit(128 + sig);
}

static void __attribute__((noreturn, format(printf, 2, 3)))
fail(struct run *r, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	progress_clear();
	cleanup(r);
	die("%s", msg);
}

/* Size of an open file or block device. */
static uint64_t file_size(int fd, const struct stat *st)
{
	uint64_t sz = 0;

	if (S_ISBLK(st->st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &sz))
			return 0;
		return sz;
	}
	return (uint64_t)st->st_size;
}

static void check_space(struct run *r, int fd, const char *where)
{
	struct statvfs sv;
	uint64_t avail;

	if (fstatvfs(fd, &sv))
		return;
	avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	if (avail < r->o.size + (64ull << 20)) {
		char need[32], have[32];

		fmt_bytes(need, sizeof(need), r->o.size);
		fmt_bytes(have, sizeof(have), avail);
		fail(r,
		     "not enough space in %s: the file needs %s, %s free "
		     "(see --size)",
		     where, need, have);
	}
}

static void note_fs(struct run *r, const struct statfs *sf)
{
	if ((unsigned long)sf->f_type == 0x01021994 &&
	    r->o.mode_on[MODE_DIRECT])
		snprintf(r->mode_note[MODE_DIRECT],
			 sizeof(r->mode_note[MODE_DIRECT]),
			 "the file is on tmpfs: O_DIRECT measures memory, not "
			 "a disk");
}

/* Fill the file with incompressible data, O_DIRECT when possible so that it
 * starts out of the page cache. */
static void fill(struct run *r)
{
	const uint64_t chunk = 1 << 20;
	uint64_t seed = 0x5eed5eed5eedull, off;
	char path[64], *buf;
	int wfd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", r->fd);
	wfd = open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
	if (wfd < 0)
		wfd = open(path, O_WRONLY | O_CLOEXEC);
	if (wfd < 0)
		fail(r, "open %s: %s", path, strerror(errno));
	if (posix_memalign((void **)&buf, 4096, chunk))
		fail(r, "out of memory");
	for (off = 0; off < r->o.size; off += chunk) {
		uint64_t n = r->o.size - off < chunk ? r->o.size - off : chunk;
		ssize_t w;

		for (uint64_t i = 0; i + 8 <= chunk; i += 8) {
			seed ^= seed >> 12;
			seed ^= seed << 25;
			seed ^= seed >> 27;
			memcpy(buf + i, &seed, 8);
		}
		w = pwrite(wfd, buf, n, (off_t)off);
		if (w < 0 && errno == EINVAL && off == 0) {
			/* O_DIRECT refused this size: go buffered. */
			close(wfd);
			wfd = open(path, O_WRONLY | O_CLOEXEC);
			if (wfd < 0)
				fail(r, "open %s: %s", path, strerror(errno));
			w = pwrite(wfd, buf, n, (off_t)off);
		}
		if (w != (ssize_t)n)
			fail(r, "writing %s: %s", r->where,
			     w < 0 ? strerror(errno) : "short write");
		if (interrupted)
			die_interrupted(r);
		if (tty && !(off % (32 * chunk)))
			fprintf(stderr,
				"\r\033[Kpreparing the file: %" PRIu64 "%%",
				off * 100 / r->o.size);
	}
	free(buf);
	if (fsync(wfd))
		fail(r, "fsync %s: %s", r->where, strerror(errno));
	close(wfd);
	progress_clear();
}

static void open_file(struct run *r)
{
	struct opts *o = &r->o;
	char fsb[32], sz[32];
	struct statfs sf;
	struct stat st;

	if (!o->file) {
		const char *dir = getenv("TMPDIR");
		char tmpl[PATH_MAX];

		if (!dir || !*dir)
			dir = "/tmp";
		r->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (r->fd < 0) {
			snprintf(tmpl, sizeof(tmpl), "%s/uaio-bench.XXXXXX",
				 dir);
			r->fd = mkostemp(tmpl, O_CLOEXEC);
			if (r->fd < 0)
				fail(r, "cannot make a scratch file in %s: %s",
				     dir, strerror(errno));
			unlink(tmpl);
		}
		r->scratch = true;
		fstatfs(r->fd, &sf);
		fmt_bytes(sz, sizeof(sz), o->size);
		snprintf(r->where, sizeof(r->where),
			 "%s unnamed scratch file in %.200s (%s)", sz, dir,
			 fs_name(sf.f_type, fsb, sizeof(fsb)));
		check_space(r, r->fd, dir);
		note_fs(r, &sf);
		fill(r);
		return;
	}

	if (stat(o->file, &st) == 0) {
		uint64_t have;

		if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
			fail(r, "%s is not a regular file or a block device",
			     o->file);
		if (o->rw != RW_READ && !o->force)
			fail(r,
			     "refusing to write to %s, which exists: --rw %s "
			     "would overwrite its data.  Nothing was written.  "
			     "Add --force to allow it, or name a file that "
			     "does not exist (it is then made and removed)",
			     o->file, rw_name[o->rw]);
		r->fd = open(o->file, (o->rw == RW_READ ? O_RDONLY : O_RDWR) |
					  O_CLOEXEC);
		if (r->fd < 0)
			fail(r, "open %s: %s", o->file, strerror(errno));
		have = file_size(r->fd, &st);
		if (!o->size_set)
			o->size = have;
		else if (o->size > have)
			fail(r,
			     "%s has %" PRIu64 " bytes, fewer than --size "
			     "%" PRIu64 " (an existing file is never "
			     "extended)",
			     o->file, have, o->size);
		o->size -= o->size % o->bs;
		if (o->size < o->bs)
			fail(r,
			     "%s is smaller than one block (--bs %" PRIu64 ")",
			     o->file, o->bs);
		fstatfs(r->fd, &sf);
		note_fs(r, &sf);
		fmt_bytes(sz, sizeof(sz), o->size);
		snprintf(r->where, sizeof(r->where), "%s of %.200s (%s%s)", sz,
			 o->file, S_ISBLK(st.st_mode) ? "block device" : "",
			 S_ISBLK(st.st_mode)
			     ? ""
			     : fs_name(sf.f_type, fsb, sizeof(fsb)));
		return;
	}
	if (errno != ENOENT)
		fail(r, "%s: %s", o->file, strerror(errno));
	r->fd = open(o->file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (r->fd < 0)
		fail(r, "cannot create %s: %s", o->file, strerror(errno));
	snprintf(r->created, sizeof(r->created), "%s", o->file);
	fstatfs(r->fd, &sf);
	fmt_bytes(sz, sizeof(sz), o->size);
	snprintf(r->where, sizeof(r->where),
		 "%s file %.200s (%s), removed afterwards", sz, o->file,
		 fs_name(sf.f_type, fsb, sizeof(fsb)));
	check_space(r, r->fd, o->file);
	note_fs(r, &sf);
	fill(r);
}

/* Percentage of the file in the page cache, or -1 when it cannot be told. */
static double resident(struct run *r)
{
	const uint64_t win = 256ull << 20;
	long page = sysconf(_SC_PAGESIZE);
	uint64_t in = 0, total = 0;
	unsigned char *vec;

	/* Not worth minutes of mincore on a large device. */
	if (r->o.size > (64ull << 30))
		return -1;
	vec = malloc(win / (uint64_t)page);
	if (!vec)
		return -1;
	for (uint64_t off = 0; off < r->o.size; off += win) {
		uint64_t len = r->o.size - off < win ? r->o.size - off : win;
		uint64_t np = (len + (uint64_t)page - 1) / (uint64_t)page;
		void *p =
		    mmap(NULL, len, PROT_READ, MAP_SHARED, r->fd, (off_t)off);

		if (p == MAP_FAILED) {
			free(vec);
			return -1;
		}
		if (mincore(p, len, vec)) {
			munmap(p, len);
			free(vec);
			return -1;
		}
		for (uint64_t i = 0; i < np; i++)
			in += vec[i] & 1;
		total += np;
		munmap(p, len);
	}
	free(vec);
	return total ? 100.0 * (double)in / (double)total : -1;
}

static void drop_cache(struct run *r)
{
	fsync(r->fd);
	posix_fadvise(r->fd, 0, 0, POSIX_FADV_DONTNEED);
}

static void warm_cache(struct run *r)
{
	const size_t chunk = 1 << 20;
	char *buf = malloc(chunk);

	if (!buf)
		fail(r, "out of memory");
	posix_fadvise(r->fd, 0, 0, POSIX_FADV_WILLNEED);
	for (uint64_t off = 0; off < r->o.size; off += chunk) {
		if (pread(r->fd, buf, chunk, (off_t)off) < 0)
			fail(r, "reading %s: %s", r->where, strerror(errno));
		if (interrupted)
			die_interrupted(r);
		if (tty && !(off % (64 * chunk)))
			fprintf(stderr,
				"\r\033[Kreading the file into the cache: "
				"%" PRIu64 "%%",
				off * 100 / r->o.size);
	}
	free(buf);
	progress_clear();
}

/* ---- running a cell ---- */

static void show_progress(struct run *r, unsigned m, unsigned d, unsigned i,
			  uint64_t ops, uint64_t ns)
{
	char iops[32];

	if (!tty)
		return;
	fmt_count(iops, sizeof(iops), ns ? (double)ops * 1e9 / (double)ns : 0);
	fprintf(stderr,
		"\r\033[K[%u/%u] %s, depth %u, %s: %.1f/%.1f s, %s IOPS",
		r->cell, r->ncells, bench_mode_label[m], r->o.depth[d],
		bench_impl_label[i], (double)ns / 1e9, r->o.duration, iops);
}

/* Handle one line from the child; false when it was unreadable. */
static bool child_line(struct run *r, unsigned m, unsigned d, unsigned i,
		       char *line, struct result *res)
{
	unsigned long long a, b;

	switch (line[0]) {
	case 'p':
		if (sscanf(line, "p %llu %llu", &a, &b) == 2)
			show_progress(r, m, d, i, a, b);
		return true;
	case 'r':
		if (sscanf(line, "r %llu %llu %lf %lf %lf %lf %lf", &a, &b,
			   &res->mean, &res->p50, &res->p99, &res->max,
			   &res->submit) != 7 ||
		    !b)
			return false;
		res->ops = a;
		res->elapsed_ns = b;
		res->iops = (double)a * 1e9 / (double)b;
		res->state = CELL_OK;
		return true;
	case 'u':
	case 'e':
		snprintf(res->reason, sizeof(res->reason), "%.*s",
			 (int)sizeof(res->reason) - 1,
			 line[1] ? line + 2 : "?");
		res->state = line[0] == 'u' ? CELL_NA : CELL_FAILED;
		return true;
	}
	return false;
}

static void run_cell(struct run *r, unsigned m, unsigned d, unsigned i,
		     struct result *res)
{
	char a_mode[16], a_fd[16], a_depth[16], a_bs[32], a_size[32], a_dur[32],
	    a_mix[16], a_seed[32];
	char *argv[] = {"uaio",
			"bench",
			"--child",
			(char *)bench_impl_name[i],
			"--child-mode",
			a_mode,
			"--child-fd",
			a_fd,
			"--depth",
			a_depth,
			"--bs",
			a_bs,
			"--size",
			a_size,
			"--duration",
			a_dur,
			"--rw",
			(char *)rw_name[r->o.rw],
			"--rwmix",
			a_mix,
			"--seed",
			a_seed,
			"--system-libaio",
			r->syslib,
			NULL};
	double timeout = 20 + 4 * r->o.duration;
	uint64_t deadline;
	char out[4096];
	size_t got = 0;
	bool timed_out = false, garbled = false;
	int p[2], st;
	pid_t pid;

	snprintf(a_mode, sizeof(a_mode), "%s", bench_mode_name[m]);
	snprintf(a_fd, sizeof(a_fd), "%d", r->fd);
	snprintf(a_depth, sizeof(a_depth), "%u", r->o.depth[d]);
	snprintf(a_bs, sizeof(a_bs), "%" PRIu64, r->o.bs);
	snprintf(a_size, sizeof(a_size), "%" PRIu64, r->o.size);
	snprintf(a_dur, sizeof(a_dur), "%.17g", r->o.duration);
	snprintf(a_mix, sizeof(a_mix), "%u", r->o.rwmix);
	snprintf(a_seed, sizeof(a_seed), "%u", 1000003u * (r->cell + 1));

	if (pipe2(p, O_CLOEXEC))
		fail(r, "pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		fail(r, "fork: %s", strerror(errno));
	if (!pid) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		dup2(p[1], STDOUT_FILENO);
		/* The one descriptor it inherits (reopened by the child). */
		fcntl(r->fd, F_SETFD, 0);
		/* The child's own stats would only cost time. */
		unsetenv("UAIO_STATS");
		if (i == IMPL_LIBAIO) {
			unsetenv("UAIO_ENGINE");
		} else {
			setenv("UAIO_ENGINE", bench_impl_name[i], 1);
			if (r->o.threads)
				setenv("UAIO_THREADS", r->o.threads, 1);
		}
		execv("/proc/self/exe", argv);
		dprintf(STDOUT_FILENO, "e exec /proc/self/exe: %s\n",
			strerror(errno));
		_exit(1);
	}
	cur_child = pid;
	close(p[1]);
	deadline = now_ns() + (uint64_t)(timeout * 1e9);
	for (;;) {
		struct pollfd pfd = {.fd = p[0], .events = POLLIN};
		uint64_t t = now_ns();
		char *nl;
		ssize_t n;

		if (interrupted)
			break;
		if (t >= deadline) {
			kill(pid, SIGKILL);
			timed_out = true;
			break;
		}
		n = poll(&pfd, 1, (int)((deadline - t) / 1000000 + 1));
		if (n <= 0)
			continue;
		n = read(p[0], out + got, sizeof(out) - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		out[got] = 0;
		while ((nl = strchr(out, '\n'))) {
			*nl = 0;
			if (!child_line(r, m, d, i, out, res))
				garbled = true;
			got -= (size_t)(nl + 1 - out);
			memmove(out, nl + 1, got + 1);
		}
		if (got == sizeof(out) - 1)
			got = 0; /* a line that long is garbage */
	}
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	cur_child = 0;
	if (interrupted)
		die_interrupted(r);
	if (timed_out) {
		res->state = CELL_FAILED;
		snprintf(res->reason, sizeof(res->reason),
			 "timed out after %.0f s", timeout);
	} else if (WIFSIGNALED(st)) {
		res->state = CELL_FAILED;
		snprintf(res->reason, sizeof(res->reason),
			 "killed by signal %d (%s)", WTERMSIG(st),
			 strsignal(WTERMSIG(st)));
	} else if (WEXITSTATUS(st) == 0 && res->state != CELL_OK) {
		res->state = CELL_FAILED;
		snprintf(res->reason, sizeof(res->reason), "%s",
			 garbled ? "unreadable report" : "no result");
	} else if (WEXITSTATUS(st) != 0 && res->state == CELL_PENDING) {
		res->state = CELL_FAILED;
		snprintf(res->reason, sizeof(res->reason), "exit status %d",
			 WEXITSTATUS(st));
	} else if (WEXITSTATUS(st) != 0 && res->state == CELL_OK) {
		res->state = CELL_FAILED;
		snprintf(res->reason, sizeof(res->reason),
			 "exit status %d after its result", WEXITSTATUS(st));
	}
}

static void note_cell(struct run *r, unsigned m, unsigned d, unsigned i,
		      const struct result *res)
{
	char iops[32], lat[32];

	if (res->state == CELL_FAILED) {
		progress_clear();
		tool_err("%s, depth %u, %s failed: %s", bench_mode_label[m],
			 r->o.depth[d], bench_impl_label[i], res->reason);
		return;
	}
	if (tty)
		return;
	if (res->state != CELL_OK) {
		fprintf(stderr,
			"uaio bench: [%u/%u] %s, depth %u, %s: n/a (%s)\n",
			r->cell, r->ncells, bench_mode_label[m], r->o.depth[d],
			bench_impl_label[i], res->reason);
		return;
	}
	fmt_count(iops, sizeof(iops), res->iops);
	fmt_ns(lat, sizeof(lat), res->mean);
	fprintf(stderr,
		"uaio bench: [%u/%u] %s, depth %u, %s: %s IOPS, mean %s\n",
		r->cell, r->ncells, bench_mode_label[m], r->o.depth[d],
		bench_impl_label[i], iops, lat);
}

static bool run_all(struct run *r)
{
	unsigned ok[NIMPLS], nok = 0, group = 0;
	bool failed = false;

	for (unsigned i = 0; i < NIMPLS; i++)
		if (r->impl_ok[i])
			ok[nok++] = i;
	r->ncells = 0;
	for (unsigned m = 0; m < NMODES; m++)
		if (r->o.mode_on[m])
			r->ncells += r->o.ndepth * nok;
	for (unsigned m = 0; m < NMODES; m++) {
		/* Set when the file system refused O_DIRECT: once is enough. */
		char na[sizeof(r->res[0].reason)] = "";

		if (!r->o.mode_on[m])
			continue;
		if (m == MODE_CACHED) {
			double pct;

			warm_cache(r);
			pct = resident(r);
			if (pct >= 0 && pct < 95)
				snprintf(r->mode_note[m],
					 sizeof(r->mode_note[m]),
					 "only %.0f%% of the file stayed in "
					 "the page cache",
					 pct);
		}
		for (unsigned d = 0; d < r->o.ndepth; d++)
			for (unsigned k = 0; k < nok; k++) {
				/* Each group starts with another engine, so
				 * that the noise of the machine is shared. */
				unsigned i = ok[(k + group) % nok];
				struct result *res = cell_res(r, m, d, i);

				if (k == nok - 1)
					group++;
				r->cell++;
				res->resident = -1;
				if (na[0]) {
					res->state = CELL_NA;
					memcpy(res->reason, na, sizeof(na));
					continue;
				}
				if (m == MODE_UNCACHED)
					drop_cache(r);
				res->resident = resident(r);
				if (m == MODE_UNCACHED && res->resident > 5 &&
				    !r->mode_note[m][0])
					snprintf(r->mode_note[m],
						 sizeof(r->mode_note[m]),
						 "the cache could not be "
						 "dropped: %.0f%% of the file "
						 "stayed cached (tmpfs?)",
						 res->resident);
				show_progress(r, m, d, i, 0, 0);
				run_cell(r, m, d, i, res);
				note_cell(r, m, d, i, res);
				if (res->state == CELL_FAILED)
					failed = true;
				if (m == MODE_UNCACHED &&
				    res->state == CELL_OK &&
				    r->o.rw != RW_WRITE &&
				    res->ops > r->o.size / r->o.bs)
					r->reread_note = true;
				if (res->state == CELL_NA && m == MODE_DIRECT &&
				    strstr(res->reason, "O_DIRECT"))
					memcpy(na, res->reason, sizeof(na));
			}
	}
	progress_clear();
	return failed;
}

/* ---- output ---- */

static void describe(const struct run *r, char *buf, size_t len)
{
	char bs[32], mix[48] = "";

	fmt_bytes(bs, sizeof(bs), r->o.bs);
	if (r->o.rw == RW_MIX)
		snprintf(mix, sizeof(mix), " (%u%% reads)", r->o.rwmix);
	snprintf(buf, len, "random %s %s%s, %s, %.3g s per cell", bs,
		 r->o.rw == RW_READ    ? "reads"
		 : r->o.rw == RW_WRITE ? "writes"
				       : "reads and writes",
		 mix, r->where, r->o.duration);
}

static void print_table(struct run *r)
{
	static const char *const head[] = {"mode",	"depth",    "engine",
					   "IOPS",	"mean",	    "p99",
					   "in submit", "vs libaio"};
	static const bool right[] = {false, true, false, true,
				     true,  true, true,	 true};
	char desc[PATH_MAX + 256], b[32];
	struct table t;
	unsigned nnotes = 0;
	bool any_na = false;

	describe(r, desc, sizeof(desc));
	printf("uaio bench (uaio %s): %s\n\n", uaio_version(), desc);
	table_init(&t, 8, head, right);
	for (unsigned m = 0; m < NMODES; m++) {
		bool first_m = true;

		if (!r->o.mode_on[m])
			continue;
		for (unsigned d = 0; d < r->o.ndepth; d++) {
			bool first_d = true;
			const struct result *ref =
			    cell_res(r, m, d, IMPL_LIBAIO);

			for (unsigned i = 0; i < NIMPLS; i++) {
				const struct result *res = cell_res(r, m, d, i);

				if (!r->impl_ok[i])
					continue;
				table_row(&t);
				if (first_m)
					table_set(&t, 0, "%s",
						  bench_mode_label[m]);
				if (first_d)
					table_set(&t, 1, "%u", r->o.depth[d]);
				first_m = first_d = false;
				table_set(&t, 2, "%s", bench_impl_label[i]);
				if (res->state != CELL_OK) {
					table_set(&t, 3, "%s",
						  res->state == CELL_NA
						      ? "n/a"
						      : "FAILED");
					table_set(&t, 7, "[%u]", ++nnotes);
					any_na = true;
					continue;
				}
				fmt_count(b, sizeof(b), res->iops);
				table_set(&t, 3, "%s", b);
				fmt_ns(b, sizeof(b), res->mean);
				table_set(&t, 4, "%s", b);
				fmt_ns(b, sizeof(b), res->p99);
				table_set(&t, 5, "%s", b);
				fmt_ns(b, sizeof(b), res->submit);
				table_set(&t, 6, "%s", b);
				if (ref->state == CELL_OK)
					table_set(&t, 7, "%.2fx",
						  res->iops / ref->iops);
				else
					table_set(&t, 7, "-");
			}
		}
	}
	table_print(&t, stdout, "");
	table_free(&t);

	if (any_na) {
		printf("\n");
		nnotes = 0;
		for (unsigned m = 0; m < NMODES; m++)
			for (unsigned d = 0; d < r->o.ndepth; d++)
				for (unsigned i = 0; i < NIMPLS; i++) {
					const struct result *res =
					    cell_res(r, m, d, i);

					if (!r->o.mode_on[m] ||
					    !r->impl_ok[i] ||
					    res->state == CELL_OK)
						continue;
					printf("[%u] %s, %s, depth %u: %s\n",
					       ++nnotes, bench_impl_label[i],
					       bench_mode_label[m],
					       r->o.depth[d], res->reason);
				}
	}
	for (unsigned m = 0; m < NMODES; m++)
		if (r->o.mode_on[m] && r->mode_note[m][0])
			printf("\nnote: %s: %s\n", bench_mode_label[m],
			       r->mode_note[m]);
	if (r->reread_note)
		printf("\nnote: %s: %s\n", bench_mode_label[MODE_UNCACHED],
		       REREAD_NOTE);
	for (unsigned i = 0, first = 1; i < NIMPLS; i++) {
		bool wanted = r->o.impls_set ? r->o.impl_on[i] : true;

		if (!wanted || r->impl_ok[i])
			continue;
		if (first)
			printf("\nnot run:\n");
		first = 0;
		printf("  %-14s %s\n", bench_impl_label[i], r->impl_why[i]);
	}
	if (!r->impl_ok[IMPL_LIBAIO])
		printf("\n(no system libaio to compare with: the 'vs libaio' "
		       "column is empty)\n");
}

static void json_num(const char *key, double v, bool comma)
{
	/* Ratios and percentages need their decimals, nanoseconds do not. */
	if (isfinite(v))
		printf("\"%s\": %.*f%s", key, fabs(v) < 100 ? 4 : 1, v,
		       comma ? ", " : "");
	else
		printf("\"%s\": null%s", key, comma ? ", " : "");
}

static void print_json(struct run *r)
{
	char desc[PATH_MAX + 256];
	unsigned nnotes = 0;
	bool first = true;

	describe(r, desc, sizeof(desc));
	printf("{\n  \"uaio_version\": ");
	json_str(stdout, uaio_version());
	printf(",\n  \"description\": ");
	json_str(stdout, desc);
	printf(",\n  \"workload\": {\"rw\": \"%s\", \"rwmix_read\": %u, "
	       "\"bs\": %" PRIu64 ", \"size\": %" PRIu64
	       ", \"duration_s\": %.17g, \"depths\": [",
	       rw_name[r->o.rw],
	       r->o.rw == RW_READ    ? 100
	       : r->o.rw == RW_WRITE ? 0
				     : r->o.rwmix,
	       r->o.bs, r->o.size, r->o.duration);
	for (unsigned d = 0; d < r->o.ndepth; d++)
		printf("%s%u", d ? ", " : "", r->o.depth[d]);
	printf("], \"modes\": [");
	for (unsigned m = 0, f = 1; m < NMODES; m++)
		if (r->o.mode_on[m]) {
			printf("%s\"%s\"", f ? "" : ", ", bench_mode_name[m]);
			f = 0;
		}
	printf("]},\n  \"file\": {\"path\": ");
	json_str(stdout, r->scratch ? NULL : r->o.file);
	printf(", \"scratch\": %s, \"where\": ", r->scratch ? "true" : "false");
	json_str(stdout, r->where);
	printf("},\n  \"system_libaio\": ");
	json_str(stdout, r->impl_ok[IMPL_LIBAIO] ? r->syslib : NULL);
	printf(",\n  \"engines\": [");
	for (unsigned i = 0; i < NIMPLS; i++) {
		bool wanted = r->o.impls_set ? r->o.impl_on[i] : true;

		printf("%s\n    {\"name\": \"%s\", \"label\": \"%s\", "
		       "\"selected\": %s, \"usable\": %s, \"reason\": ",
		       i ? "," : "", bench_impl_name[i], bench_impl_label[i],
		       wanted ? "true" : "false",
		       r->impl_ok[i] ? "true" : "false");
		json_str(stdout,
			 r->impl_ok[i] || !wanted ? NULL : r->impl_why[i]);
		printf("}");
	}
	printf("\n  ],\n  \"notes\": {");
	for (unsigned m = 0; m < NMODES; m++)
		if (r->mode_note[m][0]) {
			printf("%s\"%s\": ", nnotes++ ? ", " : "",
			       bench_mode_name[m]);
			json_str(stdout, r->mode_note[m]);
		}
	if (r->reread_note) {
		printf("%s\"uncached_rereads\": ", nnotes ? ", " : "");
		json_str(stdout, REREAD_NOTE);
	}
	printf("},\n  \"results\": [");
	for (unsigned m = 0; m < NMODES; m++)
		for (unsigned d = 0; d < r->o.ndepth; d++)
			for (unsigned i = 0; i < NIMPLS; i++) {
				const struct result *res = cell_res(r, m, d, i);
				const struct result *ref =
				    cell_res(r, m, d, IMPL_LIBAIO);
				static const char *const st[] = {
				    "pending", "ok", "unavailable", "failed"};

				if (!r->o.mode_on[m] || !r->impl_ok[i])
					continue;
				printf(
				    "%s\n    {\"mode\": \"%s\", \"depth\": %u, "
				    "\"engine\": \"%s\", \"state\": \"%s\", ",
				    first ? "" : ",", bench_mode_name[m],
				    r->o.depth[d], bench_impl_name[i],
				    st[res->state]);
				first = false;
				if (res->state == CELL_OK) {
					printf("\"ops\": %" PRIu64
					       ", \"seconds\": %.6f, ",
					       res->ops,
					       (double)res->elapsed_ns / 1e9);
					json_num("iops", res->iops, true);
					json_num("mean_ns", res->mean, true);
					json_num("p50_ns", res->p50, true);
					json_num("p99_ns", res->p99, true);
					json_num("max_ns", res->max, true);
					json_num("submit_ns", res->submit,
						 true);
					json_num("vs_libaio",
						 ref->state == CELL_OK
						     ? res->iops / ref->iops
						     : NAN,
						 true);
				}
				json_num("cached_pct_before", res->resident,
					 false);
				if (res->state != CELL_OK) {
					printf(", \"reason\": ");
					json_str(stdout, res->reason);
				}
				printf("}");
			}
	printf("\n  ]\n}\n");
}

/* ---- main ---- */

enum {
	OPT_ENGINES = 256,
	OPT_MODES,
	OPT_DEPTH,
	OPT_BS,
	OPT_RW,
	OPT_RWMIX,
	OPT_SIZE,
	OPT_DURATION,
	OPT_FILE,
	OPT_FORCE,
	OPT_THREADS,
	OPT_SYSLIB,
	OPT_QUICK,
	OPT_JSON,
	OPT_HELP,
	/* internal: the measuring child */
	OPT_CHILD,
	OPT_CHILD_MODE,
	OPT_CHILD_FD,
	OPT_SEED,
};

static int child_main(struct opts *o, const char *impl, const char *mode,
		      int fd, uint64_t seed)
{
	struct bench_cell c = {
	    .rw = o->rw,
	    .rwmix = o->rwmix,
	    .depth = o->depth[0],
	    .bs = o->bs,
	    .size = o->size,
	    .duration = o->duration,
	    .seed = seed,
	    .fd = fd,
	    .syslib = o->syslib,
	};
	unsigned i;

	for (i = 0; i < NIMPLS && strcmp(impl, bench_impl_name[i]); i++)
		;
	if (i == NIMPLS || fd < 0 || o->ndepth != 1 || o->size < o->bs)
		usage_error("--child: bad arguments");
	c.impl = (enum bench_impl)i;
	for (i = 0; i < NMODES && strcmp(mode, bench_mode_name[i]); i++)
		;
	if (i == NMODES)
		usage_error("--child-mode: bad mode");
	c.mode = (enum bench_mode)i;
	/* _exit: nothing of the child's is worth an exit handler (and a leak
	 * check would turn an early return into a failure). */
	fflush(NULL);
	_exit(bench_child(&c));
}

int cmd_bench(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"engines", required_argument, NULL, OPT_ENGINES},
	    {"modes", required_argument, NULL, OPT_MODES},
	    {"depth", required_argument, NULL, OPT_DEPTH},
	    {"bs", required_argument, NULL, OPT_BS},
	    {"rw", required_argument, NULL, OPT_RW},
	    {"rwmix", required_argument, NULL, OPT_RWMIX},
	    {"size", required_argument, NULL, OPT_SIZE},
	    {"duration", required_argument, NULL, OPT_DURATION},
	    {"file", required_argument, NULL, OPT_FILE},
	    {"force", no_argument, NULL, OPT_FORCE},
	    {"threads", required_argument, NULL, OPT_THREADS},
	    {"system-libaio", required_argument, NULL, OPT_SYSLIB},
	    {"quick", no_argument, NULL, OPT_QUICK},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, OPT_HELP},
	    {"child", required_argument, NULL, OPT_CHILD},
	    {"child-mode", required_argument, NULL, OPT_CHILD_MODE},
	    {"child-fd", required_argument, NULL, OPT_CHILD_FD},
	    {"seed", required_argument, NULL, OPT_SEED},
	    {NULL, 0, NULL, 0},
	};
	struct run r;
	struct opts *o = &r.o;
	const char *child = NULL, *child_mode = "uncached";
	int child_fd = -1, c;
	uint64_t seed = 1;
	struct sigaction sa;
	bool failed;

	memset(&r, 0, sizeof(r));
	r.fd = -1;
	o->size = 1ull << 30;
	o->bs = 4096;
	o->depth[0] = 1;
	o->depth[1] = 32;
	o->ndepth = 2;
	o->rw = RW_READ;
	o->rwmix = 50;
	o->duration = 3;
	for (int m = 0; m < NMODES; m++)
		o->mode_on[m] = true;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_ENGINES:
			parse_list("--engines", optarg, bench_impl_name, NIMPLS,
				   o->impl_on);
			o->impls_set = true;
			break;
		case OPT_MODES:
			parse_list("--modes", optarg, bench_mode_name, NMODES,
				   o->mode_on);
			break;
		case OPT_DEPTH:
			parse_depths(optarg, o);
			break;
		case OPT_BS:
			o->bs = parse_size("--bs", optarg);
			if (o->bs < 512 || o->bs % 512 || o->bs > (64 << 20))
				usage_error(
				    "--bs: a multiple of 512 up to 64M, "
				    "not '%s'",
				    optarg);
			break;
		case OPT_RW:
			if (!strcmp(optarg, "read") ||
			    !strcmp(optarg, "randread"))
				o->rw = RW_READ;
			else if (!strcmp(optarg, "write") ||
				 !strcmp(optarg, "randwrite"))
				o->rw = RW_WRITE;
			else if (!strcmp(optarg, "randrw") ||
				 !strcmp(optarg, "rw"))
				o->rw = RW_MIX;
			else
				usage_error("--rw: read, write or randrw, not "
					    "'%s'",
					    optarg);
			break;
		case OPT_RWMIX:
			o->rwmix =
			    (unsigned)parse_uint("--rwmix", optarg, 0, 100);
			o->rwmix_set = true;
			break;
		case OPT_SIZE:
			o->size = parse_size("--size", optarg);
			o->size_set = true;
			break;
		case OPT_DURATION:
			o->duration = parse_seconds("--duration", optarg);
			o->duration_set = true;
			break;
		case OPT_FILE:
			if (!*optarg)
				usage_error("--file: empty path");
			o->file = optarg;
			break;
		case OPT_FORCE:
			o->force = true;
			break;
		case OPT_THREADS:
			parse_uint("--threads", optarg, 1, 4096);
			o->threads = optarg;
			break;
		case OPT_SYSLIB:
			o->syslib = optarg;
			break;
		case OPT_QUICK:
			o->quick = true;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case 'h':
		case OPT_HELP:
			usage(stdout);
			return 0;
		case OPT_CHILD:
			child = optarg;
			break;
		case OPT_CHILD_MODE:
			child_mode = optarg;
			break;
		case OPT_CHILD_FD:
			child_fd =
			    (int)parse_uint("--child-fd", optarg, 0, INT_MAX);
			break;
		case OPT_SEED:
			seed = parse_uint("--seed", optarg, 0, UINT64_MAX);
			break;
		case ':':
			usage_error("%s needs an argument", argv[optind - 1]);
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (child)
		return child_main(o, child, child_mode, child_fd, seed);
	if (o->rwmix_set && o->rw != RW_MIX)
		usage_error("--rwmix applies to --rw randrw only");
	if (o->force && !o->file)
		usage_error("--force applies to --file only");
	if (o->quick) {
		if (!o->size_set)
			o->size = 64ull << 20;
		if (!o->duration_set)
			o->duration = 0.5;
	}
	if (!o->file || o->size_set) {
		o->size -= o->size % o->bs;
		if (o->size < o->bs)
			usage_error("--size must be at least one block (--bs "
				    "%" PRIu64 ")",
				    o->bs);
	}

	tty = isatty(STDERR_FILENO);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	/* Cheap checks first: nothing is written before they pass. */
	choose_impls(&r);
	{
		char why[1024] = "";
		size_t n = 0;
		int i;

		for (i = 0; i < NIMPLS && !r.impl_ok[i]; i++)
			if (r.impl_why[i][0])
				n += (size_t)snprintf(why + n, sizeof(why) - n,
						      "%s%s: %s", n ? "; " : "",
						      bench_impl_name[i],
						      r.impl_why[i]);
		if (i == NIMPLS)
			fail(&r, "no engine to run: %s", why);
	}
	open_file(&r);
	r.res = calloc((size_t)NMODES * o->ndepth * NIMPLS, sizeof(*r.res));
	if (!r.res)
		fail(&r, "out of memory");
	failed = run_all(&r);
	cleanup(&r);
	if (o->json)
		print_json(&r);
	else
		print_table(&r);
	free(r.res);
	if (fflush(stdout) || ferror(stdout))
		die("writing the output: %s", strerror(errno));
	return failed ? 1 : 0;
}
