/*
 * A storm of signals while requests run: a thread sends SIGUSR1, whose
 * handler counts and was installed without SA_RESTART, to every thread of
 * the process (the library's included) as fast as it can, while each
 * round runs buffered and O_DIRECT writes, FSYNCs, then reads of them
 * (plain and vectored), polls of pipes that become readable, and reads of
 * pipes whose data arrives after the read is submitted.
 *
 * Every request must complete exactly once with the result it would have
 * without signals, and the data read must be the data written; a wait
 * that the storm interrupts (io_getevents returns -EINTR) is retried; no
 * io_submit may fail.
 *
 * One exception, the kernel's: kernel AIO reads a pipe inside io_submit,
 * and a signal that comes while it waits there for data ends the read
 * with -EINTR in the event (fs/aio.c turns -ERESTARTSYS into -EINTR).  On
 * the kernel engine and the reference, such a read may end so; its data
 * then stays in the pipe, and is checked there.  The emulated engines
 * never wait in io_submit (uaio(7)), so theirs must all get the data.
 */
#include "faults.h"

#include <poll.h>
#include <signal.h>

#define NFILE 16 /* writes, then reads, per file and round */
#define NPIPES 8 /* pipe reads, and polls, per round */
#define MSG 64
#define BLK 4096
#define FILE_BLOCKS 256 /* the files' size, in blocks */
#define RUN_MS 4000
/*
 * How long a batch may take to complete.  The point is that it completes:
 * O_DIRECT on this kind of virtual disk, under a parallel suite and a
 * sanitizer, has stalled for more than 10 s (seen with the system libaio).
 */
#define REAP_MS 30000
#define MAX_ROUNDS 400

/* Every request of a round, indexed by data - 1. */
#define NSLOTS (4 * NFILE + 6 + 2 * NPIPES)

struct slot {
	struct iocb cb;
	long res;
};

static struct slot slots[NSLOTS];
static int nslots;

static atomic_long handled, sent;
static atomic_bool storm_stop;
static io_context_t ctx;
static long getevents_eintr;

static void on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&handled, 1);
}

/* Every thread of the process, again and again, until told to stop. */
static void *storm_main(void *arg)
{
	pid_t pid = getpid();

	(void)arg;
	while (!atomic_load(&storm_stop)) {
		DIR *d = opendir("/proc/self/task");
		struct dirent *de;

		if (!d)
			continue; /* EMFILE for a moment, or EINTR */
		while ((de = readdir(d)) && !atomic_load(&storm_stop)) {
			if (de->d_name[0] == '.')
				continue;
			if (syscall(SYS_tgkill, pid, atoi(de->d_name),
				    SIGUSR1) == 0)
				atomic_fetch_add(&sent, 1);
		}
		closedir(d);
	}
	return NULL;
}

static struct iocb *slot_add(void)
{
	struct slot *s;

	T_ASSERT(nslots < NSLOTS);
	s = &slots[nslots];
	s->res = T_NO_RES;
	return &s->cb;
}

static void slot_done_prep(struct iocb *cb)
{
	cb->data = (void *)(uintptr_t)(nslots + 1);
	nslots++;
}

/* Submit all of cbs; io_submit never fails here, signals or not. */
static void submit_all(struct iocb **cbs, int n)
{
	while (n > 0) {
		int r = io_submit(ctx, n, cbs);

		if (r <= 0)
			T_FAIL("io_submit of %d during the storm: %d (%s)", n,
			       r, r < 0 ? strerror(-r) : "none queued");
		cbs += r;
		n -= r;
	}
}

/* Reap until the n slots from first have completed, within ms. */
static void reap_slots(int first, int n, long ms)
{
	double end = t_now_ms() + ms;

	for (;;) {
		struct io_event ev[32];
		struct timespec ts;
		int missing = 0, r;

		for (int i = first; i < first + n; i++)
			missing += slots[i].res == T_NO_RES;
		if (!missing)
			return;
		if (t_now_ms() > end)
			T_FAIL("%d request(s) did not complete within %ld ms",
			       missing, ms);
		ts = t_ts_ms(200);
		r = io_getevents(ctx, 1, 32, ev, &ts);
		if (r == -EINTR) {
			getevents_eintr++;
			continue;
		}
		if (r < 0)
			T_FAIL("io_getevents: %s", strerror(-r));
		for (int e = 0; e < r; e++) {
			uintptr_t k = (uintptr_t)ev[e].data;
			struct slot *s = &slots[k - 1];

			if (k < 1 || k > (uintptr_t)nslots ||
			    (void *)ev[e].obj != (void *)&s->cb)
				T_FAIL("an event for no request in flight "
				       "(data %#lx)",
				       (unsigned long)k);
			if (s->res != T_NO_RES)
				T_FAIL("request %lu completed twice (res %ld, "
				       "then %ld)",
				       (unsigned long)k - 1, s->res,
				       (long)ev[e].res);
			T_EQ((long)ev[e].res2, 0);
			s->res = (long)ev[e].res;
		}
	}
}

