/*
 * A file system fills up under O_DIRECT and O_DSYNC writes submitted in
 * one io_submit (see fault-enospc.c for the file systems).  Kernel AIO
 * takes the space for them in the order of the batch, inside io_submit
 * (ext4 allocates the blocks of an O_DIRECT write as it submits it; tmpfs
 * and O_DSYNC writes are done there): the first ones are complete, the
 * one that crosses the end of the space is short, the later ones get
 * -ENOSPC.  The emulated engines run the requests of a batch at once, so
 * which of them gets the space differs there (uaio(7)): every request
 * must still complete exactly once, and the context work afterwards.
 */
#include "faults.h"

static const struct t_fs fss[] = {{"tmpfs", false}, {"ext4", true}};

static const struct t_fill fills[] = {
    {"O_DIRECT, one batch", O_DIRECT, false, 'w', 196608, 0, 3, true,
     "threads uring"},
    {"O_DIRECT PWRITEV, one batch", O_DIRECT, false, 'W', 196608, 0, 3, true,
     "threads uring"},
    {"O_DSYNC, one batch", O_DSYNC, false, 'w', 100000, 0, 3, true,
     "threads uring auto auto-threads"},
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
