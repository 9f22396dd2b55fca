/*
 * A file system that answers a read or write with EAGAIN, on faultfs (see
 * fault-fuse-read.c): kernel AIO completes the request with res -EAGAIN,
 * whether the file is read through the page cache, with direct_io or
 * O_DIRECT.  The request must complete, with that result, on every
 * engine, and io_destroy must not wait for it.
 *
 * The scenarios that go through the kernel's page cache or a synchronous
 * write come first: a request that never completes fails the test, and
 * the ones after it are not run.
 *
 * On the uring engine a direct_io, O_DIRECT or O_DSYNC request answered
 * with EAGAIN never completes: FUSE files can be polled, so io_uring
 * polls and tries again, where kernel AIO fails it (uaio(7)); so on auto,
 * which runs O_DIRECT on kernel AIO and the others on io_uring.  There
 * io_destroy must still end, cancelling it after 5 s without progress.
 */
#include "faults.h"

#define K4 4096

static const struct t_scenario scenarios[] = {
    {"buffered: EAGAIN on a read",
     "data",
     0,
     false,
     {"read error 8192 12288 11"},
     {{'r', 8192, K4}, {'r', 0, K4}}},
    {"buffered: EAGAIN on a write",
     "data",
     0,
     false,
     {"write error 8192 12288 11"},
     {{'w', 8192, K4}, {'w', 0, K4}}},
    {"direct_io: EAGAIN on a write",
     "direct",
     0,
     false,
     {"write error 8192 12288 11"},
     {{'w', 8192, K4}, {'w', 0, K4}},
     "uring auto",
     true},
    {"direct_io: EAGAIN on a read",
     "direct",
     0,
     false,
     {"read error 8192 12288 11"},
     {{'r', 8192, K4}, {'r', 0, K4}},
     "uring auto",
     true},
    {"O_DIRECT: EAGAIN on a read",
     "direct",
     O_DIRECT,
     false,
     {"read error 8192 12288 11"},
     {{'r', 8192, K4}, {'r', 0, K4}},
     "uring",
     true},
    {"O_DIRECT: EAGAIN on a write",
     "direct",
     O_DIRECT,
     false,
     {"write error 8192 12288 11"},
     {{'w', 8192, K4}, {'w', 0, K4}},
     "uring",
     true},
    {"O_DSYNC: EAGAIN on a write",
     "data",
     O_DSYNC,
     false,
     {"write error 8192 12288 11"},
     {{'w', 8192, K4}, {'w', 0, K4}},
     "uring auto",
     true},
};

/* A request io_uring retries for ever does not keep io_destroy waiting. */
static void destroy_ends(struct t_fuse *f)
{
	unsigned char *buf = t_aligned(4096, K4);
	struct iocb cb, *p = &cb;
	io_context_t ctx = 0;
	double t0;
	int fd;

	t_fuse_cmd(f, "reset");
	t_fuse_cmd(f, "read error 8192 12288 11");
	fd = t_fuse_open(f, "direct", O_RDWR);
	T_EQ(io_setup(4, &ctx), 0);
	io_prep_pread(&cb, fd, buf, K4, 8192);
	T_EQ(io_submit(ctx, 1, &p), 1);
	t0 = t_now_ms();
	T_EQ(io_destroy(ctx), 0);
	F_CHECK(t_now_ms() - t0 < 10000,
		"io_destroy took %.0f ms with a request io_uring retries",
		t_now_ms() - t0);
	fprintf(stderr, "io_destroy of a request retried for ever: %.0f ms\n",
		t_now_ms() - t0);
	close(fd);
	free(buf);
	t_fuse_cmd(f, "reset");
}

int main(void)
{
	struct t_aio kernel, lib;
	struct t_res before;
	struct t_fuse f;

	t_private_mounts();
	t_watchdog(45);
	t_fuse_start(&f);
	t_fuse_timeout_ms = 5000;
	T_EQ(t_aio_setup(&kernel, true, 64), 0);
	before = t_res_baseline();
	T_EQ(t_aio_setup(&lib, false, 64), 0);
	t_fuse_compare(&f, &kernel, &lib, scenarios,
		       (int)(sizeof(scenarios) / sizeof(scenarios[0])));
	t_context_works(&lib);
	if (!strcmp(t_engine(), "uring") || !strcmp(t_engine(), "auto"))
		destroy_ends(&f);
	T_EQ(t_aio_destroy(&lib), 0);
	t_res_check(before, "after io_destroy");
	T_EQ(t_aio_destroy(&kernel), 0);
	t_fuse_stop(&f);
	return t_finish();
}
