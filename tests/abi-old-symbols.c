/*
 * The versioned entry points a drop-in libaio.so.1 must provide, looked up
 * with dlvsym() as the dynamic loader would bind them, and the behaviour of
 * the LIBAIO_0.1 forms:
 *   io_getevents@LIBAIO_0.1(ctx, nr, events, timeout) = min_nr 1;
 *   io_cancel@LIBAIO_0.1(ctx, iocb) cancels into a scratch event;
 *   io_queue_wait@LIBAIO_0.1 and @@LIBAIO_0.4 = io_getevents(ctx, 0, 0,
 *   NULL, timeout): never waits;
 *   io_queue_run (LIBAIO_0.1) calls each event's data as io_callback_t.
 *
 * Also built against the system libaio and run on uaio's library through
 * LD_LIBRARY_PATH (the ".dropin" tests): a program linked against the real
 * libaio must load and behave unchanged.  UAIO_TEST_EXPECT_UAIO=1 makes sure
 * the library that was loaded is uaio's.
 */
#include "validation.h"

#include <dlfcn.h>

typedef int (*getevents01_fn)(io_context_t, long, struct io_event *,
			      struct timespec *);
typedef int (*cancel01_fn)(io_context_t, struct iocb *);
typedef int (*queue_wait_fn)(io_context_t, struct timespec *);

static const struct {
	const char *name, *version;
} exports[] = {
    {"io_queue_init", "LIBAIO_0.1"},	{"io_queue_run", "LIBAIO_0.1"},
    {"io_queue_release", "LIBAIO_0.1"}, {"io_submit", "LIBAIO_0.1"},
    {"io_getevents", "LIBAIO_0.1"},	{"io_cancel", "LIBAIO_0.1"},
    {"io_queue_wait", "LIBAIO_0.1"},	{"io_setup", "LIBAIO_0.4"},
    {"io_destroy", "LIBAIO_0.4"},	{"io_getevents", "LIBAIO_0.4"},
    {"io_cancel", "LIBAIO_0.4"},	{"io_queue_wait", "LIBAIO_0.4"},
    {"io_pgetevents", "LIBAIO_0.5"},
};

static io_context_t cb_ctx;
static int cb_calls;
static long cb_res[4];
static struct iocb *cb_iocb[4];

static void callback(io_context_t ctx, struct iocb *iocb, long res, long res2)
{
	T_ASSERT(ctx == cb_ctx);
	T_EQ(res2, 0);
	T_ASSERT(cb_calls < 4);
	cb_iocb[cb_calls] = iocb;
	cb_res[cb_calls++] = res;
}

static void *lookup(const char *name, const char *version)
{
	void *p = dlvsym(RTLD_DEFAULT, name, version);
	if (!p)
		T_FAIL("%s@%s is not exported", name, version);
	return p;
}