/* ---- the pipes: a submitting thread and a writing thread ---- */

struct pipes {
	int rd[NPIPES][2];   /* read by PREAD */
	int poll[NPIPES][2]; /* watched by POLL */
	int first;	     /* the round's first pipe slot */
	int round;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int go;		  /* rounds started */
	int polls_queued; /* rounds whose polls are submitted */
	int reads_queued; /* rounds whose reads are submitted */
	bool stop;
};

static struct pipes P = {.lock = PTHREAD_MUTEX_INITIALIZER,
			 .cond = PTHREAD_COND_INITIALIZER};

/* The writer's progress, for a failure to show: round * 100 + pipe. */
static atomic_int written;

static unsigned char msg_byte(int round, int pipe, int i)
{
	return (unsigned char)(round * 11 + pipe * 37 + i);
}

static void wait_for(int *counter, int value)
{
	pthread_mutex_lock(&P.lock);
	while (*counter < value && !P.stop)
		pthread_cond_wait(&P.cond, &P.lock);
	pthread_mutex_unlock(&P.lock);
}

static void bump(int *counter)
{
	pthread_mutex_lock(&P.lock);
	(*counter)++;
	pthread_cond_broadcast(&P.cond);
	pthread_mutex_unlock(&P.lock);
}

/* Polls first, then each read alone: kernel AIO blocks on an empty pipe. */
static void *pipe_submitter(void *arg)
{
	(void)arg;
	for (int round = 1;; round++) {
		struct iocb *polls[NPIPES];

		wait_for(&P.go, round);
		if (P.stop)
			break;
		for (int i = 0; i < NPIPES; i++)
			polls[i] = &slots[P.first + NPIPES + i].cb;
		submit_all(polls, NPIPES);
		bump(&P.polls_queued);
		for (int i = 0; i < NPIPES; i++) {
			struct iocb *cb = &slots[P.first + i].cb;
			submit_all(&cb, 1);
		}
		bump(&P.reads_queued);
	}
	return NULL;
}

static void write_full(int fd, const unsigned char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			T_FAIL("write to a pipe: %s", strerror(errno));
		buf += n;
		len -= (size_t)n;
	}
}

/*
 * Sleep ms, whatever the storm: a relative sleep restarted after each
 * signal can take seconds to end when signals come every few
 * microseconds; an absolute deadline ends on time.
 */
static void pause_ms(long ms)
{
	struct timespec end;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_nsec += ms * 1000000L;
	end.tv_sec += end.tv_nsec / 1000000000L;
	end.tv_nsec %= 1000000000L;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &end, NULL))
		;
}

/* Once the polls wait, make their pipes readable; then feed the reads,
 * one message each, a little apart so that most find their pipe empty. */
static void *pipe_writer(void *arg)
{
	unsigned char buf[MSG];

	(void)arg;
	for (int round = 1;; round++) {
		wait_for(&P.polls_queued, round);
		if (P.stop)
			break;
		memset(buf, 0xcc, MSG);
		for (int i = 0; i < NPIPES; i++)
			write_full(P.poll[i][1], buf, MSG);
		for (int i = 0; i < NPIPES; i++) {
			pause_ms(1);
			for (int j = 0; j < MSG; j++)
				buf[j] = msg_byte(P.round, i, j);
			write_full(P.rd[i][1], buf, MSG);
			atomic_store(&written, P.round * 100 + i);
		}
	}
	return NULL;
}

/*
 * Read exactly len bytes of a pipe whose data is on its way.  The writer
 * shares two CPUs with the storm (and, under CTest -j, with another): it
 * may take seconds, not forever.
 */
static void read_pipe(int fd, unsigned char *buf, size_t len)
{
	double end = t_now_ms() + 20000;

	while (len) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (t_now_ms() > end)
			T_FAIL("a pipe stayed empty for 20 s (the writer is "
			       "past round %d pipe %d)",
			       atomic_load(&written) / 100,
			       atomic_load(&written) % 100);
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = read(fd, buf, len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			T_FAIL("read of a pipe: %s", strerror(errno));
		buf += n;
		len -= (size_t)n;
	}
}

