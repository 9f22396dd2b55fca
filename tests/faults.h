/*
 * What the fault tests (fault-*.c) share: errors that come from real file
 * systems (a FUSE file system of our own, a full tmpfs or ext4, the file
 * size limit) and signal storms, on every engine.
 *
 * Each scenario runs twice in the same process: on the kernel's own AIO
 * through raw system calls (what the kernel engine and libaio run: the
 * oracle), then on the library's context, and the two must agree event by
 * event.  Every request must complete exactly once, every wait is bounded,
 * the context must still work afterwards, and no descriptor or thread may
 * be left behind.
 */
#ifndef UAIO_TEST_FAULTS_H
#define UAIO_TEST_FAULTS_H

#include "behaviour.h"
#include "faultfs.h"

#include <limits.h>
#include <poll.h>
#include <linux/loop.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* ---- soft checks: one scenario that differs does not hide the next ---- */

static int t_mismatches;

#define F_CHECK(cond, ...)                                                     \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: MISMATCH: ", __FILE__,         \
				__LINE__);                                     \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
			t_mismatches++;                                        \
		}                                                              \
	} while (0)

static inline int t_finish(void)
{
	if (t_mismatches) {
		fprintf(stderr, "FAIL: %d mismatch(es) on %s\n", t_mismatches,
			t_engine());
		return 1;
	}
	printf("PASS on %s\n", t_engine());
	return 0;
}

/* ---- descriptors and threads ---- */

#define T_PF_IO_WORKER 0x10u

/*
 * Tasks of the process, io_uring's workers excepted: the kernel starts
 * those for each thread that submits and keeps them after the ring is
 * gone, so they are not the library's to end.
 */
static inline int t_count_tasks(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	int n = 0;

	if (!d)
		T_FAIL("opendir(/proc/self/task): %s", strerror(errno));
	while ((de = readdir(d))) {
		char path[64], buf[512], state = '?', *p;
		unsigned flags = 0;
		ssize_t len;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%.20s/stat",
			 de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue; /* ended meanwhile */
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		p = strrchr(buf, ')');
		if (p &&
		    sscanf(p + 2, "%c %*d %*d %*d %*d %*d %u", &state,
			   &flags) == 2 &&
		    (state == 'Z' || state == 'X' || (flags & T_PF_IO_WORKER)))
			continue;
		n++;
	}
	closedir(d);
	return n;
}

struct t_res {
	int fds, tasks;
};

static inline struct t_res t_res_now(void)
{
	struct t_res r = {t_count_dir("/proc/self/fd"), t_count_tasks()};
	return r;
}

/*
 * The baseline of descriptors and threads, taken once the library has
 * started what it may keep for the life of the process rather than for
 * a context (an engine may share rings, and their threads, between
 * contexts): contexts that each leave requests in flight when io_submit
 * returns, reaped and destroyed first.  A POLL of an empty pipe surely is
 * (an O_DIRECT read may be done already), on every shared ring.
 */
static inline struct t_res t_res_baseline(void)
{
	enum { N = 8 };
	io_context_t ctx[N] = {0};
	struct iocb cb[N][2], *p[N][2];
	unsigned char *buf = t_aligned(4096, 4096 * N);
	int fd = t_scratch_file(4096 * N, O_DIRECT), pfd[2];
	struct io_event ev[2];

	if (pipe(pfd))
		T_FAIL("pipe: %s", strerror(errno));
	for (int i = 0; i < N; i++) {
		ctx[i] = t_setup(4);
		io_prep_pread(&cb[i][0], fd, buf + 4096 * i, 4096, 4096 * i);
		io_prep_poll(&cb[i][1], pfd[0], POLLIN);
		p[i][0] = &cb[i][0];
		p[i][1] = &cb[i][1];
		if (io_submit(ctx[i], 2, p[i]) != 2)
			T_FAIL("io_submit before the baseline");
	}
	if (write(pfd[1], "x", 1) != 1)
		T_FAIL("write: %s", strerror(errno));
	for (int i = 0; i < N; i++) {
		t_reap(ctx[i], 2, ev);
		T_EQ(io_destroy(ctx[i]), 0);
	}
	close(pfd[0]);
	close(pfd[1]);
	close(fd);
	free(buf);
	/* Threads joined by io_destroy may stay listed for a moment. */
	struct t_res r = t_res_now(), prev;
	for (int stable = 0, k = 0; stable < 3 && k < 200; k++) {
		t_sleep_ms(10);
		prev = r;
		r = t_res_now();
		stable =
		    r.fds == prev.fds && r.tasks == prev.tasks ? stable + 1 : 0;
	}
	return r;
}

/* A thread that was joined may stay listed for a moment: up to 2 s. */
static inline void t_res_check(struct t_res before, const char *when)
{
	double end = t_now_ms() + 2000;
	struct t_res now;

	for (;;) {
		now = t_res_now();
		if ((now.fds == before.fds && now.tasks == before.tasks) ||
		    t_now_ms() > end)
			break;
		t_sleep_ms(10);
	}
	F_CHECK(now.fds == before.fds, "%s: %d descriptors open, %d before",
		when, now.fds, before.fds);
	F_CHECK(now.tasks == before.tasks, "%s: %d threads, %d before", when,
		now.tasks, before.tasks);
}

/* ---- the kernel's own AIO, or the library's ---- */

struct t_aio {
	bool raw; /* raw system calls: the oracle */
	io_context_t ctx;
};

static inline int t_raw_ret(long r)
{
	return r < 0 ? -errno : (int)r;
}

