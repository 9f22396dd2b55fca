/*
 * io_setup() and io_queue_init(): argument checks in the kernel's order, and
 * the ring header a successful io_setup() hands back.
 *
 * fs/aio.c: get_user(*ctxp) -> EFAULT; *ctxp != 0 or nr == 0 -> EINVAL;
 * max(nr, 4 * cpus) * 2 overflowing 2^28 / 32 -> EINVAL; nr > aio-max-nr ->
 * EAGAIN; put_user(ctx id) failing -> EFAULT (and the context is killed).
 * nr is unsigned in the kernel, so negative counts are huge ones.
 */
#include "validation.h"

#include <limits.h>

static unsigned long aio_max_nr(void)
{
	FILE *f = fopen("/proc/sys/fs/aio-max-nr", "r");
	unsigned long v = 65536;

	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 65536;
		fclose(f);
	}
	return v;
}

static void check_header(io_context_t ctx, unsigned requested)
{
	struct t_ring *r = t_ring(ctx);
	long page = sysconf(_SC_PAGESIZE);

	T_EQ((unsigned long)ctx % (unsigned long)page, 0);
	T_EQ(r->nr, v_ring_nr(requested));
	T_EQ(r->head, 0);
	T_EQ(r->tail, 0);
	T_EQ(r->magic, T_RING_MAGIC);
	T_EQ(r->compat_features, 1);
	T_EQ(r->incompat_features, 0);
	T_EQ(r->header_length, 32);
}

int main(void)
{
	unsigned long max = aio_max_nr();
	io_context_t ctx, *none, *ro;

	none = v_guarded(sysconf(_SC_PAGESIZE), PROT_NONE);
	ro = v_guarded(sizeof(*ro), PROT_READ);

	/* ctxp is read before anything else is looked at. */
	V_RET(io_setup(1, NULL), -EFAULT);
	V_RET(io_setup(0, NULL), -EFAULT);
	V_RET(io_setup(-1, NULL), -EFAULT);
	V_RET(io_setup(1, none), -EFAULT);
	V_RET(io_setup(0, none), -EFAULT);

	/* A non-zero *ctxp is refused before nr is looked at, and kept. */
	ctx = (io_context_t)0x1234;
	V_RET(io_setup(1, &ctx), -EINVAL);
	V_RET(io_setup(0, &ctx), -EINVAL);
	V_RET(io_setup(INT_MAX, &ctx), -EINVAL);
	T_EQ((unsigned long)ctx, 0x1234);

	ctx = 0;
	V_RET(io_setup(0, &ctx), -EINVAL);
	T_EQ((unsigned long)ctx, 0);
	/* -1 is 0xffffffff to the kernel: the doubled size overflows. */
	V_RET(io_setup(-1, &ctx), -EINVAL);
	V_RET(io_setup(INT_MAX, &ctx), -EINVAL);
	/* 2^22 + 1 events double past 2^28 / sizeof(struct io_event). */
	V_RET(io_setup(4194305, &ctx), -EINVAL);
	T_EQ((unsigned long)ctx, 0);

	/* Sizes that pass the overflow check but exceed fs.aio-max-nr. */
	if (max < 4194304) {
		V_RET(io_setup(4194304, &ctx), -EAGAIN);
		V_RET(io_setup((int)max + 1, &ctx), -EAGAIN);
	}
	/*
	 * INT_MIN is 2^31 to the kernel; doubled in 32 bits it wraps to 0,
	 * which passes the overflow check and is refused as "no room":
	 * EAGAIN, not EINVAL.
	 */
	V_RET(io_setup(INT_MIN, &ctx), -EAGAIN);
	T_EQ((unsigned long)ctx, 0);

	/*
	 * A readable but read-only *ctxp: the context is created, the store
	 * of its id fails, the kernel destroys it again and returns EFAULT.
	 */
	V_RET(io_setup(1, ro), -EFAULT);
	T_EQ((unsigned long)*ro, 0);

	/* io_queue_init refuses n <= 0 without touching *ctxp. */
	ctx = (io_context_t)0x1234;
	V_RET(io_queue_init(0, &ctx), -EINVAL);
	V_RET(io_queue_init(-1, &ctx), -EINVAL);
	V_RET(io_queue_init(INT_MIN, &ctx), -EINVAL);
	T_EQ((unsigned long)ctx, 0x1234);
	V_RET(io_queue_init(0, NULL), -EINVAL);
	/* For n > 0 it zeroes *ctxp first, so a stale handle is no error. */
	V_RET(io_queue_init(128, &ctx), 0);
	T_ASSERT(ctx != (io_context_t)0x1234 && ctx != NULL);
	check_header(ctx, 128);
	V_RET(io_queue_release(ctx), 0);

	/* The ring header, and the kernel's sizing rule. */
	{
		static const int sizes[] = {1, 4, 8, 32, 128, 129, 500, 1024};
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			ctx = 0;
			V_RET(io_setup(sizes[i], &ctx), 0);
			check_header(ctx, sizes[i]);
			V_RET(io_destroy(ctx), 0);
		}
	}
	/* The figures the contract quotes: 383 for 128 on any machine of up
	 * to 16 CPUs, 127 for 4 on 2 CPUs. */
	if (v_possible_cpus() <= 16)
		T_EQ(v_ring_nr(128), 383);
	if (v_possible_cpus() == 2)
		T_EQ(v_ring_nr(4), 127);
	return 0;
}
