/*
 * faultfs: a FUSE file system whose reads and writes fail, come up short or
 * wait, on command, so that the fault tests meet the errors of a real file
 * system driver rather than ones they simulate.
 *
 * usage: faultfs [-o FUSE options] MOUNTPOINT
 *
 * It stays in the foreground, and ends when the file system is unmounted
 * (or when killed: the kernel then fails every request still waiting).
 *
 * Files:
 *   data    served through the page cache (buffered I/O, readahead)
 *   direct  opened with direct_io: every read and write reaches us as asked
 *   ctl     commands, one per write; reading it gives the state
 *   sums    "NAME SIZE HASH" per data file: what is stored, whatever the
 *           kernel caches (HASH is FNV-1a of the contents, in hex)
 *
 * Both data files start as FAULTFS_SIZE bytes of faultfs_pattern() and may
 * grow to FAULTFS_CAP bytes; a write beyond that gets what fits, then
 * ENOSPC, as a full disk does.
 *
 * Commands (a request is a FUSE READ or WRITE of data or direct):
 *   reset                       contents and sizes as at the start, no rules,
 *                               held requests released
 *   clear                       no rules (held requests go on waiting)
 *   OP error START END ERRNO    a request overlapping [START, END) fails
 *   OP short START END          ... transfers only the bytes before START
 *   OP hold START END           ... waits until "release"
 *   release                     held requests go on; hold rules are dropped
 * where OP is read, write or any.  The first rule that matches applies.
 * Reading ctl gives "held H reads R writes W\n": requests waiting now, and
 * requests served since the start.  Interrupts (a signal to a thread that
 * waits in the kernel for us) are not honoured: a held request waits for
 * "release" whatever the kernel's caller does, as a stuck disk would.
 */
/* 3.12: fuse_loop_mt() takes the fuse_loop_cfg_*() config; with an older
 * API version it reads that config as the old struct (max_idle_threads 0:
 * idle workers end, and a held request can leave none to read). */
#define FUSE_USE_VERSION 312
#include <fuse.h>
#include <fuse_lowlevel.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "faultfs.h"

enum { OP_READ = 1, OP_WRITE = 2 };
enum { ACT_ERROR, ACT_SHORT, ACT_HOLD };

struct rule {
	int ops, action, err;
	long long start, end;
};

struct file {
	const char *name;
	bool direct;
	unsigned char *buf; /* FAULTFS_CAP bytes */
	size_t size;
};

#define MAX_RULES 32

static struct file files[] = {
    {"data", false, NULL, 0},
    {"direct", true, NULL, 0},
};
#define NFILES (sizeof(files) / sizeof(files[0]))

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t released = PTHREAD_COND_INITIALIZER;
static struct rule rules[MAX_RULES];
static unsigned nrules, held, release_gen;
static unsigned long nreads, nwrites;

static void reset_files(void)
{
	for (size_t i = 0; i < NFILES; i++) {
		for (size_t off = 0; off < FAULTFS_CAP; off++)
			files[i].buf[off] =
			    off < FAULTFS_SIZE ? faultfs_pattern(off) : 0;
		files[i].size = FAULTFS_SIZE;
	}
}

static struct file *lookup(const char *path)
{
	for (size_t i = 0; i < NFILES; i++)
		if (path[0] == '/' && !strcmp(path + 1, files[i].name))
			return &files[i];
	return NULL;
}

static bool is_ctl(const char *path)
{
	return !strcmp(path, "/ctl");
}

static bool is_sums(const char *path)
{
	return !strcmp(path, "/sums");
}

static void *fs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	/* Every open and stat asks us: a size that a short read shrank in
	 * the kernel's cache comes back at the next lookup. */
	cfg->entry_timeout = 0;
	cfg->attr_timeout = 0;
	cfg->negative_timeout = 0;
	cfg->kernel_cache = 0;
	cfg->use_ino = 1;
	return NULL;
}

static int fs_getattr(const char *path, struct stat *st,
		      struct fuse_file_info *fi)
{
	struct file *f = lookup(path);

	(void)fi;
	memset(st, 0, sizeof(*st));
	if (!strcmp(path, "/")) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		st->st_ino = 1;
		return 0;
	}
	if (is_ctl(path) || is_sums(path)) {
		st->st_mode = S_IFREG | 0666;
		st->st_nlink = 1;
		st->st_size = 4096;
		st->st_ino = 2;
		return 0;
	}
	if (!f)
		return -ENOENT;
	st->st_mode = S_IFREG | 0666;
	st->st_nlink = 1;
	st->st_ino = 3 + (ino_t)(f - files);
	st->st_blksize = 4096;
	pthread_mutex_lock(&lock);
	st->st_size = (off_t)f->size;
	pthread_mutex_unlock(&lock);
	st->st_blocks = (st->st_size + 511) / 512;
	return 0;
}