/* ---- one round ---- */

struct files {
	int buffered, direct;
	unsigned char *wbuf[2][NFILE + 1], *rbuf[2][NFILE + 1];
	unsigned char pbuf[NPIPES][MSG];
};

static unsigned char file_byte(int round, int req, size_t i)
{
	return (unsigned char)(round * 13 + req * 7 + i);
}

static long long file_off(int round, int req)
{
	return (long long)((round * (NFILE + 1) + req) % FILE_BLOCKS) * BLK;
}

static int pipe_eintr;

static void round_run(struct files *F, int round)
{
	bool may_eintr = !strcmp(t_engine(), "kernel") || t_is_ref();
	int fds[2] = {F->buffered, F->direct};
	struct iocb *batch[NSLOTS];
	int nb = 0, first_w, first_r;

	nslots = 0;
	/* Writes: NFILE plain and one vectored per file, and an FSYNC. */
	first_w = nslots;
	for (int f = 0; f < 2; f++) {
		for (int i = 0; i <= NFILE; i++) {
			struct iocb *cb = slot_add();
			long long off = file_off(round, i);

			for (size_t j = 0; j < BLK; j++)
				F->wbuf[f][i][j] = file_byte(round, i + f, j);
			if (i < NFILE) {
				io_prep_pwrite(cb, fds[f], F->wbuf[f][i], BLK,
					       off);
			} else {
				static struct iovec iov[2][2];

				iov[f][0] = (struct iovec){F->wbuf[f][i], 1024};
				iov[f][1] = (struct iovec){F->wbuf[f][i] + 1024,
							   BLK - 1024};
				io_prep_pwritev(cb, fds[f], iov[f], 2, off);
			}
			slot_done_prep(cb);
			batch[nb++] = cb;
		}
		struct iocb *cb = slot_add();

		io_prep_fsync(cb, fds[f]);
		slot_done_prep(cb);
		batch[nb++] = cb;
	}

	/* The pipes' reads and polls, for the other thread to submit. */
	P.first = nslots;
	P.round = round;
	for (int i = 0; i < NPIPES; i++) {
		struct iocb *cb = slot_add();

		memset(F->pbuf[i], 0, MSG);
		io_prep_pread(cb, P.rd[i][0], F->pbuf[i], MSG, 0);
		slot_done_prep(cb);
	}
	for (int i = 0; i < NPIPES; i++) {
		struct iocb *cb = slot_add();

		io_prep_poll(cb, P.poll[i][0], POLLIN);
		slot_done_prep(cb);
	}
	bump(&P.go);

	submit_all(batch, nb);
	reap_slots(first_w, nb, REAP_MS);
	for (int i = first_w; i < first_w + nb; i++) {
		bool sync = slots[i].cb.aio_lio_opcode == IO_CMD_FSYNC;

		F_CHECK(slots[i].res == (sync ? 0 : BLK),
			"round %d: write %d: res %ld", round, i - first_w,
			slots[i].res);
	}

	/* Reads of what was written: plain and one vectored per file. */
	first_r = nslots;
	nb = 0;
	for (int f = 0; f < 2; f++) {
		for (int i = 0; i <= NFILE; i++) {
			struct iocb *cb = slot_add();
			long long off = file_off(round, i);

			memset(F->rbuf[f][i], 0, BLK);
			if (i < NFILE) {
				io_prep_pread(cb, fds[f], F->rbuf[f][i], BLK,
					      off);
			} else {
				static struct iovec iov[2][2];

				iov[f][0] = (struct iovec){F->rbuf[f][i], 2048};
				iov[f][1] = (struct iovec){F->rbuf[f][i] + 2048,
							   BLK - 2048};
				io_prep_preadv(cb, fds[f], iov[f], 2, off);
			}
			slot_done_prep(cb);
			batch[nb++] = cb;
		}
	}
	submit_all(batch, nb);
	reap_slots(first_r, nb, REAP_MS);
	for (int f = 0; f < 2; f++) {
		for (int i = 0; i <= NFILE; i++) {
			long res = slots[first_r + f * (NFILE + 1) + i].res;

			F_CHECK(res == BLK,
				"round %d: read %d of file %d: res %ld", round,
				i, f, res);
			F_CHECK(res != BLK ||
				    !memcmp(F->rbuf[f][i], F->wbuf[f][i], BLK),
				"round %d: read %d of file %d: other data than "
				"written",
				round, i, f);
		}
	}

	/* The pipes. */
	wait_for(&P.reads_queued, round);
	reap_slots(P.first, 2 * NPIPES, REAP_MS);
	for (int i = 0; i < NPIPES; i++) {
		long res = slots[P.first + i].res;
		long pres = slots[P.first + NPIPES + i].res;
		unsigned char drain[MSG];

		if (res == -EINTR && may_eintr) {
			/* Interrupted in io_submit: the message is left. */
			read_pipe(P.rd[i][0], F->pbuf[i], MSG);
			res = MSG;
			pipe_eintr++;
		}
		F_CHECK(res == MSG, "round %d: read of pipe %d: res %ld", round,
			i, res);
		for (int j = 0; j < MSG && res == MSG; j++)
			if (F->pbuf[i][j] != msg_byte(round, i, j)) {
				F_CHECK(false,
					"round %d: read of pipe %d: wrong data",
					round, i);
				break;
			}
		F_CHECK(pres == (POLLIN | POLLRDNORM),
			"round %d: poll of pipe %d: res %#lx, expected %#x",
			round, i, pres, POLLIN | POLLRDNORM);
		read_pipe(P.poll[i][0], drain, MSG);
	}
	t_expect_quiet(&(struct t_aio){false, ctx}, 5);
}

