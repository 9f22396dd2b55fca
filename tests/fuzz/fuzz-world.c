/*
 * fuzz-world.c - each side's descriptors and memory, made afresh for every
 * input in the same order and with the same contents, so that whatever the
 * two engines do differently shows up as a difference of results or state.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz-diff.h"

struct world W[NSIDE];
void *fz_hole;

static const char *workdir;

#define FILE_SIZE (4 * PAGE)
#define SHM_SIZE (2 * PAGE)
/* Bytes a stream holds at the start: reads find something. */
#define PIPE_PREFILL 256
#define NBPIPE_PREFILL 64
#define SOCK_PREFILL 128
/* Kept far below the pipe's 16 pages and the socket's send buffer, so
 * that a write (ours or the kernel engine's, inside io_submit) never
 * blocks.  A pipe write may take a page of its own, hence the count. */
#define STREAM_LIMIT (16 * 1024)
#define STREAM_MAX_WRITES 8

static unsigned char pattern(unsigned seed, size_t i)
{
	return (unsigned char)((i * 2654435761u + seed * 40503u) >> 11);
}

/*
 * The unmapped page: mapped, then unmapped, far below where mmap() places
 * things (it searches down from the top), so that no mapping made later,
 * such as a new thread's, lands in it between a check and a call.
 */
static void make_hole(void)
{
	for (uintptr_t a = 0x10000000; a < 0x20000000; a += 0x100000) {
		unsigned char *p = mmap(
		    (void *)a, 3 * PAGE, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (p == MAP_FAILED)
			continue;
		if ((uintptr_t)p != a) {
			munmap(p, 3 * PAGE); /* an old kernel's hint */
			continue;
		}
		munmap(p + PAGE, PAGE);
		fz_hole = p + PAGE;
		return;
	}
	fz_fatal("no room for the unmapped page");
}

void world_check_hole(void)
{
	/* msync fails with ENOMEM on an unmapped page: still a hole. */
	if (msync(fz_hole, PAGE, MS_ASYNC) == 0 || errno != ENOMEM)
		make_hole();
}

void world_init_once(void)
{
	workdir = getenv("FUZZ_TMPDIR");
	if (!workdir || !*workdir)
		workdir = ".";
	signal(SIGPIPE, SIG_IGN);
	for (int s = 0; s < NSIDE; s++) {
		unsigned char *b =
		    mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (b == MAP_FAILED)
			fz_fatal("mmap: %s", strerror(errno));
		W[s].base = b;
		static const int guards[] = {P_G0, P_G1, P_G2, P_G3, P_NONE};
		for (size_t i = 0; i < sizeof(guards) / sizeof(guards[0]); i++)
			mprotect(b + (size_t)guards[i] * PAGE, PAGE, PROT_NONE);
		for (int f = 0; f < NFK; f++)
			W[s].fd[f] = -1;
		W[s].aux_reg = W[s].aux_direct = W[s].aux_shm = -1;
		W[s].dup_eventfd = W[s].dup_notify = -1;
	}
	make_hole();
}

static int reopen(int fd, int flags)
{
	char path[64];
	int r;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = open(path, flags);
	if (r < 0)
		fz_fatal("reopen %s: %s", path, strerror(errno));
	return r;
}

static int tmpfile_in(const char *dir, size_t size, unsigned seed)
{
	unsigned char buf[FILE_SIZE];
	int fd = open(dir, O_TMPFILE | O_RDWR, 0600);

	if (fd < 0)
		fz_fatal("O_TMPFILE in %s: %s (set FUZZ_TMPDIR to a directory "
			 "on ext4)",
			 dir, strerror(errno));
	for (size_t i = 0; i < size; i++)
		buf[i] = pattern(seed, i);
	if (pwrite(fd, buf, size, 0) != (ssize_t)size)
		fz_fatal("pwrite: %s", strerror(errno));
	return fd;
}

static void xwrite(int fd, size_t n, unsigned seed)
{
	unsigned char buf[PIPE_PREFILL];

	for (size_t i = 0; i < n; i++)
		buf[i] = pattern(seed, i);
	if (write(fd, buf, n) != (ssize_t)n)
		fz_fatal("prefill: %s", strerror(errno));
}

static void open_side(int s, unsigned seed)
{
	struct world *w = &W[s];
	int p[2], sv[2];

	w->fd[FK_REG] = tmpfile_in(workdir, FILE_SIZE, seed);
	w->fd[FK_REG_RO] = reopen(w->fd[FK_REG], O_RDONLY);
	w->fd[FK_REG_WO] = reopen(w->fd[FK_REG], O_WRONLY);
	w->fd[FK_REG_APPEND] = reopen(w->fd[FK_REG], O_RDWR | O_APPEND);
	w->aux_reg = reopen(w->fd[FK_REG], O_RDWR);
	w->aux_direct = tmpfile_in(workdir, FILE_SIZE, seed + 1);
	w->fd[FK_DIRECT] = reopen(w->aux_direct, O_RDWR | O_DIRECT);
	w->fd[FK_SHM] = tmpfile_in("/dev/shm", SHM_SIZE, seed + 2);
	w->aux_shm = reopen(w->fd[FK_SHM], O_RDWR);
	if (pipe2(p, 0))
		fz_fatal("pipe: %s", strerror(errno));
	w->fd[FK_PIPE_R] = p[0];
	w->fd[FK_PIPE_W] = p[1];
	xwrite(p[1], PIPE_PREFILL, seed + 3);
	if (pipe2(p, O_NONBLOCK))
		fz_fatal("pipe: %s", strerror(errno));
	w->fd[FK_NBPIPE_R] = p[0];
	w->fd[FK_NBPIPE_W] = p[1];
	xwrite(p[1], NBPIPE_PREFILL, seed + 4);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		fz_fatal("socketpair: %s", strerror(errno));
	w->fd[FK_SOCK_A] = sv[0];
	w->fd[FK_SOCK_B] = sv[1];
	xwrite(sv[0], SOCK_PREFILL, seed + 5);
	xwrite(sv[1], SOCK_PREFILL, seed + 6);
	w->fd[FK_EVENTFD] = eventfd(3, 0);
	w->dup_eventfd = dup(w->fd[FK_EVENTFD]);
	w->fd[FK_DIR] = open(workdir, O_RDONLY | O_DIRECTORY);
	w->fd[FK_DEVNULL] = open("/dev/null", O_RDWR);
	w->fd[FK_EPOLL] = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN};
	epoll_ctl(w->fd[FK_EPOLL], EPOLL_CTL_ADD, w->fd[FK_NBPIPE_R], &ev);
	w->fd[FK_OPATH] = reopen(w->fd[FK_REG], O_PATH);
	w->fd[FK_NOTIFY] = eventfd(0, 0);
	w->dup_notify = dup(w->fd[FK_NOTIFY]);
	for (int f = 0; f < NFK; f++)
		if (f != FK_CLOSED && f != FK_BADFD && w->fd[f] < 0)
			fz_fatal("world: descriptor kind %d: %s", f,
				 strerror(errno));
	memset(w->stream_writes, 0, sizeof(w->stream_writes));

	unsigned char *d = page_of(s, P_DATA);
	for (size_t i = 0; i < DATA_SIZE; i++)
		d[i] = pattern(seed + 7, i);
	memset(page_of(s, P_IOCB), 0, PAGE);
	memset(page_of(s, P_IOCBPP), 0, PAGE);
	struct iovec *iov = (struct iovec *)page_of(s, P_IOV);
	for (int i = 0; i < NIOV; i++)
		iov[i] = (struct iovec){d, 0};
	memset(page_of(s, P_EV), 0xa5, 4 * PAGE);
	memset(page_of(s, P_MISC), 0, PAGE);
}