static int fs_readdir(const char *path, void *dbuf, fuse_fill_dir_t fill,
		      off_t off, struct fuse_file_info *fi,
		      enum fuse_readdir_flags flags)
{
	(void)off;
	(void)fi;
	(void)flags;
	if (strcmp(path, "/"))
		return -ENOTDIR;
	fill(dbuf, ".", NULL, 0, 0);
	fill(dbuf, "..", NULL, 0, 0);
	fill(dbuf, "ctl", NULL, 0, 0);
	fill(dbuf, "sums", NULL, 0, 0);
	for (size_t i = 0; i < NFILES; i++)
		fill(dbuf, files[i].name, NULL, 0, 0);
	return 0;
}

static int fs_open(const char *path, struct fuse_file_info *fi)
{
	struct file *f = lookup(path);

	if (is_ctl(path) || is_sums(path)) {
		fi->direct_io = 1; /* every read sees the state of now */
		return 0;
	}
	if (!f)
		return -ENOENT;
	fi->direct_io = f->direct;
	return 0;
}

static int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct file *f = lookup(path);

	(void)fi;
	if (is_ctl(path) || is_sums(path))
		return 0;
	if (!f)
		return -ENOENT;
	if (size < 0 || (size_t)size > FAULTFS_CAP)
		return -EFBIG;
	pthread_mutex_lock(&lock);
	if ((size_t)size > f->size)
		memset(f->buf + f->size, 0, (size_t)size - f->size);
	f->size = (size_t)size;
	pthread_mutex_unlock(&lock);
	return 0;
}

/*
 * Under lock: the rule for a request of op over [off, off + len), after
 * waiting while a hold rule matches.  NULL: serve it normally.
 */
static const struct rule *match(int op, long long off, size_t len)
{
	for (;;) {
		const struct rule *r = NULL;

		for (unsigned i = 0; i < nrules; i++) {
			if ((rules[i].ops & op) && off < rules[i].end &&
			    off + (long long)len > rules[i].start) {
				r = &rules[i];
				break;
			}
		}
		if (!r || r->action != ACT_HOLD)
			return r;
		unsigned gen = release_gen;
		held++;
		while (gen == release_gen)
			pthread_cond_wait(&released, &lock);
		held--;
	}
}

/* The bytes a "short" rule lets through: those before its start. */
static size_t short_len(const struct rule *r, long long off, size_t len)
{
	if (r->start <= off)
		return 0;
	return (size_t)(r->start - off) < len ? (size_t)(r->start - off) : len;
}

static int ctl_state(char *buf, size_t len, off_t off, bool sums)
{
	char s[256];
	int n = 0;

	if (!sums)
		n = snprintf(s, sizeof(s), "held %u reads %lu writes %lu\n",
			     held, nreads, nwrites);
	for (size_t i = 0; sums && i < NFILES; i++) {
		unsigned long long h = 1469598103934665603ull;

		for (size_t j = 0; j < files[i].size; j++)
			h = (h ^ files[i].buf[j]) * 1099511628211ull;
		n += snprintf(s + n, sizeof(s) - (size_t)n, "%s %zu %llx\n",
			      files[i].name, files[i].size, h);
	}
	if (off >= n)
		return 0;
	if ((size_t)(n - off) < len)
		len = (size_t)(n - off);
	memcpy(buf, s + off, len);
	return (int)len;
}

static int fs_read(const char *path, char *buf, size_t len, off_t off,
		   struct fuse_file_info *fi)
{
	struct file *f = lookup(path);
	const struct rule *r;
	int ret;

	(void)fi;
	pthread_mutex_lock(&lock);
	if (is_ctl(path) || is_sums(path)) {
		ret = ctl_state(buf, len, off, is_sums(path));
		pthread_mutex_unlock(&lock);
		return ret;
	}
	if (!f) {
		pthread_mutex_unlock(&lock);
		return -ENOENT;
	}
	nreads++;
	r = match(OP_READ, off, len);
	if (r && r->action == ACT_ERROR) {
		pthread_mutex_unlock(&lock);
		return -r->err;
	}
	if (r)
		len = short_len(r, off, len);
	if ((size_t)off >= f->size)
		len = 0;
	else if (len > f->size - (size_t)off)
		len = f->size - (size_t)off;
	memcpy(buf, f->buf + off, len);
	pthread_mutex_unlock(&lock);
	return (int)len;
}

static int parse_op(const char *s)
{
	if (!strcmp(s, "read"))
		return OP_READ;
	if (!strcmp(s, "write"))
		return OP_WRITE;
	if (!strcmp(s, "any"))
		return OP_READ | OP_WRITE;
	return 0;
}

