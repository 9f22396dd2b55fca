/*
 * kaio-reaper.c - the threads engine's O_DIRECT on kernel AIO (auto).
 *
 * A context of auto on the threads engine (io_uring refused) hands its
 * O_DIRECT reads and writes on files to the kernel's AIO, as the uring
 * engine does: no worker sits blocked on the disk, and the request reaches
 * the device inside io_submit.  The engine has no loop of its own to watch
 * an eventfd, so one thread of the library waits in io_getevents for every
 * context of the process; a context's destroy waits for its requests as
 * the kernel would.
 *
 * The kernel context is opened at the first O_DIRECT request; if the
 * kernel refuses it (seccomp, fs.aio-max-nr used up), or its ring is
 * full, the requests go to the workers instead.  A forked child has
 * neither the kernel context nor the thread: it opens its own when it
 * needs one.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "kaio.h"
#include "sys.h"

static struct {
	pthread_mutex_t lock;
	int state; /* 0 untried, 1 ready, -errno refused */
	struct kaio k;
	kaio_done_fn *done;
	pthread_t tid;
} rp = {.lock = PTHREAD_MUTEX_INITIALIZER};

static pthread_once_t rp_once = PTHREAD_ONCE_INIT;

static void *reaper_main(void *arg)
{
	struct io_event ev[KAIO_BATCH];

	(void)arg;
	for (;;) {
		long n = sys_io_getevents(rp.k.ctx, 1, KAIO_BATCH, ev, NULL);

		if (n == -EINTR)
			continue;
		if (n < 0) {
			/* Cannot happen to a context nobody destroys. */
			uaio__debug("kernel AIO reaper: io_getevents: %s",
				    strerror((int)-n));
			return NULL;
		}
		/* Acquire: pairs with kaio_submit() (see there). */
		atomic_fetch_sub_explicit(&rp.k.inflight, n,
					  memory_order_acquire);
		for (long i = 0; i < n; i++) {
			struct emu_req *req = emu_untag((uint64_t)ev[i].data);

			if (req) /* cannot fail: it holds its slot */
				rp.done(req, (long)ev[i].res);
		}
	}
}

static void forget(void)
{
	/* The kernel context and the thread stayed with the parent. */
	pthread_mutex_init(&rp.lock, NULL);
	rp.state = 0;
	memset(&rp.k, 0, sizeof(rp.k));
}

static void at_fork(void)
{
	uaio__atfork(NULL, NULL, forget);
}

static bool reaper_ready(kaio_done_fn *done)
{
	int state = __atomic_load_n(&rp.state, __ATOMIC_ACQUIRE);

	if (likely(state))
		return state == 1;
	pthread_once(&rp_once, at_fork);
	pthread_mutex_lock(&rp.lock);
	state = rp.state;
	if (!state) {
		rp.done = done;
		state = kaio_open(&rp.k, KAIO_EVENTS, false);
		if (!state && uaio__spawn(&rp.tid, reaper_main, NULL)) {
			sys_io_destroy(rp.k.ctx);
			state = -EAGAIN;
		}
		if (state)
			uaio__debug("auto: no kernel AIO for O_DIRECT (%s): "
				    "the threads run it",
				    strerror(-state));
		else
			state = 1;
		__atomic_store_n(&rp.state, state, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&rp.lock);
	return state == 1;
}

int kaio_reaper_submit(struct emu_req **reqs, int n, kaio_done_fn *done)
{
	int took;

	if (!reaper_ready(done))
		return 0;
	took = kaio_submit(&rp.k, reqs, n);
	return took < 0 ? 0 : took;
}
