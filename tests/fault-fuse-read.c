/*
 * Reads that a file system fails or cuts short, on a FUSE file system of
 * the test's own (faultfs): EIO and other errors, short replies, through
 * the page cache ("data", with readahead), with FUSE's direct_io
 * ("direct", each read reaching the server as asked) and opened O_DIRECT
 * (which the kernel runs asynchronously, split into several FUSE
 * requests when large).  Each scenario runs on the kernel's AIO, then on
 * the engine: the same results, request by request, and the same data.
 *
 * A buffered read that the server answers short is not run on the uring
 * engine: io_uring on this kernel sometimes reports the whole length,
 * with zeros past what the server sent (liburing alone does it too; see
 * uaio(7)).
 */
#include "faults.h"

#define K4 4096
#define K64 65536

static const struct t_scenario scenarios[] = {
    {"buffered: EIO in the middle of a read",
     "data",
     0,
     false,
     {"read error 8192 12288 5"},
     {{'r', 0, 16384}, {'r', K64, K4}, {'r', 8192, K4}, {'r', K4, 8192}}},
    {"buffered: EIO at a readahead boundary",
     "data",
     0,
     false,
     {"read error 131072 135168 5"},
     {{'r', 126976, 8192}, {'r', 0, 131072}, {'r', 135168, K4}}},
    {"buffered: other errors of the file system",
     "data",
     0,
     false,
     {"read error 0 4096 4", "read error 65536 69632 13",
      "read error 131072 135168 61", "read error 196608 200704 75"},
     {{'r', 0, K4}, {'r', K64, K4}, {'r', 131072, K4}, {'r', 196608, K4}}},
    {"buffered: a short reply (the file looks shorter)",
     "data",
     0,
     true,
     {"read short 10000 20000"},
     {{'r', 0, K64}, {'r', K64, K4}, {'r', 9000, K4}, {'r', 20480, K4}},
     "uring auto",
     true},
    {"buffered: PREADV across a failing page",
     "data",
     0,
     false,
     {"read error 20000 20001 5"},
     {{'R', 0, 32768}, {'R', 32768, 32768}}},
    {"buffered: reads at and past the end",
     "data",
     0,
     false,
     {NULL},
     {{'r', FAULTFS_SIZE - 100, K4},
      {'r', FAULTFS_SIZE, K4},
      {'r', 2 * FAULTFS_SIZE, K4}}},
    {"direct_io: EIO",
     "direct",
     0,
     false,
     {"read error 8192 12288 5"},
     {{'r', 0, 16384}, {'r', K64, K4}, {'r', 8192, K4}, {'r', K4, 8192}}},
    {"direct_io: other errors of the file system",
     "direct",
     0,
     false,
     {"read error 0 4096 4", "read error 65536 69632 13",
      "read error 131072 135168 61", "read error 196608 200704 75"},
     {{'r', 0, K4}, {'r', K64, K4}, {'r', 131072, K4}, {'r', 196608, K4}}},
    {"direct_io: short replies",
     "direct",
     0,
     false,
     {"read short 10000 20000"},
     {{'r', 0, 16384}, {'r', K64, K4}, {'r', 8192, K4}, {'r', 12288, K4}}},
    {"direct_io: PREADV, short reply",
     "direct",
     0,
     false,
     {"read short 20000 20001"},
     {{'R', 0, 32768}, {'R', 32768, 32768}}},
    {"O_DIRECT: EIO",
     "direct",
     O_DIRECT,
     false,
     {"read error 8192 12288 5"},
     {{'r', 0, 16384}, {'r', K64, K4}, {'r', 8192, K4}, {'r', K4, 8192}}},
    {"O_DIRECT: short replies",
     "direct",
     O_DIRECT,
     false,
     {"read short 10000 20000"},
     {{'r', 0, 16384}, {'r', K64, K4}, {'r', 8192, K4}, {'r', 12288, K4}}},
    {"O_DIRECT: 512 KiB reads, one part fails",
     "direct",
     O_DIRECT,
     false,
     {"read error 200000 200001 5", "read short 600000 600001"},
     {{'r', 0, 524288}, {'r', 524288, 524288}}},
    {"O_DIRECT: reads at and past the end",
     "direct",
     O_DIRECT,
     false,
     {NULL},
     {{'r', FAULTFS_SIZE - K4, 2 * K4},
      {'r', FAULTFS_SIZE, K4},
      {'r', 2 * FAULTFS_SIZE, K4}}},
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
