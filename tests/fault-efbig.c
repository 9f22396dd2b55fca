/*
 * Writes past the file size limit (RLIMIT_FSIZE, SIGXFSZ ignored) and past
 * the largest file the file system can hold: a write that starts below
 * the limit and crosses it is short (it stops at the limit), one that
 * starts at or beyond it gets -EFBIG; buffered, O_DIRECT, O_DSYNC,
 * RWF_DSYNC, vectored, O_APPEND.  Each scenario runs on the kernel's AIO,
 * then on the engine: the same results, request by request, and the same
 * file afterwards.  ($TMPDIR must be on a file system with O_DIRECT.)
 */
#include "faults.h"

#define L (1u << 20)
#define K4 4096
#define TIB16 (1ll << 44)

#ifndef RWF_DSYNC
#define RWF_DSYNC 0x02
#endif

static const struct t_fcase cases[] = {
    {"buffered",
     0,
     false,
     L,
     0,
     0,
     {{'w', 0, K4},
      {'w', L - K4, 2 * K4},
      {'w', L, K4},
      {'w', L + 1000000, 100},
      {'w', L - 100, 50},
      {'W', L - 1000, 2 * K4},
      {'s', 0, 0}}},
    {"buffered, limit not page aligned",
     0,
     false,
     L + 1000,
     0,
     0,
     {{'w', L - K4, 2 * K4}, {'w', L + 1000, K4}, {'W', L, 4 * K4}}},
    {"O_DIRECT",
     O_DIRECT,
     false,
     L,
     0,
     0,
     {{'w', 0, K4},
      {'w', L - K4, 2 * K4},
      {'w', L, K4},
      {'w', L + 1048576, K4},
      {'W', L - 2 * K4, 4 * K4},
      {'s', 0, 0}}},
    {"O_DIRECT, limit not block aligned",
     O_DIRECT,
     true,
     L + 1000,
     0,
     0,
     {{'w', L - K4, 2 * K4}, {'w', L, K4}, {'w', L + K4, K4}}},
    {"O_DSYNC",
     O_DSYNC,
     false,
     L,
     0,
     0,
     {{'w', 0, K4}, {'w', L - K4, 2 * K4}, {'w', L, K4}, {'W', L - 100, K4}}},
    {"RWF_DSYNC",
     0,
     false,
     L,
     0,
     RWF_DSYNC,
     {{'w', 0, K4}, {'w', L - K4, 2 * K4}, {'w', L, K4}, {'W', L - 100, K4}}},
    {"O_APPEND",
     O_APPEND,
     true,
     L,
     L - 100,
     0,
     {{'w', 0, K4}, {'w', 0, K4}, {'w', L + 5, 1}}},
    {"past the largest file (no limit)",
     0,
     false,
     RLIM_INFINITY,
     0,
     0,
     {{'w', TIB16 - 2 * K4, 2 * K4},
      {'w', TIB16 - K4 - 100, 200},
      {'w', TIB16, K4},
      {'w', TIB16 * 2, K4}}},
    {"O_DIRECT past the largest file (no limit)",
     O_DIRECT,
     false,
     RLIM_INFINITY,
     0,
     0,
     {{'w', TIB16 - 2 * K4, 2 * K4}, {'w', TIB16, K4}, {'w', TIB16 * 2, K4}}},
};

int main(void)
{
	struct t_aio kernel, lib;
	struct t_res before;

	/* As a shell's ulimit -f does: the writes fail, nothing is killed. */
	signal(SIGXFSZ, SIG_IGN);
	t_watchdog(45);
	T_EQ(t_aio_setup(&kernel, true, 64), 0);
	before = t_res_baseline();
	T_EQ(t_aio_setup(&lib, false, 64), 0);
	t_fcase_compare(cases, (int)(sizeof(cases) / sizeof(cases[0])), &kernel,
			&lib);
	t_context_works(&lib);
	T_EQ(t_aio_destroy(&lib), 0);
	t_res_check(before, "after io_destroy");
	T_EQ(t_aio_destroy(&kernel), 0);
	return t_finish();
}