static inline int t_aio_setup(struct t_aio *a, bool raw, int nr)
{
	a->raw = raw;
	a->ctx = 0;
	if (raw)
		return t_raw_ret(syscall(SYS_io_setup, nr, &a->ctx));
	return io_setup(nr, &a->ctx);
}

static inline int t_aio_submit(struct t_aio *a, long n, struct iocb **cbs)
{
	if (a->raw)
		return t_raw_ret(syscall(SYS_io_submit, a->ctx, n, cbs));
	return io_submit(a->ctx, n, cbs);
}

static inline int t_aio_getevents(struct t_aio *a, long min, long nr,
				  struct io_event *ev, struct timespec *ts)
{
	if (a->raw)
		return t_raw_ret(
		    syscall(SYS_io_getevents, a->ctx, min, nr, ev, ts));
	return io_getevents(a->ctx, min, nr, ev, ts);
}

static inline int t_aio_cancel(struct t_aio *a, struct iocb *cb,
			       struct io_event *ev)
{
	if (a->raw)
		return t_raw_ret(syscall(SYS_io_cancel, a->ctx, cb, ev));
	return io_cancel(a->ctx, cb, ev);
}

static inline int t_aio_destroy(struct t_aio *a)
{
	if (a->raw)
		return t_raw_ret(syscall(SYS_io_destroy, a->ctx));
	return io_destroy(a->ctx);
}

static inline const char *t_aio_name(const struct t_aio *a)
{
	return a->raw ? "kernel AIO" : t_engine();
}

#define T_NO_RES LONG_MIN

/*
 * Reap events of cbs[0..n) until `want` of them have come or the deadline
 * passes; res[i] gets iocb i's result.  An event for no iocb of the list,
 * a second event for one, or one with other data or res2 fails the test.
 * Returns how many have come in all.
 */
static inline int t_reap_some(struct t_aio *a, struct iocb **cbs, int n,
			      long *res, int want, double deadline)
{
	int got = 0;

	for (int i = 0; i < n; i++)
		got += res[i] != T_NO_RES;
	while (got < want) {
		struct io_event ev[64];
		double left = deadline - t_now_ms();
		struct timespec ts;
		int k, r;

		if (left <= 0)
			break;
		ts = t_ts_ms((long)left + 1);
		k = want - got < 64 ? want - got : 64;
		r = t_aio_getevents(a, 1, k, ev, &ts);
		if (r == -EINTR)
			continue;
		if (r < 0)
			T_FAIL("%s: io_getevents: %s", t_aio_name(a),
			       strerror(-r));
		for (int e = 0; e < r; e++) {
			int i = 0;

			while (i < n && (void *)cbs[i] != (void *)ev[e].obj)
				i++;
			if (i == n)
				T_FAIL("%s: an event for iocb %p, which is not "
				       "in flight",
				       t_aio_name(a), (void *)ev[e].obj);
			if (res[i] != T_NO_RES)
				T_FAIL("%s: iocb %d completed twice (res %ld, "
				       "then %ld)",
				       t_aio_name(a), i, res[i],
				       (long)ev[e].res);
			T_ASSERT(ev[e].data == cbs[i]->data);
			T_EQ((long)ev[e].res2, 0);
			res[i] = (long)ev[e].res;
			got++;
		}
	}
	return got;
}

/* Nothing more may come: no extra event, and none twice. */
static inline void t_expect_quiet(struct t_aio *a, long ms)
{
	double end = t_now_ms() + ms;
	struct io_event ev;
	int r;

	/* A signal cuts the wait short: wait for what is left of it. */
	do {
		double left = end - t_now_ms();
		struct timespec ts = t_ts_ms(left > 0 ? (long)left : 0);

		r = t_aio_getevents(a, 1, 1, &ev, &ts);
	} while (r == -EINTR);
	if (r != 0)
		T_FAIL("%s: an extra event (%d, res %ld, iocb %p)",
		       t_aio_name(a), r, r > 0 ? (long)ev.res : 0,
		       r > 0 ? (void *)ev.obj : NULL);
}

/*
 * Submit cbs[0..n) and reap their events within ms; res[i] is iocb i's
 * result.  one_by_one: each request completes before the next is
 * submitted, so that requests whose results depend on each other (a file
 * system filling up, a size that changes) meet the same state on every
 * engine.
 */
static inline void t_run(struct t_aio *a, struct iocb **cbs, int n,
			 bool one_by_one, long *res, long ms)
{
	double deadline = t_now_ms() + ms;
	int submitted = 0;

	for (int i = 0; i < n; i++)
		res[i] = T_NO_RES;
	while (submitted < n) {
		int k = one_by_one ? 1 : n - submitted;
		int r = t_aio_submit(a, k, cbs + submitted);

		if (r <= 0)
			T_FAIL("%s: io_submit of %d: %d (%s)", t_aio_name(a), k,
			       r, r < 0 ? strerror(-r) : "none queued");
		submitted += r;
		if (t_reap_some(a, cbs, n, res, submitted, deadline) <
		    submitted) {
			for (int i = 0; i < submitted; i++)
				if (res[i] == T_NO_RES)
					fprintf(stderr,
						"iocb %d: no completion\n", i);
			T_FAIL("%s: requests did not complete within %ld ms",
			       t_aio_name(a), ms);
		}
	}
	t_expect_quiet(a, 20);
}

