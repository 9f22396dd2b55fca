/*
 * info-rwf.c - the RWF_* flags the kernel accepts: each of the 32 bits
 * tried with preadv2 and pwritev2 on a pipe, a memfd and an unnamed file
 * (buffered and O_DIRECT), all made for the purpose.
 */
#include "info.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "host.h"
#include "msg.h"

static void make_pipe(struct rwf_target *t)
{
	int p[2];

	t->name = "pipe";
	snprintf(t->desc, sizeof(t->desc), "a pipe");
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0) {
		t->rfd = p[0];
		t->wfd = p[1];
	} else {
		t->err = errno;
	}
}

static void make_memfd(struct rwf_target *t)
{
	int fd = memfd_create("uaio-info", MFD_CLOEXEC);

	t->name = "memfd";
	snprintf(t->desc, sizeof(t->desc), "a memfd (shmem)");
	if (fd >= 0 && pwrite(fd, t->buf, 4096, 0) == 4096)
		t->rfd = t->wfd = fd;
	else
		t->err = errno ? errno : EIO;
}

/* An unnamed file in $TMPDIR, and the same opened with O_DIRECT. */
static void make_files(struct rwf_target *f, struct rwf_target *d)
{
	const char *dir = getenv("TMPDIR");
	char path[64], fsb[32];
	struct statfs sf;
	int fd;

	if (!dir || !*dir)
		dir = "/tmp";
	f->name = "file";
	d->name = "file O_DIRECT";
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		char tmpl[4096];

		snprintf(tmpl, sizeof(tmpl), "%s/uaio-info.XXXXXX", dir);
		fd = mkostemp(tmpl, O_CLOEXEC);
		if (fd >= 0)
			unlink(tmpl);
	}
	snprintf(
	    f->desc, sizeof(f->desc), "an unnamed file in %.120s (%s)", dir,
	    fd >= 0 && !fstatfs(fd, &sf) ? fs_name(sf.f_type, fsb, sizeof(fsb))
					 : "?");
	snprintf(d->desc, sizeof(d->desc), "%.170s, with O_DIRECT", f->desc);
	if (fd < 0 || pwrite(fd, f->buf, 4096, 0) != 4096 || fsync(fd)) {
		f->err = d->err = errno ? errno : EIO;
		if (fd >= 0)
			close(fd);
		return;
	}
	f->rfd = f->wfd = fd;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	fd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd >= 0)
		d->rfd = d->wfd = fd;
	else
		d->err = errno;
}

static void make_targets(struct info *in)
{
	struct rwf_target *t = in->tgt;

	for (int i = 0; i < NPROBES; i++) {
		t[i].rfd = t[i].wfd = -1;
		if (posix_memalign((void **)&t[i].buf, 4096, 4096))
			die("out of memory");
		memset(t[i].buf, 'u', 4096);
	}
	make_pipe(&t[P_PIPE]);
	make_memfd(&t[P_MEMFD]);
	make_files(&t[P_FILE], &t[P_DIRECT]);
}

static void target_close(struct rwf_target *t)
{
	if (t->wfd >= 0 && t->wfd != t->rfd)
		close(t->wfd);
	if (t->rfd >= 0)
		close(t->rfd);
	t->rfd = t->wfd = -1;
	free(t->buf);
}

static void pipe_drain(int fd)
{
	char b[256];

	while (read(fd, b, sizeof(b)) > 0)
		;
}

/*
 * The raw calls: glibc's wrappers turn ENOSYS (a seccomp filter, an old
 * kernel) into EOPNOTSUPP whenever flags are set, which would pass a denied
 * call off as a refused flag.
 */
static long raw_rw2(bool wr, int fd, const struct iovec *iov, off_t off,
		    unsigned flags)
{
	unsigned long lo = (unsigned long)off, hi = 0;

#if __SIZEOF_LONG__ == 4
	hi = (unsigned long)((unsigned long long)off >> 32);
#endif
	return syscall(wr ? SYS_pwritev2 : SYS_preadv2, fd, iov, 1, lo, hi,
		       flags);
}

/* One preadv2/pwritev2 with flag; 0 or errno.  Never blocks: the pipe is
 * non-blocking and holds a byte before a read. */
static int try_rwf(struct rwf_target *t, int kind, bool wr, unsigned flag)
{
	struct iovec iov = {.iov_base = t->buf, .iov_len = 1};
	off_t off = 0;
	ssize_t r;
	int err;

	if (kind == P_PIPE) {
		off = -1;
		pipe_drain(t->rfd);
		if (!wr && write(t->wfd, "u", 1) != 1)
			return errno;
	}
	if (kind == P_DIRECT)
		iov.iov_len = 4096;
	r = raw_rw2(wr, wr ? t->wfd : t->rfd, &iov, off, flag);
	err = r < 0 ? errno : 0;
	if (kind == P_PIPE)
		pipe_drain(t->rfd);
	return err;
}

const char *rwf_name(unsigned bit)
{
	for (size_t i = 0; i < UAIO_NRWF; i++)
		if (uaio_rwf_flags[i].bit == bit)
			return uaio_rwf_flags[i].name;
	return NULL;
}

const char *rwf_per_file(unsigned bit)
{
	for (size_t i = 0; i < UAIO_NRWF; i++)
		if (uaio_rwf_flags[i].bit == bit)
			return uaio_rwf_flags[i].per_file;
	return NULL;
}

/*
 * The kernel checks the flags before anything else that could fail here,
 * and only unknown bits and file-dependent ones give EOPNOTSUPP, so any
 * other outcome, errors included (an atomic write of the wrong size gets
 * EINVAL), proves the bit is known.  ENOSYS and EPERM come from a seccomp
 * filter on the call itself and prove nothing.
 */
static enum rwf_verdict verdict(const struct info *in, unsigned b, int *blocked)
{
	bool tried = false;

	*blocked = 0;
	for (int k = 0; k < NPROBES; k++)
		for (int w = 0; w < 2; w++) {
			int r = in->res[b][k][w];

			if (r < 0)
				continue;
			if (r == ENOSYS || r == EPERM) {
				*blocked = r;
				continue;
			}
			tried = true;
			if (r != EOPNOTSUPP)
				return RWF_ACCEPTED;
		}
	if (!tried)
		return RWF_UNPROBED;
	return rwf_per_file(1u << b) ? RWF_PER_FILE : RWF_UNKNOWN;
}

void info_probe_rwf(struct info *in)
{
	make_targets(in);
	for (unsigned b = 0; b < 32; b++)
		for (int k = 0; k < NPROBES; k++)
			for (int w = 0; w < 2; w++)
				in->res[b][k][w] =
				    in->tgt[k].err
					? -1
					: try_rwf(&in->tgt[k], k, w, 1u << b);
	for (int k = 0; k < NPROBES; k++)
		target_close(&in->tgt[k]);
	in->none_probed = true;
	for (unsigned b = 0; b < 32; b++) {
		in->verdict[b] = verdict(in, b, &in->blocked[b]);
		in->none_probed &= in->verdict[b] == RWF_UNPROBED;
	}
}