void world_open(unsigned seed)
{
	for (int s = 0; s < NSIDE; s++)
		open_side(s, seed);
}

void world_close(void)
{
	for (int s = 0; s < NSIDE; s++) {
		struct world *w = &W[s];

		for (int f = 0; f < NFK; f++) {
			if (f != FK_CLOSED && f != FK_BADFD && w->fd[f] >= 0)
				close(w->fd[f]);
			w->fd[f] = -1;
		}
		int *aux[] = {&w->aux_reg, &w->aux_direct, &w->aux_shm,
			      &w->dup_eventfd, &w->dup_notify};
		for (size_t i = 0; i < sizeof(aux) / sizeof(aux[0]); i++) {
			if (*aux[i] >= 0)
				close(*aux[i]);
			*aux[i] = -1;
		}
	}
}

int world_fd(int side, int fk)
{
	if (fk == FK_CLOSED)
		return FD_NEVER;
	if (fk == FK_BADFD)
		return -1;
	return W[side].fd[fk] >= 0 ? W[side].fd[fk] : FD_NEVER;
}

bool fk_open(int side, int fk)
{
	return fk != FK_CLOSED && fk != FK_BADFD && W[side].fd[fk] >= 0;
}

void world_close_fd(int fk)
{
	for (int s = 0; s < NSIDE; s++) {
		if (fk_open(s, fk))
			close(W[s].fd[fk]);
		W[s].fd[fk] = -1;
	}
}

