/*
 * Signals during a wait: io_getevents with no event returns -EINTR even when
 * the handler was installed with SA_RESTART (the kernel returns -EINTR, not
 * a restartable code).  io_pgetevents applies its mask atomically for the
 * wait only: a blocked signal stays pending and the wait goes on, an
 * unblocked one interrupts it.
 */
#include "behaviour.h"

#include <signal.h>

static atomic_int handled;

static void on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&handled, 1);
}

struct kick {
	pthread_t target;
	long after_ms;
	bool repeat;
	atomic_bool done;
};

static void *kicker(void *arg)
{
	struct kick *k = arg;

	t_sleep_ms(k->after_ms);
	T_EQ(pthread_kill(k->target, SIGUSR1), 0);
	/*
	 * A loaded machine may let the first signal land before the target
	 * blocks: waits without a timeout get it again until they return.
	 */
	while (k->repeat && !atomic_load(&k->done)) {
		t_sleep_ms(500);
		if (!atomic_load(&k->done))
			T_EQ(pthread_kill(k->target, SIGUSR1), 0);
	}
	return NULL;
}

/* Send SIGUSR1 to the calling thread after ms, from another thread. */
static pthread_t kick_later(struct kick *k, long ms, bool repeat)
{
	pthread_t t;

	k->target = pthread_self();
	k->after_ms = ms;
	k->repeat = repeat;
	atomic_store(&k->done, false);
	T_EQ(pthread_create(&t, NULL, kicker, k), 0);
	return t;
}

static void kick_join(struct kick *k, pthread_t t)
{
	atomic_store(&k->done, true);
	T_EQ(pthread_join(t, NULL), 0);
}

static bool usr1_pending(void)
{
	sigset_t set;
	T_EQ(sigpending(&set), 0);
	return sigismember(&set, SIGUSR1);
}

/* A resent signal may be left pending once the wait it was for is over. */
static void drop_pending(void)
{
	sigset_t set;
	struct timespec zero = {0, 0};

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	while (sigtimedwait(&set, NULL, &zero) == SIGUSR1)
		;
}

static void set_blocked(bool block)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	T_EQ(pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL), 0);
}

int main(void)
{
	struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};
	io_context_t ctx = t_setup(16);
	sigset_t blocks_usr1, empty;
	struct io_event ev[2];
	struct timespec ts;
	struct kick k;
	pthread_t t;
	double t0;
	int h;

	sigemptyset(&sa.sa_mask);
	T_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
	sigemptyset(&empty);
	sigemptyset(&blocks_usr1);
	sigaddset(&blocks_usr1, SIGUSR1);

	/* io_getevents, NULL timeout: -EINTR despite SA_RESTART. */
	h = atomic_load(&handled);
	t = kick_later(&k, 100, true);
	T_EQ(io_getevents(ctx, 1, 2, ev, NULL), -EINTR);
	T_ASSERT(atomic_load(&handled) > h);
	kick_join(&k, t);

	/* With a timeout: interrupted early, not after the full timeout. */
	h = atomic_load(&handled);
	t0 = t_now_ms();
	t = kick_later(&k, 100, true);
	ts = t_ts_ms(5000);
	T_EQ(io_getevents(ctx, 1, 2, ev, &ts), -EINTR);
	T_ASSERT(t_now_ms() - t0 < 4000);
	T_ASSERT(atomic_load(&handled) > h);
	kick_join(&k, t);

	/*
	 * io_pgetevents whose mask blocks SIGUSR1 (unblocked outside): the
	 * signal waits, the call times out normally, and the handler runs
	 * once the old mask is back.
	 */
	h = atomic_load(&handled);
	t = kick_later(&k, 50, false);
	ts = t_ts_ms(300);
	t0 = t_now_ms();
	T_EQ(io_pgetevents(ctx, 1, 2, ev, &ts, &blocks_usr1), 0);
	T_ASSERT(t_now_ms() - t0 >= 299);
	kick_join(&k, t);
	T_EQ(atomic_load(&handled), h + 1);

	/* Blocked outside and inside: still pending after the call. */
	set_blocked(true);
	h = atomic_load(&handled);
	t = kick_later(&k, 50, false);
	ts = t_ts_ms(300);
	t0 = t_now_ms();
	T_EQ(io_pgetevents(ctx, 1, 2, ev, &ts, &blocks_usr1), 0);
	T_ASSERT(t_now_ms() - t0 >= 299);
	kick_join(&k, t);
	T_EQ(atomic_load(&handled), h);
	T_ASSERT(usr1_pending());

	/*
	 * Blocked outside, unblocked by the call's mask (the ppoll pattern):
	 * a pending signal interrupts at once and its handler has run when
	 * the call returns.
	 */
	ts = t_ts_ms(5000);
	t0 = t_now_ms();
	T_EQ(io_pgetevents(ctx, 1, 2, ev, &ts, &empty), -EINTR);
	T_ASSERT(t_now_ms() - t0 < 4000);
	T_EQ(atomic_load(&handled), h + 1);
	T_ASSERT(!usr1_pending());

	/* ... and a signal that comes during the wait interrupts it. */
	h = atomic_load(&handled);
	t0 = t_now_ms();
	t = kick_later(&k, 100, true);
	T_EQ(io_pgetevents(ctx, 1, 2, ev, NULL, &empty), -EINTR);
	T_ASSERT(t_now_ms() - t0 >= 99);
	T_ASSERT(atomic_load(&handled) > h);
	kick_join(&k, t);
	drop_pending();

	/* NULL mask: the thread's own mask (blocked) applies. */
	h = atomic_load(&handled);
	t = kick_later(&k, 50, false);
	ts = t_ts_ms(200);
	T_EQ(io_pgetevents(ctx, 1, 2, ev, &ts, NULL), 0);
	kick_join(&k, t);
	T_EQ(atomic_load(&handled), h);
	T_ASSERT(usr1_pending());
	set_blocked(false);
	T_EQ(atomic_load(&handled), h + 1);

	T_EQ(io_destroy(ctx), 0);
	return 0;
}