/* Under lock: one command line; 0 or -EINVAL. */
static int command(const char *line)
{
	char op[16], act[16];
	long long start, end;
	int err = 0, n;

	if (!strcmp(line, "reset")) {
		nrules = 0;
		release_gen++;
		pthread_cond_broadcast(&released);
		reset_files();
		return 0;
	}
	if (!strcmp(line, "clear")) {
		nrules = 0;
		return 0;
	}
	if (!strcmp(line, "release")) {
		unsigned k = 0;

		for (unsigned i = 0; i < nrules; i++)
			if (rules[i].action != ACT_HOLD)
				rules[k++] = rules[i];
		nrules = k;
		release_gen++;
		pthread_cond_broadcast(&released);
		return 0;
	}
	n = sscanf(line, "%15s %15s %lld %lld %d", op, act, &start, &end, &err);
	if (n < 4 || !parse_op(op) || start < 0 || end <= start ||
	    nrules == MAX_RULES)
		return -EINVAL;
	struct rule r = {.ops = parse_op(op), .start = start, .end = end};
	if (!strcmp(act, "error") && n == 5 && err > 0)
		r.action = ACT_ERROR, r.err = err;
	else if (!strcmp(act, "short") && n == 4)
		r.action = ACT_SHORT;
	else if (!strcmp(act, "hold") && n == 4)
		r.action = ACT_HOLD;
	else
		return -EINVAL;
	rules[nrules++] = r;
	return 0;
}

static int ctl_write(const char *buf, size_t len)
{
	char line[128];
	size_t i = 0;
	int ret = 0;

	while (i < len) {
		size_t n = 0;

		while (i < len && buf[i] != '\n' && n < sizeof(line) - 1)
			line[n++] = buf[i++];
		line[n] = '\0';
		i++; /* the newline */
		if (n && (ret = command(line)))
			break;
	}
	return ret ? ret : (int)len;
}

static int fs_write(const char *path, const char *buf, size_t len, off_t off,
		    struct fuse_file_info *fi)
{
	struct file *f = lookup(path);
	const struct rule *r;
	int ret;

	(void)fi;
	pthread_mutex_lock(&lock);
	if (is_ctl(path)) {
		ret = ctl_write(buf, len);
		pthread_mutex_unlock(&lock);
		return ret;
	}
	if (!f) {
		pthread_mutex_unlock(&lock);
		return -ENOENT;
	}
	nwrites++;
	r = match(OP_WRITE, off, len);
	if (r && r->action == ACT_ERROR) {
		pthread_mutex_unlock(&lock);
		return -r->err;
	}
	if (r)
		len = short_len(r, off, len);
	if ((size_t)off >= FAULTFS_CAP && len) {
		pthread_mutex_unlock(&lock);
		return -ENOSPC;
	}
	if (len > FAULTFS_CAP - (size_t)off)
		len = FAULTFS_CAP - (size_t)off;
	if ((size_t)off > f->size)
		memset(f->buf + f->size, 0, (size_t)off - f->size);
	memcpy(f->buf + off, buf, len);
	if ((size_t)off + len > f->size)
		f->size = (size_t)off + len;
	pthread_mutex_unlock(&lock);
	return (int)len;
}

static const struct fuse_operations ops = {
    .init = fs_init,
    .getattr = fs_getattr,
    .readdir = fs_readdir,
    .open = fs_open,
    .truncate = fs_truncate,
    .read = fs_read,
    .write = fs_write,
};

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts opts;
	struct fuse_loop_config *cfg;
	struct fuse *fuse;
	int ret = 1;

	for (size_t i = 0; i < NFILES; i++) {
		files[i].buf = malloc(FAULTFS_CAP);
		if (!files[i].buf) {
			perror("faultfs: malloc");
			return 1;
		}
	}
	reset_files();
	if (fuse_parse_cmdline(&args, &opts) || !opts.mountpoint) {
		fprintf(stderr, "usage: faultfs [-o options] MOUNTPOINT\n");
		return 1;
	}
	fuse = fuse_new(&args, &ops, sizeof(ops), NULL);
	if (!fuse)
		return 1;
	if (fuse_mount(fuse, opts.mountpoint) == 0) {
		struct fuse_session *se = fuse_get_session(fuse);

		fuse_set_signal_handlers(se);
		/* Held requests each keep a thread: room for them and for
		 * the ctl write that releases them. */
		cfg = fuse_loop_cfg_create();
		fuse_loop_cfg_set_max_threads(cfg, 64);
		fuse_loop_cfg_set_idle_threads(cfg, 64);
		ret = fuse_loop_mt(fuse, cfg) ? 1 : 0;
		fuse_loop_cfg_destroy(cfg);
		fuse_remove_signal_handlers(se);
		fuse_unmount(fuse);
	}
	fuse_destroy(fuse);
	free(opts.mountpoint);
	fuse_opt_free_args(&args);
	for (size_t i = 0; i < NFILES; i++)
		free(files[i].buf);
	return ret;
}