enum resource fk_resource(int fk)
{
	switch (fk) {
	case FK_REG:
	case FK_REG_RO:
	case FK_REG_WO:
	case FK_REG_APPEND:
		return R_REG;
	case FK_DIRECT:
		return R_DIRECT;
	case FK_SHM:
		return R_SHM;
	case FK_PIPE_R:
	case FK_PIPE_W:
		return R_PIPE;
	case FK_NBPIPE_R:
	case FK_NBPIPE_W:
		return R_NBPIPE;
	case FK_SOCK_A:
	case FK_SOCK_B:
		return R_SOCK;
	case FK_EVENTFD:
		return R_EVENTFD;
	default:
		return R_NONE;
	}
}

bool fk_stream(int fk)
{
	enum resource r = fk_resource(fk);

	return r == R_PIPE || r == R_NBPIPE || r == R_SOCK;
}

int stream_peer(int fk)
{
	switch (fk) {
	case FK_PIPE_W:
		return FK_PIPE_R;
	case FK_NBPIPE_W:
		return FK_NBPIPE_R;
	case FK_SOCK_A:
		return FK_SOCK_B;
	case FK_SOCK_B:
		return FK_SOCK_A;
	default:
		return -1;
	}
}

long stream_queued(int side, int fk_read)
{
	int n = 0;

	if (!fk_open(side, fk_read) ||
	    ioctl(W[side].fd[fk_read], FIONREAD, &n) < 0)
		return -1;
	return n;
}

static bool readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

uint64_t world_counter(int side, int fk)
{
	int fd = fk == FK_NOTIFY ? W[side].dup_notify : W[side].dup_eventfd;
	uint64_t v = 0;

	if (fd >= 0 && readable(fd) && read(fd, &v, sizeof(v)) != sizeof(v))
		v = 0;
	return v;
}

void world_set_counter(int side, int fk, uint64_t v)
{
	int fd = fk == FK_NOTIFY ? W[side].dup_notify : W[side].dup_eventfd;

	if (fd >= 0 && v && write(fd, &v, sizeof(v)) != sizeof(v))
		fz_fatal("eventfd write: %s", strerror(errno));
}

/* How many bytes may go into the stream read at fk_read without blocking. */
static long stream_room(int side, int fk_read)
{
	long q = stream_queued(side, fk_read);
	enum resource r = fk_resource(fk_read);

	if (q < 0)
		return 0;
	if (q == 0)
		W[side].stream_writes[r] = 0;
	if (W[side].stream_writes[r] >= STREAM_MAX_WRITES)
		return 0;
	return q >= STREAM_LIMIT ? 0 : STREAM_LIMIT - q;
}

long world_fill(int fk_write, size_t n, unsigned seed)
{
	int peer = stream_peer(fk_write);
	unsigned char buf[STREAM_LIMIT];
	long done[NSIDE];

	if (peer < 0 || !fk_open(K, fk_write) || !fk_open(K, peer))
		return 0;
	long room = stream_room(K, peer);
	if ((long)n > room)
		n = (size_t)room;
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		buf[i] = pattern(seed, i);
	for (int s = 0; s < NSIDE; s++) {
		done[s] = send(W[s].fd[fk_write], buf, n,
			       MSG_DONTWAIT | MSG_NOSIGNAL);
		if (done[s] < 0 && errno == ENOTSOCK)
			done[s] = write(W[s].fd[fk_write], buf, n);
		if (done[s] < 0)
			done[s] = -errno;
		W[s].stream_writes[fk_resource(peer)]++;
	}
	if (done[K] != done[E])
		fz_fail("FILL %d: write gave %ld on kernel, %ld on %s: the "
			"streams differ",
			fk_write, done[K], done[E], fz_engine);
	return done[K];
}

/* Read what a stream holds (up to max) without blocking. */
static long slurp(int side, int fk_read, unsigned char *buf, size_t max)
{
	long q = stream_queued(side, fk_read), got = 0;

	if (q <= 0)
		return q < 0 ? -1 : 0;
	if ((size_t)q > max)
		q = (long)max;
	while (got < q) {
		ssize_t r = recv(W[side].fd[fk_read], buf + got,
				 (size_t)(q - got), MSG_DONTWAIT);
		if (r < 0 && errno == ENOTSOCK)
			r = read(W[side].fd[fk_read], buf + got,
				 (size_t)(q - got));
		if (r <= 0)
			break;
		got += r;
	}
	W[side].stream_writes[fk_resource(fk_read)] = 0;
	return got;
}