int main(void)
{
	struct sigaction sa = {.sa_handler = on_usr1}; /* no SA_RESTART */
	pthread_t storm, submitter, writer;
	struct t_res before;
	struct files F;
	int rounds = 0;
	double t0;

	sigemptyset(&sa.sa_mask);
	T_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
	t_watchdog(100);
	before = t_res_baseline();

	F.buffered = t_scratch_file(FILE_BLOCKS * BLK, 0);
	int fd = t_scratch_file(FILE_BLOCKS * BLK, 0);
	F.direct = t_reopen(fd, O_RDWR | O_DIRECT | O_CLOEXEC);
	close(fd);
	for (int f = 0; f < 2; f++)
		for (int i = 0; i <= NFILE; i++) {
			F.wbuf[f][i] = t_aligned(BLK, BLK);
			F.rbuf[f][i] = t_aligned(BLK, BLK);
		}
	for (int i = 0; i < NPIPES; i++) {
		t_pipe(P.rd[i]);
		t_pipe(P.poll[i]);
	}
	ctx = t_setup(256);

	T_EQ(pthread_create(&submitter, NULL, pipe_submitter, NULL), 0);
	T_EQ(pthread_create(&writer, NULL, pipe_writer, NULL), 0);
	T_EQ(pthread_create(&storm, NULL, storm_main, NULL), 0);
	t0 = t_now_ms();
	while (rounds < MAX_ROUNDS && (rounds < 3 || t_now_ms() - t0 < RUN_MS))
		round_run(&F, ++rounds);
	atomic_store(&storm_stop, true);
	T_EQ(pthread_join(storm, NULL), 0);
	pthread_mutex_lock(&P.lock);
	P.stop = true;
	pthread_cond_broadcast(&P.cond);
	pthread_mutex_unlock(&P.lock);
	T_EQ(pthread_join(submitter, NULL), 0);
	T_EQ(pthread_join(writer, NULL), 0);

	printf("%d rounds in %.0f ms; %ld signals sent, %ld handled; "
	       "io_getevents interrupted %ld times; %d pipe reads "
	       "interrupted in io_submit\n",
	       rounds, t_now_ms() - t0, atomic_load(&sent),
	       atomic_load(&handled), getevents_eintr, pipe_eintr);
	F_CHECK(atomic_load(&handled) > 0, "no signal was handled");

	struct t_aio lib = {false, ctx};
	t_context_works(&lib);
	T_EQ(io_destroy(ctx), 0);
	close(F.buffered);
	close(F.direct);
	for (int i = 0; i < NPIPES; i++) {
		close(P.rd[i][0]);
		close(P.rd[i][1]);
		close(P.poll[i][0]);
		close(P.poll[i][1]);
	}
	for (int f = 0; f < 2; f++)
		for (int i = 0; i <= NFILE; i++) {
			free(F.wbuf[f][i]);
			free(F.rbuf[f][i]);
		}
	t_res_check(before, "after io_destroy");
	return t_finish();
}
