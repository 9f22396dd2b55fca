/*
 * Writes that a file system fails or cuts short, on faultfs (see
 * fault-fuse-read.c): EIO and other errors, short replies, and a file
 * that cannot grow past FAULTFS_CAP (the server writes what fits, then
 * says ENOSPC), through the page cache ("data", written through), with
 * FUSE's direct_io ("direct") and opened O_DIRECT.  Each scenario runs on
 * the kernel's AIO, then on the engine: the same results, request by
 * request, and the same file contents afterwards.
 *
 * The kernel's AIO is not synchronous I/O: on a direct_io file, FUSE runs
 * an AIO write as an asynchronous request, and reports a short reply from
 * the server as EIO (fuse_get_res_by_io()), where write(2) reports the
 * bytes written.  The emulated engines write synchronously (inside
 * io_submit or on a worker), so there a short reply gives the bytes
 * written, as write(2) does (uaio(7)).
 */
#include "faults.h"

#define K4 4096
#define K64 65536
#define CAP FAULTFS_CAP

static const struct t_scenario scenarios[] = {
    {"buffered: EIO",
     "data",
     0,
     false,
     {"write error 8192 12288 5"},
     {{'w', 0, 16384}, {'w', K64, K4}, {'w', 8192, K4}, {'w', K4, K4}}},
    {"buffered: other errors of the file system",
     "data",
     0,
     false,
     {"write error 0 4096 28", "write error 65536 69632 122",
      "write error 131072 135168 27", "write error 196608 200704 4"},
     {{'w', 0, K4}, {'w', K64, K4}, {'w', 131072, K4}, {'w', 196608, K4}}},
    {"buffered: short replies",
     "data",
     0,
     true,
     {"write short 10000 20000"},
     {{'w', 0, 16384}, {'w', K64, K4}, {'w', 12288, K4}, {'w', K4, K4}}},
    {"buffered: the file system fills up",
     "data",
     0,
     true,
     {NULL},
     {{'w', CAP - 8192, K4},
      {'w', CAP - 4000, 16384},
      {'w', CAP, K4},
      {'w', CAP - 100, 50},
      {'s', 0, 0}}},
    {"buffered: PWRITEV, EIO in the second half",
     "data",
     0,
     false,
     {"write error 24576 24577 5"},
     {{'W', 0, 32768}, {'W', 32768, 32768}}},
    {"direct_io: EIO",
     "direct",
     0,
     false,
     {"write error 8192 12288 5"},
     {{'w', 0, 16384}, {'w', K64, K4}, {'w', 8192, K4}, {'w', K4, K4}}},
    {"direct_io: other errors of the file system",
     "direct",
     0,
     false,
     {"write error 0 4096 28", "write error 65536 69632 122",
      "write error 131072 135168 27", "write error 196608 200704 4"},
     {{'w', 0, K4}, {'w', K64, K4}, {'w', 131072, K4}, {'w', 196608, K4}}},
    {"direct_io: short replies",
     "direct",
     0,
     true,
     {"write short 10000 20000"},
     {{'w', 0, 16384}, {'w', K64, K4}, {'w', 12288, K4}, {'w', K4, K4}},
     "threads uring auto auto-threads"},
    {"direct_io: the file system fills up",
     "direct",
     0,
     true,
     {NULL},
     {{'w', CAP - 8192, K4},
      {'w', CAP - 4000, 16384},
      {'w', CAP, K4},
      {'w', CAP - 100, 50},
      {'s', 0, 0}},
     "threads uring auto auto-threads"},
    {"direct_io: PWRITEV, short reply",
     "direct",
     0,
     false,
     {"write short 24576 24577"},
     {{'W', 0, 32768}, {'W', 32768, 32768}},
     "threads uring auto auto-threads"},
    {"O_DIRECT: EIO",
     "direct",
     O_DIRECT,
     false,
     {"write error 8192 12288 5"},
     {{'w', 0, 16384}, {'w', K64, K4}, {'w', 8192, K4}, {'w', K4, K4}}},
    {"O_DIRECT: short replies",
     "direct",
     O_DIRECT,
     true,
     {"write short 10000 20000"},
     {{'w', 0, 16384}, {'w', K64, K4}, {'w', 12288, K4}, {'w', K4, K4}},
     "threads"},
    {"O_DIRECT: the file system fills up",
     "direct",
     O_DIRECT,
     true,
     {NULL},
     {{'w', CAP - 8192, K4},
      {'w', CAP - 4096, 16384},
      {'w', CAP, K4},
      {'s', 0, 0}},
     "threads"},
    {"O_DIRECT: 512 KiB writes, one part fails",
     "direct",
     O_DIRECT,
     false,
     {"write error 200000 200001 5"},
     {{'w', 0, 524288}, {'w', 524288, 524288}}},
};

int main(void)
{
	struct t_aio kernel, lib;
	struct t_res before;
	struct t_fuse f;

	t_private_mounts();
	t_watchdog(45);
	t_fuse_start(&f);
	T_EQ(t_aio_setup(&kernel, true, 64), 0);
	before = t_res_baseline();
	T_EQ(t_aio_setup(&lib, false, 64), 0);
	t_fuse_compare(&f, &kernel, &lib, scenarios,
		       (int)(sizeof(scenarios) / sizeof(scenarios[0])));
	t_context_works(&lib);
	T_EQ(t_aio_destroy(&lib), 0);
	t_res_check(before, "after io_destroy");
	T_EQ(t_aio_destroy(&kernel), 0);
	t_fuse_stop(&f);
	return t_finish();
}
