/*
 * mremap() of a context's ring moves the context (the kernel's
 * aio_ring_mremap(), which CRIU relies on, and libaio's harness case 19):
 * the new address is the handle for every call, events arrive there, the
 * old address is no context any more.  The ring may move while requests
 * are in flight; nothing then writes the old place.
 */
#include "behaviour.h"

#include <dlfcn.h>
#include <sys/mman.h>
#include <sys/syscall.h>

static void *move_ring(io_context_t ctx)
{
	struct t_ring *r = t_ring(ctx);
	size_t len = sizeof(*r) + (size_t)r->nr * sizeof(struct io_event);
	void *to =
	    mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *moved;

	T_ASSERT(to != MAP_FAILED);
	moved = mremap(ctx, len, len, MREMAP_FIXED | MREMAP_MAYMOVE, to);
	if (moved == MAP_FAILED)
		T_FAIL("mremap of the ring: %s", strerror(errno));
	T_ASSERT(moved != (void *)ctx);
	return moved;
}

static size_t ring_bytes(io_context_t ctx)
{
	size_t len = sizeof(struct t_ring) +
		     (size_t)t_ring(ctx)->nr * sizeof(struct io_event);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (len + page - 1) / page * page;
}

/* A context of the kernel's own AIO, whatever the engine under test. */
static io_context_t kernel_setup(int nr)
{
	int (*setup)(int, io_context_t *, const char *) =
	    (int (*)(int, io_context_t *, const char *))dlsym(RTLD_DEFAULT,
							      "uaio_setup");
	io_context_t ctx = 0;

	if (!setup)
		return t_setup(
		    nr); /* the reference: io_setup is the kernel's */
	T_EQ(setup(nr, &ctx, "kernel"), 0);
	return ctx;
}

/* Reap one event from the ring in user space, as fio and QEMU do. */
static void user_reap(io_context_t ctx, struct io_event *ev)
{
	struct t_ring *r = t_ring(ctx);
	double end = t_now_ms() + 5000;
	unsigned head;

	while ((head = t_head(r)) == t_tail(r)) {
		if (t_now_ms() > end)
			T_FAIL("no event in the moved ring after 5 s");
		sched_yield();
	}
	*ev = r->events[head];
	__atomic_store_n(&r->head, (head + 1) % r->nr, __ATOMIC_RELEASE);
}

static int engine_of(io_context_t ctx, char *name, size_t len)
{
	int (*engine)(io_context_t, char *, size_t) =
	    (int (*)(io_context_t, char *, size_t))dlsym(RTLD_DEFAULT,
							 "uaio_engine");

	return engine(ctx, name, len);
}

/*
 * A kernel context's ring moved away, then another context's ring moved to
 * its old place: that address names the other context at once, before any
 * call names the kernel context's new address, whatever the first call
 * (0: io_submit, 1: the raw system call, 2: uaio_engine, 3: io_destroy).
 */
static void swap_places(int first, int fd, unsigned char *buf)
{
	io_context_t k = kernel_setup(16), x = t_setup(16), kold = k;
	size_t len = ring_bytes(x);
	struct iocb cb, *p = &cb;
	struct io_event ev;
	char name[32];
	void *moved;

	T_EQ(ring_bytes(k), len);
	k = move_ring(k);
	moved = mremap(x, len, len, MREMAP_FIXED | MREMAP_MAYMOVE, kold);
	if (moved == MAP_FAILED)
		T_FAIL("mremap of the ring: %s", strerror(errno));
	x = moved;
	io_prep_pread(&cb, fd, buf, 4096, 0);
	cb.data = (void *)0x302;
	if (first == 3) {
		T_EQ(io_destroy(x), 0);
		T_EQ(io_submit(x, 1, &p), -EINVAL);
	} else {
		if (first == 2 && t_is_uaio()) {
			T_EQ(engine_of(x, name, sizeof(name)), 0);
			T_EQ(strcmp(name, "kernel") == 0,
			     strcmp(t_engine(), "kernel") == 0);
		}
		if (first == 1)
			T_EQ(syscall(SYS_io_submit, x, 1, &p), 1);
		else
			T_EQ(io_submit(x, 1, &p), 1);
		user_reap(x, &ev);
		T_EVENT(&ev, &cb, 4096);
	}
	if (t_is_uaio()) {
		T_EQ(engine_of(k, name, sizeof(name)), 0);
		T_EQ(strcmp(name, "kernel"), 0);
	}
	cb.data = (void *)0x303;
	T_EQ(io_submit(k, 1, &p), 1);
	t_wait1(k, &ev);
	T_EVENT(&ev, &cb, 4096);
	if (first != 3) {
		T_EQ(t_peek(x, 1, &ev), 0);
		T_EQ(io_destroy(x), 0);
	}
	T_EQ(io_destroy(k), 0);
	T_EQ(io_destroy(k), -EINVAL);
}

int main(void)
{
	int fd = t_scratch_file(1 << 20, O_DIRECT);
	unsigned char *buf = t_aligned(4096, 65536);
	io_context_t ctx = t_setup(16), old;
	struct iocb cb, *p = &cb;
	struct io_event ev;
	struct timespec zero = {0, 0};

	/* Moved while idle: every call follows it. */
	old = ctx;
	ctx = move_ring(ctx);
	io_prep_pread(&cb, fd, buf, 4096, 0);
	cb.data = (void *)0x301;
	T_EQ(io_submit(ctx, 1, &p), 1);
	user_reap(ctx, &ev);
	T_EVENT(&ev, &cb, 4096);
	T_EQ(io_submit(ctx, 1, &p), 1);
	t_wait1(ctx, &ev);
	T_EVENT(&ev, &cb, 4096);
	T_EQ(io_submit(old, 1, &p), -EINVAL);
	/* libaio itself reads the old ring here, and crashes. */
	if (t_is_uaio())
		T_EQ(io_getevents(old, 0, 1, &ev, &zero), -EINVAL);

	/* Moved while reads are in flight: their events reach the new
	 * place, and the program may reap them there. */
	struct iocb cbs[16], *ptrs[16];
	for (int i = 0; i < 16; i++) {
		io_prep_pread(&cbs[i], fd, buf + (i % 16) * 4096, 4096,
			      (long long)i * 65536);
		cbs[i].data = (void *)(long)(i + 1);
		ptrs[i] = &cbs[i];
	}
	T_EQ(io_submit(ctx, 16, ptrs), 16);
	ctx = move_ring(ctx);
	for (int i = 0; i < 16; i++) {
		if (i % 2)
			user_reap(ctx, &ev);
		else
			t_wait1(ctx, &ev);
		T_EQ((long)ev.res, 4096);
	}
	T_EQ(t_peek(ctx, 1, &ev), 0);
	T_EQ(io_destroy(ctx), 0);
	T_EQ(io_destroy(ctx), -EINVAL);

	for (int first = 0; first < 4; first++)
		swap_places(first, fd, buf);
	free(buf);
	close(fd);
	return 0;
}
