/*
 * SIGXFSZ, which the kernel sends when a write starts at or past the file
 * size limit (RLIMIT_FSIZE) and fails with EFBIG: kernel AIO writes inside
 * io_submit, so the program gets the signal as io_submit returns; its
 * default action ends the process.  A write that only crosses the limit
 * is short and sends nothing.  For buffered, O_DIRECT, O_DSYNC and
 * RWF_DSYNC writes, on the kernel's AIO, then on the engine:
 *
 *  - with a handler: the event's res, and whether the handler ran by the
 *    time the event was reaped (or soon after), must be the same;
 *  - with the default action, in a child: the child must end the same way
 *    (killed by SIGXFSZ, or not).
 */
#include "faults.h"

#include <sys/resource.h>

#define L (1u << 20)
#define K4 4096

#ifndef RWF_DSYNC
#define RWF_DSYNC 0x02
#endif

struct mode {
	const char *name;
	int oflags, rw_flags;
	char op;
	long long off;
	size_t len;
};

static const struct mode modes[] = {
    {"buffered, past the limit", 0, 0, 'w', L, K4},
    {"buffered, across the limit", 0, 0, 'w', L - 100, K4},
    {"buffered PWRITEV, past the limit", 0, 0, 'W', L + K4, 2 * K4},
    {"O_DIRECT, past the limit", O_DIRECT, 0, 'w', L, K4},
    {"O_DIRECT, across the limit", O_DIRECT, 0, 'w', L - K4, 2 * K4},
    {"O_DIRECT PWRITEV, past the limit", O_DIRECT, 0, 'W', L, 2 * K4},
    {"O_DSYNC, past the limit", O_DSYNC, 0, 'w', L, K4},
    {"RWF_DSYNC, past the limit", 0, RWF_DSYNC, 'w', L, K4},
};

#define NMODES (int)(sizeof(modes) / sizeof(modes[0]))

static atomic_int caught;

static void on_xfsz(int sig)
{
	(void)sig;
	atomic_fetch_add(&caught, 1);
}

/* One write of mode m on a: its result, and whether SIGXFSZ came. */
static long write_once(struct t_aio *a, const struct mode *m, bool *signalled)
{
	unsigned char *buf = t_aligned(4096, m->len);
	int fd0 = t_scratch_file(0, 0);
	int fd = t_reopen(fd0, O_RDWR | O_CLOEXEC | m->oflags);
	struct iovec iov[2] = {{buf, m->len / 2},
			       {buf + m->len / 2, m->len / 2}};
	struct iocb cb, *p = &cb;
	int before = atomic_load(&caught);
	long res;

	close(fd0);
	memset(buf, 0x77, m->len);
	if (m->op == 'W')
		io_prep_pwritev(&cb, fd, iov, 2, m->off);
	else
		io_prep_pwrite(&cb, fd, buf, m->len, m->off);
	cb.aio_rw_flags = m->rw_flags;
	cb.data = &cb;
	t_set_fsize(L);
	t_run(a, &p, 1, false, &res, 5000);
	t_set_fsize(RLIM_INFINITY);
	/* A signal sent from elsewhere than the caller's thread comes late. */
	for (double end = t_now_ms() + 200; t_now_ms() < end;) {
		if (atomic_load(&caught) != before)
			break;
		t_sleep_ms(5);
	}
	*signalled = atomic_load(&caught) != before;
	close(fd);
	free(buf);
	return res;
}

/*
 * In a child with SIGXFSZ's default action, a write of mode m on a new
 * context (raw: the kernel's AIO): 0 if it lived on, else the signal
 * that ended it.
 */
static int child_fate(bool raw, const struct mode *m)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		T_FAIL("fork: %s", strerror(errno));
	if (pid == 0) {
		struct rlimit nocore = {0, 0};
		struct t_aio a;
		bool sig;

		setrlimit(RLIMIT_CORE, &nocore);
		signal(SIGXFSZ, SIG_DFL);
		if (t_aio_setup(&a, raw, 8))
			_exit(3);
		write_once(&a, m, &sig);
		_exit(0);
	}
	if (!t_wait_pid(pid, 10000, &status)) {
		kill(pid, SIGKILL);
		t_wait_pid(pid, 2000, &status);
		T_FAIL("%s: the child did not end", m->name);
	}
	if (WIFSIGNALED(status))
		return WTERMSIG(status);
	if (WEXITSTATUS(status) != 0)
		T_FAIL("%s: the child exited with %d", m->name,
		       WEXITSTATUS(status));
	return 0;
}

int main(void)
{
	struct sigaction sa = {.sa_handler = on_xfsz};
	struct t_aio kernel, lib;
	struct t_res before;

	sigemptyset(&sa.sa_mask);
	T_EQ(sigaction(SIGXFSZ, &sa, NULL), 0);
	t_watchdog(45);
	T_EQ(t_aio_setup(&kernel, true, 16), 0);
	before = t_res_baseline();
	T_EQ(t_aio_setup(&lib, false, 16), 0);
	for (int i = 0; i < NMODES; i++) {
		bool ks, ls;
		long kres = write_once(&kernel, &modes[i], &ks);
		long lres = write_once(&lib, &modes[i], &ls);

		F_CHECK(lres == kres, "%s: res %ld, with kernel AIO %ld",
			modes[i].name, lres, kres);
		F_CHECK(ls == ks, "%s: res %ld; SIGXFSZ %s, with kernel AIO %s",
			modes[i].name, lres, ls ? "caught" : "never came",
			ks ? "caught" : "none");
		if (lres == kres && ls == ks)
			printf("%-44s ok: res %ld, %s\n", modes[i].name, lres,
			       ls ? "SIGXFSZ" : "no signal");
	}
	t_context_works(&lib);
	T_EQ(t_aio_destroy(&lib), 0);
	t_res_check(before, "after io_destroy");
	T_EQ(t_aio_destroy(&kernel), 0);

	for (int i = 0; i < NMODES; i++) {
		int k = child_fate(true, &modes[i]);
		int l = child_fate(false, &modes[i]);

		F_CHECK(l == k,
			"%s, default action: the child %s, with kernel AIO %s",
			modes[i].name, l ? strsignal(l) : "lived on",
			k ? strsignal(k) : "lived on");
		if (l == k)
			printf("%-44s ok: %s\n", modes[i].name,
			       l ? "killed" : "lives on");
	}
	return t_finish();
}