/* Results in order, a run of equal ones as "value*count". */
static inline void t_print_res(FILE *f, const long *res, int n)
{
	for (int i = 0; i < n;) {
		int k = 1;

		while (i + k < n && res[i + k] == res[i])
			k++;
		fprintf(f, "%s%ld", i ? " " : "", res[i]);
		if (k > 1)
			fprintf(f, "*%d", k);
		i += k;
	}
}

/* The engine's results must be the kernel's, request by request. */
static inline void t_same_res(const char *what, const long *got,
			      const long *want, int n)
{
	bool same = true;

	for (int i = 0; i < n; i++)
		same = same && got[i] == want[i];
	if (same) {
		printf("%-44s ok: ", what);
		t_print_res(stdout, got, n);
		putchar('\n');
		return;
	}
	fprintf(stderr, "%s:%d: MISMATCH: %s\n  kernel AIO: ", __FILE__,
		__LINE__, what);
	t_print_res(stderr, want, n);
	fprintf(stderr, "\n  %-10s: ", t_engine());
	t_print_res(stderr, got, n);
	fputc('\n', stderr);
	t_mismatches++;
}

/* FNV-1a of [off, off + len) of fd, and of how much of it there was. */
static inline uint64_t t_fd_hash(int fd, off_t off, off_t len)
{
	static unsigned char buf[1 << 16];
	uint64_t h = 1469598103934665603ull;
	off_t end = off + len;
	ssize_t n = 0;

	while (off < end) {
		size_t want = end - off < (off_t)sizeof(buf)
				  ? (size_t)(end - off)
				  : sizeof(buf);

		n = pread(fd, buf, want, off);
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ buf[i]) * 1099511628211ull;
		off += n;
	}
	if (n < 0)
		T_FAIL("read: %s", strerror(errno));
	return h ^ (uint64_t)off;
}

/* FNV-1a of a file's contents, read through a fresh descriptor. */
static inline uint64_t t_file_hash(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint64_t h;

	if (fd < 0)
		T_FAIL("open(%s): %s", path, strerror(errno));
	h = t_fd_hash(fd, 0, (off_t)1 << 62);
	close(fd);
	return h;
}

/* A normal write and read on the context, after the faults. */
static inline void t_context_works(struct t_aio *a)
{
	char *wbuf = t_aligned(4096, 4096), *rbuf = t_aligned(4096, 4096);
	int fd = t_scratch_file(0, 0);
	struct iocb w, r, *p;
	long res;

	memset(wbuf, 0x5a, 4096);
	memset(rbuf, 0, 4096);
	io_prep_pwrite(&w, fd, wbuf, 4096, 8192);
	w.data = &w;
	p = &w;
	t_run(a, &p, 1, false, &res, 5000);
	F_CHECK(res == 4096, "%s: a plain write after the faults: res %ld",
		t_aio_name(a), res);
	io_prep_pread(&r, fd, rbuf, 4096, 8192);
	r.data = &r;
	p = &r;
	t_run(a, &p, 1, false, &res, 5000);
	F_CHECK(res == 4096 && !memcmp(rbuf, wbuf, 4096),
		"%s: a plain read after the faults: res %ld", t_aio_name(a),
		res);
	close(fd);
	free(wbuf);
	free(rbuf);
}

/* ---- private mounts, always undone ---- */

/*
 * Mounts are made in a mount namespace of the test's own: whatever way the
 * test ends, even SIGKILL, the kernel drops them with the namespace.  Must
 * come first in main(), while the process has one thread (unshare(2)).
 */
static inline void t_private_mounts(void)
{
	T_SKIP_IF(geteuid() != 0, "needs root (mounts)");
	T_SKIP_IF(unshare(CLONE_NEWNS) != 0, "unshare(CLONE_NEWNS): %s",
		  strerror(errno));
	T_SKIP_IF(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0,
		  "mount --make-rprivate /: %s", strerror(errno));
}

#define T_MAX_MOUNTS 8

static struct t_mount {
	char dir[PATH_MAX];
	pid_t server; /* a FUSE server to stop, or 0 */
} t_mounts[T_MAX_MOUNTS];
static int t_nmounts;

/* A fresh directory under $TMPDIR. */
static inline void t_tempdir(char *out, size_t len, const char *tag)
{
	const char *dir = getenv("TMPDIR");

	snprintf(out, len, "%s/uaio-%s-XXXXXX", dir && *dir ? dir : "/tmp",
		 tag);
	if (!mkdtemp(out))
		T_FAIL("mkdtemp(%s): %s", out, strerror(errno));
}

/* Wait up to ms for pid to end; false if it did not. */
static inline bool t_wait_pid(pid_t pid, long ms, int *status)
{
	double end = t_now_ms() + ms;

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid || (r < 0 && errno == ECHILD))
			return true;
		if (t_now_ms() > end)
			return false;
		t_sleep_ms(5);
	}
}

/*
 * Undo mount m: unmounted when nothing uses it, detached otherwise (a
 * failing test may still hold files), its server stopped, its directory
 * removed.  A FUSE server whose requests are held is killed: the
 * connection then ends every request, so nothing waits for it.
 */
static inline void t_unmount_one(struct t_mount *m, bool quick)
{
	int status;

	if (!m->dir[0])
		return;
	if (quick || umount2(m->dir, 0) != 0)
		umount2(m->dir, MNT_DETACH);
	if (m->server > 0) {
		if (quick || !t_wait_pid(m->server, 2000, &status)) {
			kill(m->server, SIGKILL);
			t_wait_pid(m->server, 2000, &status);
		}
		m->server = 0;
	}
	rmdir(m->dir);
	m->dir[0] = '\0';
}