#define SLURP_MAX (256 * 1024)
static unsigned char slurp_buf[NSIDE][SLURP_MAX];

void world_drain_compare(int fk_read, const char *why)
{
	long n[NSIDE];

	if (fk_read == FK_EVENTFD) {
		uint64_t v[NSIDE];
		for (int s = 0; s < NSIDE; s++)
			v[s] = world_counter(s, FK_EVENTFD);
		if (v[K] != v[E])
			fz_fail("%s: eventfd counter %llu on kernel, %llu on "
				"%s",
				why, (unsigned long long)v[K],
				(unsigned long long)v[E], fz_engine);
		return;
	}
	for (int s = 0; s < NSIDE; s++)
		n[s] = slurp(s, fk_read, slurp_buf[s], SLURP_MAX);
	if (n[K] != n[E])
		fz_fail("%s: stream (fd kind %d) holds %ld bytes on kernel, "
			"%ld on %s",
			why, fk_read, n[K], n[E], fz_engine);
	if (n[K] > 0 && memcmp(slurp_buf[K], slurp_buf[E], (size_t)n[K]))
		fz_fail("%s: stream (fd kind %d) holds other bytes on %s than "
			"on kernel",
			why, fk_read, fz_engine);
}

/* ---- files ---- */

static int file_aux(int side, enum resource r)
{
	return r == R_REG      ? W[side].aux_reg
	       : r == R_DIRECT ? W[side].aux_direct
			       : W[side].aux_shm;
}

#define FILE_WORK_MAX (4l << 20) /* bytes compared or copied per file */
static unsigned char fbuf[NSIDE][64 * 1024];

/* Each data extent of fd from pos, as [*lo, *hi); false when none. */
static bool next_extent(int fd, off_t pos, off_t size, off_t *lo, off_t *hi)
{
	off_t d = lseek(fd, pos, SEEK_DATA);

	if (d < 0 || d >= size)
		return false;
	off_t h = lseek(fd, d, SEEK_HOLE);
	if (h < 0 || h > size)
		h = size;
	*lo = d;
	*hi = h;
	return true;
}

static void copy_file(enum resource r)
{
	int src = file_aux(K, r), dst = file_aux(E, r);
	struct stat st;
	off_t lo, hi, pos = 0;
	long work = 0;

	if (fstat(src, &st) || ftruncate(dst, 0))
		fz_fatal("resync: %s", strerror(errno));
	while (work < FILE_WORK_MAX &&
	       next_extent(src, pos, st.st_size, &lo, &hi)) {
		for (off_t o = lo; o < hi && work < FILE_WORK_MAX;) {
			size_t n = sizeof(fbuf[K]);
			if ((off_t)n > hi - o)
				n = (size_t)(hi - o);
			ssize_t got = pread(src, fbuf[K], n, o);
			if (got <= 0)
				break;
			if (pwrite(dst, fbuf[K], (size_t)got, o) != got)
				fz_fatal("resync: %s", strerror(errno));
			o += got;
			work += got;
		}
		pos = hi;
	}
	if (ftruncate(dst, st.st_size))
		fz_fatal("resync: %s", strerror(errno));
}

static void compare_range(enum resource r, int fd_k, int fd_e, off_t lo,
			  off_t hi, long *work)
{
	for (off_t o = lo; o < hi && *work < FILE_WORK_MAX;) {
		size_t n = sizeof(fbuf[K]);
		if ((off_t)n > hi - o)
			n = (size_t)(hi - o);
		ssize_t a = pread(fd_k, fbuf[K], n, o);
		ssize_t b = pread(fd_e, fbuf[E], n, o);
		if (a != b || (a > 0 && memcmp(fbuf[K], fbuf[E], (size_t)a))) {
			size_t at = 0;
			while (a > 0 && at < (size_t)a &&
			       fbuf[K][at] == fbuf[E][at])
				at++;
			fz_fail("file (resource %d) differs at offset %lld: "
				"kernel 0x%02x, %s 0x%02x",
				r, (long long)(o + (off_t)at), fbuf[K][at],
				fz_engine, fbuf[E][at]);
		}
		if (a <= 0)
			break;
		o += a;
		*work += a;
	}
}