int main(void)
{
	const char *expect = getenv("UAIO_TEST_EXPECT_UAIO");
	getevents01_fn getevents01;
	cancel01_fn cancel01;
	queue_wait_fn wait01, wait04;
	struct timespec zero = {0, 0}, ms100 = {0, 100 * 1000 * 1000};
	struct iocb cb[2], *cbs[2] = {&cb[0], &cb[1]};
	struct io_event ev[4];
	io_context_t ctx;
	int p[2];
	double t0;

	if (expect && *expect == '1' && !t_is_uaio())
		T_FAIL("the system libaio was loaded, not uaio's");

	for (size_t i = 0; i < sizeof(exports) / sizeof(exports[0]); i++)
		lookup(exports[i].name, exports[i].version);
	/* Unversioned lookups and link-time binding give the defaults. */
	T_ASSERT(dlsym(RTLD_DEFAULT, "io_getevents") ==
		 lookup("io_getevents", "LIBAIO_0.4"));
	T_ASSERT(dlsym(RTLD_DEFAULT, "io_cancel") ==
		 lookup("io_cancel", "LIBAIO_0.4"));
	T_ASSERT(dlsym(RTLD_DEFAULT, "io_queue_wait") ==
		 lookup("io_queue_wait", "LIBAIO_0.4"));
	T_ASSERT(dlsym(RTLD_DEFAULT, "io_submit") ==
		 lookup("io_submit", "LIBAIO_0.1"));
	T_ASSERT(dlsym(RTLD_DEFAULT, "io_pgetevents") ==
		 lookup("io_pgetevents", "LIBAIO_0.5"));
	T_ASSERT(dlsym(RTLD_DEFAULT, "io_getevents") == (void *)io_getevents);
	T_ASSERT(dlsym(RTLD_DEFAULT, "io_cancel") == (void *)io_cancel);

	getevents01 = (getevents01_fn)lookup("io_getevents", "LIBAIO_0.1");
	cancel01 = (cancel01_fn)lookup("io_cancel", "LIBAIO_0.1");
	wait01 = (queue_wait_fn)lookup("io_queue_wait", "LIBAIO_0.1");
	wait04 = (queue_wait_fn)lookup("io_queue_wait", "LIBAIO_0.4");

	T_ASSERT(pipe(p) == 0);
	ctx = t_setup(8);

	/* io_getevents@0.1 waits for one event: the timeout runs out. */
	io_prep_poll(&cb[0], p[0], POLLIN);
	V_RET(io_submit(ctx, 1, cbs), 1);
	t0 = t_now_ms();
	V_RET(getevents01(ctx, 4, ev, &ms100), 0);
	T_ASSERT(t_now_ms() - t0 >= 90);
	/* min_nr 1 > nr 0. */
	V_RET(getevents01(ctx, 0, ev, &ms100), -EINVAL);
	V_RET(getevents01(NULL, 4, ev, &zero), -EINVAL);

	/* io_queue_wait, both versions: never waits, consumes nothing. */
	t0 = t_now_ms();
	V_RET(wait01(ctx, NULL), 0);
	V_RET(wait01(ctx, &ms100), 0);
	V_RET(wait04(ctx, NULL), 0);
	V_RET(wait04(ctx, &ms100), 0);
	T_ASSERT(t_now_ms() - t0 < 90);
	V_RET(wait01(NULL, &zero), -EINVAL);
	V_RET(wait04(NULL, &zero), -EINVAL);

	/* io_cancel@0.1 on the pending poll. */
	V_RET(cancel01(ctx, &cb[0]), -EINPROGRESS);
	V_RET(cancel01(ctx, &cb[0]), -EINVAL);
	V_RET(cancel01(ctx, NULL), -EFAULT);
	V_RET(cancel01(NULL, &cb[0]), -EINVAL);
	V_RET(getevents01(ctx, 4, ev, NULL), 1);
	T_ASSERT(ev[0].obj == &cb[0]);
	T_EQ(ev[0].res, 0);

	/* io_queue_run: each event's data is the callback. */
	T_ASSERT(write(p[1], "x", 1) == 1);
	io_prep_poll(&cb[0], p[0], POLLIN);
	io_set_callback(&cb[0], callback);
	io_prep_poll(&cb[1], p[1], POLLOUT);
	io_set_callback(&cb[1], callback);
	V_RET(io_submit(ctx, 2, cbs), 2);
	cb_ctx = ctx;
	/* Collect both in the ring before running the queue. */
	for (int i = 0; i < 5000 && (t_tail(t_ring(ctx)) - t_head(t_ring(ctx)) +
				     t_ring(ctx)->nr) %
					    t_ring(ctx)->nr <
					2;
	     i++)
		usleep(1000);
	V_RET(io_queue_run(ctx), 0);
	T_EQ(cb_calls, 2);
	T_ASSERT((cb_iocb[0] == &cb[0] && cb_iocb[1] == &cb[1]) ||
		 (cb_iocb[0] == &cb[1] && cb_iocb[1] == &cb[0]));
	for (int i = 0; i < 2; i++)
		T_EQ(cb_res[i], cb_iocb[i] == &cb[0] ? POLLIN : POLLOUT);
	V_RET(io_queue_run(ctx), 0);
	T_EQ(cb_calls, 2);
	V_RET(io_queue_run(NULL), -EINVAL);

	V_RET(io_queue_release(ctx), 0);
	return 0;
}