static inline void t_unmount_all(void)
{
	while (t_nmounts > 0)
		t_unmount_one(&t_mounts[--t_nmounts], false);
}

static inline struct t_mount *t_mount_add(const char *dir, pid_t server)
{
	static bool registered;
	struct t_mount *m;

	if (!registered) {
		atexit(t_unmount_all);
		registered = true;
	}
	T_ASSERT(t_nmounts < T_MAX_MOUNTS);
	m = &t_mounts[t_nmounts++];
	snprintf(m->dir, sizeof(m->dir), "%s", dir);
	m->server = server;
	return m;
}

/* Unmount the most recent mount (a test that mounts afresh per run). */
static inline void t_unmount_last(void)
{
	T_ASSERT(t_nmounts > 0);
	t_unmount_one(&t_mounts[--t_nmounts], false);
}

static inline void *t_watchdog_main(void *arg)
{
	long secs = (long)(intptr_t)arg;
	struct timespec end;
	sigset_t all;

	/* Not for the storms: only the end of its time wakes it. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, NULL);
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += secs;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &end, NULL))
		;
	fprintf(stderr, "FAIL: still running after %ld s: something hangs\n",
		secs);
	for (int i = t_nmounts; i-- > 0;)
		t_unmount_one(&t_mounts[i], true);
	_exit(1);
}

/*
 * Fail the test if it runs longer than secs: a request that never
 * completes must not leave a mount or a server behind, nor wait for
 * CTest's timeout.
 */
static inline void t_watchdog(long secs)
{
	pthread_t t;

	T_EQ(pthread_create(&t, NULL, t_watchdog_main, (void *)(intptr_t)secs),
	     0);
	pthread_detach(t);
}

/* Run argv (a file system tool), quietly; its exit status, or -1. */
static inline int t_run_tool(char *const argv[])
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		T_FAIL("fork: %s", strerror(errno));
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	if (!t_wait_pid(pid, 20000, &status)) {
		kill(pid, SIGKILL);
		t_wait_pid(pid, 2000, &status);
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static inline void t_mount_tmpfs(char *dir, size_t len, const char *opts)
{
	t_tempdir(dir, len, "tmpfs");
	if (mount("tmpfs", dir, "tmpfs", 0, opts)) {
		int err = errno;
		rmdir(dir);
		T_SKIP_IF(true, "mount -t tmpfs -o %s: %s", opts,
			  strerror(err));
	}
	t_mount_add(dir, 0);
}

static int t_ext4_template = -1;

/*
 * The ext4 image of mb MiB that every mount copies, made once by
 * mkfs.ext4 (no journal, no reserved blocks, inode tables written at
 * once: nothing changes the free space behind the test's back), so that
 * every run starts from the same bytes.  Call it before counting
 * descriptors: the image stays open.
 */
static inline void t_ext4_prepare(unsigned mb)
{
	const char *dir = getenv("TMPDIR");
	const char *mkfs = access("/usr/sbin/mkfs.ext4", X_OK) == 0
			       ? "/usr/sbin/mkfs.ext4"
			       : "/sbin/mkfs.ext4";
	char path[PATH_MAX], size[32];
	char *argv[] = {(char *)mkfs,
			"-q",
			"-F",
			"-m",
			"0",
			"-b",
			"4096",
			"-O",
			"^has_journal",
			"-E",
			"lazy_itable_init=0,nodiscard",
			path,
			size,
			NULL};
	int st;

	if (t_ext4_template >= 0)
		return;
	snprintf(path, sizeof(path), "%s/uaio-ext4-XXXXXX",
		 dir && *dir ? dir : "/tmp");
	snprintf(size, sizeof(size), "%uM", mb);
	t_ext4_template = mkstemp(path);
	if (t_ext4_template < 0)
		T_FAIL("mkstemp(%s): %s", path, strerror(errno));
	st = t_run_tool(argv);
	unlink(path);
	T_SKIP_IF(st != 0, "%s failed (%d)", mkfs, st);
}

/* A copy of the image (t_ext4_prepare()), unlinked: its descriptor. */
static inline int t_ext4_image(void)
{
	static unsigned char buf[1 << 16];
	const char *dir = getenv("TMPDIR");
	char path[PATH_MAX];
	int fd;

	T_ASSERT(t_ext4_template >= 0);
	snprintf(path, sizeof(path), "%s/uaio-ext4-XXXXXX",
		 dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	if (fd < 0)
		T_FAIL("mkstemp(%s): %s", path, strerror(errno));
	unlink(path);
	for (off_t off = 0;;) {
		ssize_t n = pread(t_ext4_template, buf, sizeof(buf), off);

		if (n < 0)
			T_FAIL("read ext4 image: %s", strerror(errno));
		if (n == 0)
			break;
		if (pwrite(fd, buf, (size_t)n, off) != n)
			T_FAIL("copy ext4 image: %s", strerror(errno));
		off += n;
	}
	return fd;
}

/*
 * A loop device over the file fd, detached by the kernel once its last
 * user (the returned descriptor, a mount) lets it go; its path in dev.
 */
static inline int t_loop_attach(int fd, char *dev, size_t len)
{
	int ctl, loop = -1;

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	T_SKIP_IF(ctl < 0, "/dev/loop-control: %s", strerror(errno));
	/* Tests running at once race for the free device: try again. */
	for (int tries = 0; tries < 50 && loop < 0; tries++) {
		struct loop_config cfg = {.fd = (unsigned)fd};
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);

		T_SKIP_IF(n < 0, "LOOP_CTL_GET_FREE: %s", strerror(errno));
		snprintf(dev, len, "/dev/loop%d", n);
		loop = open(dev, O_RDWR | O_CLOEXEC);
		if (loop < 0)
			continue;
		cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
		if (ioctl(loop, LOOP_CONFIGURE, &cfg)) {
			T_SKIP_IF(errno != EBUSY, "LOOP_CONFIGURE: %s",
				  strerror(errno));
			close(loop);
			loop = -1;
		}
	}
	close(ctl);
	T_SKIP_IF(loop < 0, "no free loop device");
	return loop;
}

/* A fresh copy of the ext4 image on a loop device, mounted on a new
 * directory. */
static inline void t_mount_ext4(char *dir, size_t len)
{
	int img = t_ext4_image(), loop;
	char dev[64];

	loop = t_loop_attach(img, dev, sizeof(dev));
	close(img);
	t_tempdir(dir, len, "ext4");
	if (mount(dev, dir, "ext4", 0, "")) {
		int err = errno;
		ioctl(loop, LOOP_CLR_FD, 0);
		close(loop);
		rmdir(dir);
		T_SKIP_IF(true, "mount ext4 %s: %s", dev, strerror(err));
	}
	close(loop);
	t_mount_add(dir, 0);
}

/* ---- faultfs ---- */

/* Tests that mount faultfs are given its path (faults.cmake). */
#ifndef FAULTFS_PATH
#define FAULTFS_PATH ""
#endif

struct t_fuse {
	char dir[PATH_MAX];
	int ctl;
};

/* Mount faultfs (built beside the test: FAULTFS_PATH) and open its ctl. */
static inline void t_fuse_start(struct t_fuse *f)
{
	extern char **environ;
	char ctl[PATH_MAX + 8], **envp;
	char *argv[] = {"faultfs", "-o", "fsname=faultfs,subtype=faultfs",
			f->dir, NULL};
	pid_t pid, parent = getpid();
	int status, n = 0;

	T_SKIP_IF(access("/dev/fuse", R_OK | W_OK) != 0, "/dev/fuse: %s",
		  strerror(errno));
	T_SKIP_IF(!*FAULTFS_PATH || access(FAULTFS_PATH, X_OK) != 0,
		  "faultfs (%s): %s", FAULTFS_PATH, strerror(errno));
	t_tempdir(f->dir, sizeof(f->dir), "fuse");
	/* Made before fork(): the child of a threaded process may only exec.
	 * A server killed at the end has no leaks worth reporting. */
	while (environ[n])
		n++;
	envp = calloc((size_t)n + 2, sizeof(*envp));
	T_ASSERT(envp);
	n = 0;
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "ASAN_OPTIONS=", 13))
			envp[n++] = *e;
	envp[n] = "ASAN_OPTIONS=detect_leaks=0";
	pid = fork();
	if (pid < 0)
		T_FAIL("fork: %s", strerror(errno));
	if (pid == 0) {
		/* Gone with the test, whatever way it ends. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		execve(FAULTFS_PATH, argv, envp);
		_exit(127);
	}
	free(envp);
	t_mount_add(f->dir, pid);
	snprintf(ctl, sizeof(ctl), "%s/ctl", f->dir);
	for (double end = t_now_ms() + 5000;;) {
		struct stat st;

		if (stat(ctl, &st) == 0)
			break;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			t_mounts[t_nmounts - 1].server = 0;
			T_SKIP_IF(true, "faultfs could not mount (status %#x)",
				  status);
		}
		T_SKIP_IF(t_now_ms() > end, "faultfs did not mount in 5 s");
		t_sleep_ms(5);
	}
	f->ctl = open(ctl, O_RDWR | O_CLOEXEC);
	if (f->ctl < 0)
		T_FAIL("open(%s): %s", ctl, strerror(errno));
}

static inline void t_fuse_stop(struct t_fuse *f)
{
	close(f->ctl);
	t_unmount_all();
}

/* One faultfs command (see faultfs.c). */
__attribute__((format(printf, 2, 3))) static inline void
t_fuse_cmd(struct t_fuse *f, const char *fmt, ...)
{
	char line[160];
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (pwrite(f->ctl, line, (size_t)len, 0) != len)
		T_FAIL("faultfs: \"%s\": %s", line, strerror(errno));
}

/* Requests faultfs holds now. */
static inline int t_fuse_held(struct t_fuse *f)
{
	char buf[128];
	ssize_t n = pread(f->ctl, buf, sizeof(buf) - 1, 0);
	int held;

	if (n <= 0)
		T_FAIL("faultfs: reading ctl: %s", strerror(errno));
	buf[n] = '\0';
	if (sscanf(buf, "held %d", &held) != 1)
		T_FAIL("faultfs: ctl says \"%s\"", buf);
	return held;
}

/* Wait up to ms until faultfs holds n requests; false if it does not. */
static inline bool t_fuse_wait_held(struct t_fuse *f, int n, long ms)
{
	double end = t_now_ms() + ms;

	while (t_fuse_held(f) < n) {
		if (t_now_ms() > end)
			return false;
		t_sleep_ms(2);
	}
	return true;
}

static inline void t_fuse_path(struct t_fuse *f, const char *name, char *out,
			       size_t len)
{
	snprintf(out, len, "%s/%s", f->dir, name);
}

static inline int t_fuse_open(struct t_fuse *f, const char *name, int flags)
{
	char path[PATH_MAX + 16];
	int fd;

	t_fuse_path(f, name, path, sizeof(path));
	fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		T_FAIL("open(%s): %s", path, strerror(errno));
	return fd;
}

/* What faultfs stores in a file: its size and hash, as "SIZE HASH". */
static inline void t_fuse_sum(struct t_fuse *f, const char *file, char *out,
			      size_t len)
{
	char buf[256], *line;
	int fd = t_fuse_open(f, "sums", O_RDONLY);
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	size_t flen = strlen(file);

	close(fd);
	if (n <= 0)
		T_FAIL("faultfs: reading sums: %s", strerror(errno));
	buf[n] = '\0';
	for (line = buf; line && *line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (!strncmp(line, file, flen) && line[flen] == ' ') {
			snprintf(out, len, "%.*s",
				 (int)strcspn(line + flen + 1, "\n"),
				 line + flen + 1);
			return;
		}
	}
	T_FAIL("faultfs: no sum for %s in \"%s\"", file, buf);
}

/* ---- scenarios of requests on one faultfs file ---- */

/*
 * One request: 'r' PREAD, 'w' PWRITE, 'R' PREADV and 'W' PWRITEV (the
 * length in two iovecs), 's' FSYNC.
 */
struct t_req {
	char op;
	long long off;
	size_t len;
};

#define T_MAX_REQS 16

struct t_scenario {
	const char *name;
	const char *file; /* "data" or "direct" */
	int oflags;	  /* O_DIRECT, O_DSYNC... */
	bool one_by_one;  /* see t_run() */
	const char *rules[4];
	struct t_req req[T_MAX_REQS]; /* up to one with op 0 */
	/*
	 * Engines on which uaio(7) documents a different outcome: there
	 * the results are not compared (every request must still complete
	 * exactly once), or with not_run the scenario is not run at all (it
	 * would never complete, or the kernel's io_uring gets it wrong).
	 */
	const char *differs;
	bool not_run;
};

/* Whether uaio(7) documents that this engine differs here: engines is a
 * list of names separated by spaces. */
static inline bool t_differs(const char *engines)
{
	size_t n = strlen(t_engine());

	if (!engines || t_is_ref())
		return false;
	for (const char *p = engines; (p = strstr(p, t_engine())); p += n)
		if ((p == engines || p[-1] == ' ') &&
		    (p[n] == '\0' || p[n] == ' '))
			return true;
	return false;
}

/* How long a scenario's requests may take. */
static long t_fuse_timeout_ms = 10000;

/* What a write of the fault tests stores at off. */
static inline unsigned char t_wpattern(uint64_t off)
{
	return (unsigned char)(off * 7 + 0x3d);
}

/*
 * Run s on a: faultfs reset and given s's rules, the file opened afresh
 * (which also drops its page cache), the requests run, then what faultfs
 * stores taken (size and hash).  res gets the results; reads that
 * report bytes must have read the file's bytes.
 */
static inline void t_fuse_scenario(struct t_fuse *f, struct t_aio *a,
				   const struct t_scenario *s, long *res,
				   int *nreq, char *sum, size_t sumlen)
{
	struct iocb cbs[T_MAX_REQS], *p[T_MAX_REQS];
	struct iovec iov[T_MAX_REQS][2];
	unsigned char *bufs[T_MAX_REQS];
	bool writes = false;
	int n = 0, fd;

	t_fuse_cmd(f, "reset");
	for (int i = 0; i < 4 && s->rules[i]; i++)
		t_fuse_cmd(f, "%s", s->rules[i]);
	fd = t_fuse_open(f, s->file, O_RDWR | s->oflags);
	for (; n < T_MAX_REQS && s->req[n].op; n++) {
		const struct t_req *q = &s->req[n];
		size_t half = q->len / 2 / 4096 * 4096;

		bufs[n] = t_aligned(4096, q->len ? q->len : 1);
		if (q->op == 'w' || q->op == 'W') {
			for (size_t i = 0; i < q->len; i++)
				bufs[n][i] = t_wpattern((uint64_t)q->off + i);
			writes = true;
		} else {
			memset(bufs[n], 0xee, q->len);
		}
		iov[n][0] = (struct iovec){bufs[n], half};
		iov[n][1] = (struct iovec){bufs[n] + half, q->len - half};
		switch (q->op) {
		case 'r':
			io_prep_pread(&cbs[n], fd, bufs[n], q->len, q->off);
			break;
		case 'w':
			io_prep_pwrite(&cbs[n], fd, bufs[n], q->len, q->off);
			break;
		case 'R':
			io_prep_preadv(&cbs[n], fd, iov[n], 2, q->off);
			break;
		case 'W':
			io_prep_pwritev(&cbs[n], fd, iov[n], 2, q->off);
			break;
		default:
			io_prep_fsync(&cbs[n], fd);
			break;
		}
		cbs[n].data = (void *)(uintptr_t)(n + 1);
		p[n] = &cbs[n];
	}
	t_run(a, p, n, s->one_by_one, res, t_fuse_timeout_ms);
	for (int i = 0; i < n && !writes; i++) {
		const struct t_req *q = &s->req[i];
		long bad = -1;

		if (q->op == 's' || res[i] <= 0)
			continue;
		for (long j = 0; j < res[i] && bad < 0; j++)
			if (bufs[i][j] != faultfs_pattern((uint64_t)q->off + j))
				bad = j;
		F_CHECK(bad < 0, "%s: %s: request %d read wrong data at %lld",
			s->name, t_aio_name(a), i, q->off + bad);
	}
	for (int i = 0; i < n; i++)
		free(bufs[i]);
	close(fd);
	t_fuse_sum(f, s->file, sum, sumlen);
	*nreq = n;
}

/* Each scenario on the kernel's AIO, then on lib: the same, or reported. */
static inline void t_fuse_compare(struct t_fuse *f, struct t_aio *kernel,
				  struct t_aio *lib, const struct t_scenario *s,
				  int count)
{
	for (int i = 0; i < count; i++) {
		long want[T_MAX_REQS], got[T_MAX_REQS];
		char swant[64], sgot[64];
		bool differs = t_differs(s[i].differs);
		int n;

		if (differs && s[i].not_run) {
			fprintf(stderr, "%s: not run on %s (uaio.7)\n",
				s[i].name, t_engine());
			continue;
		}
		t_fuse_scenario(f, kernel, &s[i], want, &n, swant,
				sizeof(swant));
		t_fuse_scenario(f, lib, &s[i], got, &n, sgot, sizeof(sgot));
		if (differs) {
			fprintf(stderr,
				"%s: results not compared on %s, which differs "
				"here (uaio.7)\n",
				s[i].name, t_engine());
			continue;
		}
		t_same_res(s[i].name, got, want, n);
		F_CHECK(!strcmp(sgot, swant),
			"%s: the file system stores other contents (size and "
			"hash %s, kernel AIO's %s)",
			s[i].name, sgot, swant);
	}
}

/* ---- filling a small file system ---- */

#include <sys/statvfs.h>

/* A small file system: a tmpfs of 1 MiB or an ext4 of 4 MiB (made by
 * t_ext4_prepare(4)). */
struct t_fs {
	const char *name;
	bool ext4;
};

/*
 * Writes of len bytes at offsets len + gap apart, as many as the free
 * space takes plus `extra`, then (with `after`) a rewrite of the first
 * len bytes and an FSYNC.
 */
struct t_fill {
	const char *name;
	int oflags;
	bool one_by_one;
	char op; /* 'w' or 'W' */
	size_t len, gap;
	int extra;
	bool after;
	const char *differs; /* as in struct t_scenario */
};

#define T_MAX_FILL 96

/* A fresh file system of kind fs, mounted; its directory in dir. */
static inline void t_fs_mount(const struct t_fs *fs, char *dir, size_t len)
{
	if (fs->ext4)
		t_mount_ext4(dir, len);
	else
		t_mount_tmpfs(dir, len, "size=1m");
}

/*
 * Fill a fresh file system fs with w's writes on a; res gets the results
 * (n of them), sum what is left: the file's size and contents, and the
 * free blocks.
 */
static inline void t_fill_run(const struct t_fs *fs, const struct t_fill *w,
			      struct t_aio *a, long *res, int *n, char *sum,
			      size_t sumlen)
{
	char dir[PATH_MAX], path[PATH_MAX + 8];
	struct iocb cbs[T_MAX_FILL + 2], *p[T_MAX_FILL + 2];
	struct iovec iov[T_MAX_FILL][2];
	unsigned char *buf = t_aligned(4096, w->len);
	struct statvfs sv;
	struct stat st;
	int fd, count;

	t_fs_mount(fs, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/fill", dir);
	fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC | w->oflags, 0644);
	if (fd < 0) {
		T_SKIP_IF(errno == EINVAL && (w->oflags & O_DIRECT),
			  "%s: no O_DIRECT", fs->name);
		T_FAIL("open(%s): %s", path, strerror(errno));
	}
	T_EQ(fstatvfs(fd, &sv), 0);
	count = (int)((unsigned long long)sv.f_bavail * sv.f_frsize / w->len) +
		w->extra;
	T_ASSERT(count <= T_MAX_FILL);
	for (size_t i = 0; i < w->len; i++)
		buf[i] = t_wpattern(i);
	for (int i = 0; i < count; i++) {
		long long off = (long long)i * (long long)(w->len + w->gap);

		iov[i][0] = (struct iovec){buf, w->len / 2 / 4096 * 4096};
		iov[i][1] = (struct iovec){buf + iov[i][0].iov_len,
					   w->len - iov[i][0].iov_len};
		if (w->op == 'W')
			io_prep_pwritev(&cbs[i], fd, iov[i], 2, off);
		else
			io_prep_pwrite(&cbs[i], fd, buf, w->len, off);
		cbs[i].data = (void *)(uintptr_t)(i + 1);
		p[i] = &cbs[i];
	}
	t_run(a, p, count, w->one_by_one, res, 20000);
	*n = count;
	if (w->after) {
		/* Space already allocated stays writable. */
		io_prep_pwrite(&cbs[count], fd, buf, w->len, 0);
		io_prep_fsync(&cbs[count + 1], fd);
		cbs[count].data = (void *)(uintptr_t)(count + 1);
		cbs[count + 1].data = (void *)(uintptr_t)(count + 2);
		p[count] = &cbs[count];
		p[count + 1] = &cbs[count + 1];
		t_run(a, p + count, 2, true, res + count, 20000);
		*n = count + 2;
	}
	T_EQ(fstat(fd, &st), 0);
	T_EQ(fstatvfs(fd, &sv), 0);
	close(fd);
	snprintf(sum, sumlen, "size %lld hash %llx free %llu",
		 (long long)st.st_size, (unsigned long long)t_file_hash(path),
		 (unsigned long long)sv.f_bfree);
	free(buf);
	t_unmount_last();
}

/* Each fill on each file system: on the kernel's AIO, then on lib. */
static inline void t_fill_compare(const struct t_fs *fss, int nfs,
				  const struct t_fill *w, int nw,
				  struct t_aio *kernel, struct t_aio *lib)
{
	for (int f = 0; f < nfs; f++) {
		for (int i = 0; i < nw; i++) {
			long want[T_MAX_FILL + 2], got[T_MAX_FILL + 2];
			char swant[128], sgot[128], what[128];
			int n, m;

			snprintf(what, sizeof(what), "%s: %s", fss[f].name,
				 w[i].name);
			t_fill_run(&fss[f], &w[i], kernel, want, &n, swant,
				   sizeof(swant));
			t_fill_run(&fss[f], &w[i], lib, got, &m, sgot,
				   sizeof(sgot));
			T_EQ(m, n);
			if (t_differs(w[i].differs)) {
				fprintf(stderr,
					"%s: results not compared on %s, which "
					"differs here (uaio.7)\n",
					what, t_engine());
				continue;
			}
			t_same_res(what, got, want, n);
			F_CHECK(!strcmp(sgot, swant),
				"%s: afterwards %s, with kernel AIO %s", what,
				sgot, swant);
		}
	}
}

/* ---- requests on a scratch file under a file size limit ---- */

#include <sys/resource.h>

/* A scenario on a fresh scratch file ($TMPDIR) of `size` bytes. */
struct t_fcase {
	const char *name;
	int oflags; /* O_DIRECT, O_DSYNC, O_APPEND... */
	bool one_by_one;
	rlim_t limit; /* RLIMIT_FSIZE while the requests run */
	off_t size;
	int rw_flags; /* aio_rw_flags of every request (RWF_DSYNC...) */
	struct t_req req[T_MAX_REQS];
};

/* The soft limit only: raising a hard one back needs a capability. */
static inline void t_set_fsize(rlim_t limit)
{
	struct rlimit r;

	T_EQ(getrlimit(RLIMIT_FSIZE, &r), 0);
	T_SKIP_IF(r.rlim_max != RLIM_INFINITY && r.rlim_max < limit,
		  "RLIMIT_FSIZE's hard limit is %llu",
		  (unsigned long long)r.rlim_max);
	r.rlim_cur = limit;
	if (setrlimit(RLIMIT_FSIZE, &r))
		T_FAIL("setrlimit(RLIMIT_FSIZE, %llu): %s",
		       (unsigned long long)limit, strerror(errno));
}

/*
 * Run c on a: res gets the results (n of them), sum the file's size and
 * contents afterwards.  The limit only holds while the requests run.
 */
static inline void t_fcase_run(const struct t_fcase *c, struct t_aio *a,
			       long *res, int *n, char *sum, size_t sumlen)
{
	struct iocb cbs[T_MAX_REQS], *p[T_MAX_REQS];
	struct iovec iov[T_MAX_REQS][2];
	unsigned char *bufs[T_MAX_REQS];
	struct stat st;
	int fd0 = t_scratch_file(0, 0), fd, k = 0;

	T_EQ(ftruncate(fd0, c->size), 0);
	fd = t_reopen(fd0, O_RDWR | O_CLOEXEC | c->oflags);
	close(fd0);
	for (; k < T_MAX_REQS && c->req[k].op; k++) {
		const struct t_req *q = &c->req[k];
		size_t half = q->len / 2 / 4096 * 4096;

		bufs[k] = t_aligned(4096, q->len ? q->len : 1);
		for (size_t i = 0; i < q->len; i++)
			bufs[k][i] = t_wpattern((uint64_t)q->off + i);
		iov[k][0] = (struct iovec){bufs[k], half};
		iov[k][1] = (struct iovec){bufs[k] + half, q->len - half};
		if (q->op == 'W')
			io_prep_pwritev(&cbs[k], fd, iov[k], 2, q->off);
		else if (q->op == 's')
			io_prep_fsync(&cbs[k], fd);
		else
			io_prep_pwrite(&cbs[k], fd, bufs[k], q->len, q->off);
		if (q->op != 's')
			cbs[k].aio_rw_flags = c->rw_flags;
		cbs[k].data = (void *)(uintptr_t)(k + 1);
		p[k] = &cbs[k];
	}
	t_set_fsize(c->limit);
	t_run(a, p, k, c->one_by_one, res, 10000);
	t_set_fsize(RLIM_INFINITY);
	*n = k;
	T_EQ(fstat(fd, &st), 0);
	fd0 = t_reopen(fd, O_RDONLY | O_CLOEXEC); /* not O_DIRECT */
	/* The start and the end: files here may be sparse and huge. */
	snprintf(sum, sumlen, "size %lld hash %llx %llx", (long long)st.st_size,
		 (unsigned long long)t_fd_hash(fd0, 0, 4 << 20),
		 (unsigned long long)t_fd_hash(
		     fd0, st.st_size > (64 << 10) ? st.st_size - (64 << 10) : 0,
		     64 << 10));
	close(fd0);
	close(fd);
	for (int i = 0; i < k; i++)
		free(bufs[i]);
}

static inline void t_fcase_compare(const struct t_fcase *c, int count,
				   struct t_aio *kernel, struct t_aio *lib)
{
	for (int i = 0; i < count; i++) {
		long want[T_MAX_REQS], got[T_MAX_REQS];
		char swant[96], sgot[96];
		int n, m;

		t_fcase_run(&c[i], kernel, want, &n, swant, sizeof(swant));
		t_fcase_run(&c[i], lib, got, &m, sgot, sizeof(sgot));
		t_same_res(c[i].name, got, want, n);
		F_CHECK(!strcmp(sgot, swant),
			"%s: afterwards %s, with kernel "
			"AIO %s",
			c[i].name, sgot, swant);
	}
}

#endif
