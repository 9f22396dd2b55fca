/*
 * A file system fills up under AIO writes: a tmpfs of 1 MiB and an ext4
 * of 4 MiB on a loop device, each fresh for every run.  Writes are
 * complete while there is room, the one that crosses the end of the
 * space is short, the ones after it get -ENOSPC; space already allocated
 * stays writable and FSYNC succeeds.  Each scenario runs on the kernel's
 * AIO, then on the engine: the same results, request by request, and the
 * same file and free space afterwards.
 *
 * Buffered writes are done in order inside io_submit by every engine, so
 * a batch of them meets the same state; O_DIRECT writes here go one at a
 * time (fault-enospc-batch submits them together).
 */
#include "faults.h"

static const struct t_fs fss[] = {{"tmpfs", false}, {"ext4", true}};

static const struct t_fill fills[] = {
    {"buffered, one batch", 0, false, 'w', 100000, 0, 3, true},
    {"buffered, one at a time", 0, true, 'w', 100000, 0, 3, true},
    {"buffered PWRITEV, one batch", 0, false, 'W', 100000, 0, 3, true},
    {"buffered, sparse, one batch", 0, false, 'w', 65536, 4096, 3, true},
    {"O_DIRECT, one at a time", O_DIRECT, true, 'w', 196608, 0, 3, true},
    {"O_DIRECT PWRITEV, one at a time", O_DIRECT, true, 'W', 196608, 0, 3,
     true},
    {"O_DSYNC, one at a time", O_DSYNC, true, 'w', 100000, 0, 3, true},
};

int main(void)
{
	struct t_aio kernel, lib;
	struct t_res before;

	t_private_mounts();
	t_watchdog(45);
	t_ext4_prepare(4);
	T_EQ(t_aio_setup(&kernel, true, 128), 0);
	before = t_res_baseline();
	T_EQ(t_aio_setup(&lib, false, 128), 0);
	t_fill_compare(fss, 2, fills, (int)(sizeof(fills) / sizeof(fills[0])),
		       &kernel, &lib);
	t_context_works(&lib);
	T_EQ(t_aio_destroy(&lib), 0);
	t_res_check(before, "after io_destroy");
	T_EQ(t_aio_destroy(&kernel), 0);
	return t_finish();
}