static void compare_file(enum resource r)
{
	int fk = file_aux(K, r), fe = file_aux(E, r);
	struct stat sk, se;
	off_t lo, hi, pos;
	long work = 0;

	if (fstat(fk, &sk) || fstat(fe, &se))
		fz_fatal("fstat: %s", strerror(errno));
	if (sk.st_size != se.st_size)
		fz_fail(
		    "file (resource %d) is %lld bytes on kernel, %lld on %s", r,
		    (long long)sk.st_size, (long long)se.st_size, fz_engine);
	/* The data of each side, compared with the other's (holes read 0). */
	for (int s = 0; s < NSIDE; s++) {
		int fd = s == K ? fk : fe;
		for (pos = 0; work < FILE_WORK_MAX &&
			      next_extent(fd, pos, sk.st_size, &lo, &hi);
		     pos = hi)
			compare_range(r, fk, fe, lo, hi, &work);
	}
}

/* ---- the whole state ---- */

static void resync_stream(int fk_read)
{
	long n[NSIDE];
	int fk_write = -1;

	for (int f = 0; f < NFK; f++)
		if (stream_peer(f) == fk_read)
			fk_write = f;
	for (int s = 0; s < NSIDE; s++)
		n[s] = slurp(s, fk_read, slurp_buf[s], SLURP_MAX);
	if (n[K] <= 0 || fk_write < 0)
		return;
	for (int s = 0; s < NSIDE; s++) {
		if (!fk_open(s, fk_write))
			continue;
		ssize_t w = send(W[s].fd[fk_write], slurp_buf[K], (size_t)n[K],
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && errno == ENOTSOCK)
			w = write(W[s].fd[fk_write], slurp_buf[K],
				  (size_t)n[K]);
		(void)w; /* what did not fit is lost on both sides */
	}
}

static const int stream_reads[] = {FK_PIPE_R, FK_NBPIPE_R, FK_SOCK_A,
				   FK_SOCK_B};

void world_resync(void)
{
	memcpy(page_of(E, P_DATA), page_of(K, P_DATA), DATA_SIZE);
	copy_file(R_REG);
	copy_file(R_DIRECT);
	copy_file(R_SHM);
	for (size_t i = 0; i < sizeof(stream_reads) / sizeof(int); i++)
		resync_stream(stream_reads[i]);
	uint64_t v = world_counter(K, FK_EVENTFD);
	(void)world_counter(E, FK_EVENTFD);
	world_set_counter(K, FK_EVENTFD, v);
	world_set_counter(E, FK_EVENTFD, v);
}

void world_compare(void)
{
	const unsigned char *a = page_of(K, P_DATA), *b = page_of(E, P_DATA);

	if (memcmp(a, b, DATA_SIZE)) {
		size_t at = 0;
		while (a[at] == b[at])
			at++;
		fz_fail("data area differs at offset %zu: kernel 0x%02x, %s "
			"0x%02x",
			at, a[at], fz_engine, b[at]);
	}
	compare_file(R_REG);
	compare_file(R_DIRECT);
	compare_file(R_SHM);
	for (size_t i = 0; i < sizeof(stream_reads) / sizeof(int); i++)
		world_drain_compare(stream_reads[i], "at the end");
	world_drain_compare(FK_EVENTFD, "at the end");
}

unsigned world_fd_count(unsigned *rings)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	unsigned n = 0;

	*rings = 0;
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char path[300], target[64];
		ssize_t t;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		t = readlink(path, target, sizeof(target) - 1);
		target[t < 0 ? 0 : t] = 0;
		if (!strcmp(target, "anon_inode:[io_uring]") ||
		    !strcmp(target, "anon_inode:[eventfd]"))
			(*rings)++;
		else
			n++;
	}
	closedir(d);
	return n;
}

void world_fd_list(char *buf, size_t len)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	size_t n = 0;

	buf[0] = 0;
	if (!d)
		return;
	while ((e = readdir(d)) && n + 1 < len) {
		char path[300], target[256];
		ssize_t t;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		t = readlink(path, target, sizeof(target) - 1);
		target[t < 0 ? 0 : t] = 0;
		n += (size_t)snprintf(buf + n, len - n, " %s=%s", e->d_name,
				      target);
		if (n >= len)
			n = len - 1;
	}
	closedir(d);
}

/* Threads of the process, io_uring's workers (iou-wrk-*, which exit on
 * their own some time after their ring) excepted. */
unsigned world_thread_count(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	unsigned n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char path[300], comm[32] = "";
		int fd;
		ssize_t r;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
			 e->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue; /* gone meanwhile */
		r = read(fd, comm, sizeof(comm) - 1);
		close(fd);
		comm[r > 0 ? r : 0] = 0;
		if (strncmp(comm, "iou-", 4) != 0)
			n++;
	}
	closedir(d);
	return n;
}
