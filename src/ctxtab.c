/*
 * ctxtab.c - the registry of live contexts, keyed by handle.
 *
 * Every call turns a handle the program passed, which may be garbage, into a
 * context without dereferencing it.  Lookups take no lock: an open-addressed
 * table read under a sequence count, and a reference taken on the context
 * with a compare-and-swap.  Context structs are never freed, only recycled,
 * so a lookup that races with io_destroy reads a stale but valid struct and
 * notices it by the handle or the dead bit.  Setup and destroy serialise on
 * tab_lock; they are not the hot path.
 *
 * The table grows by doubling, as far as memory goes: no cap of its own
 * below the kernel's (fs.aio-max-nr, or vm.max_map_count for its rings).  A
 * table is rewritten in place to drop tombstones; a grown one replaces it
 * and the old one is kept, since a lookup may still be reading it (it holds
 * only NULL, tombstones and pointers to context structs, which live
 * forever, and the sequence count sends the reader back).
 *
 * Context structs sit in blocks, numbered: an emulated ring's header says
 * the number of its context (UAIO_RING_ID), so that a ring the program
 * moved with mremap() leads back to its context.
 */
#include <errno.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "sys.h"
#include "uaccess.h"

#define TAB_MIN_BITS 10
#define TOMBSTONE ((struct uaio_ctx *)1)
#define BLOCK 256u /* context structs per block */

struct table {
	unsigned bits;
	/* The table this one replaced, kept for lookups that may still scan
	 * it, and so reachable for leak checkers; each is half the next. */
	struct table *older;
	_Atomic(struct uaio_ctx *) slot[];
};

static _Atomic(struct table *) tab;
static _Atomic unsigned tab_seq; /* odd while the table is rewritten */
static unsigned tab_live, tab_tombs;
static pthread_mutex_t tab_lock = PTHREAD_MUTEX_INITIALIZER;
static struct uaio_ctx *free_ctxs;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
/* io_destroy calls under way in the process, and in this thread. */
static _Atomic unsigned destroys;
static __thread unsigned my_destroys;
/*
 * Context structs by number: blocks of BLOCK, never freed nor moved, so
 * that uaio__ctx_at() reads them without a lock.  At most 2^23 contexts,
 * as many as the uring engine's user_data can name.
 */
#define MAX_BLOCKS ((1u << 23) / BLOCK)
static struct uaio_ctx *_Atomic blocks[MAX_BLOCKS];
static unsigned nblocks, nallocated;
/* Kernel-engine contexts by the kernel's ring id (its index). */
static struct uaio_ctx **kernel_ids;
static unsigned nkernel_ids;
/* Contexts killed whose engine still holds the handle (uaio__ctx_kill). */
static struct uaio_ctx *dying_ctxs;
/* The last context this thread took a reference on, until it puts one. */
static __thread struct uaio_ctx *held UAIO_TLS_IE;

static inline unsigned size_of(const struct table *t)
{
	return 1u << t->bits;
}

static inline unsigned slot_of(const struct table *t, unsigned long handle)
{
	/* Handles are page-aligned addresses: mix the page number. */
	return (unsigned)(((handle >> 12) * 0x9e3779b97f4a7c15ull) >>
			  (64 - t->bits));
}

static void tab_write_begin(void)
{
	atomic_fetch_add_explicit(&tab_seq, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
}

static void tab_write_end(void)
{
	atomic_fetch_add_explicit(&tab_seq, 1, memory_order_release);
}

static struct table *tab_now(void)
{
	return atomic_load_explicit(&tab, memory_order_acquire);
}

/* The child of a fork owns no context: forget them all (POSIX: one thread). */
static void atfork_prepare(void)
{
	pthread_mutex_lock(&tab_lock);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&tab_lock);
}

static void atfork_child(void)
{
	struct table *t = tab_now();

	/*
	 * The parent's context structs, threads and rings stay where they are
	 * (never touched again); only the index is emptied.  They are not put
	 * on the free list: their engine state may be mid-update by threads
	 * that no longer exist.
	 */
	if (t)
		memset((void *)t->slot, 0, size_of(t) * sizeof(t->slot[0]));
	/* Dead to lookups by number too (uaio__ctx_get_number()), and
	 * other contexts than those a thread of the child may have noted
	 * (the forking one's, uaio__ctx_destroying()). */
	for (unsigned k = 0; k < nallocated; k++) {
		atomic_store_explicit(&blocks[k / BLOCK][k % BLOCK].users,
				      CTX_DEAD, memory_order_relaxed);
		blocks[k / BLOCK][k % BLOCK].gen++;
	}
	tab_live = tab_tombs = 0;
	dying_ctxs = NULL;
	/* The parent's other threads and their io_destroy are not here. */
	atomic_store(&destroys, 0);
	atomic_store(&tab_seq, 0);
	pthread_mutex_init(&tab_lock, NULL);
}

static void atfork_init(void)
{
	uaio__atfork(atfork_prepare, atfork_parent, atfork_child);
}

/* Under tab_lock: a struct never used, numbered. */
static struct uaio_ctx *ctx_new(void)
{
	struct uaio_ctx *c;

	if (nallocated == nblocks * BLOCK) {
		struct uaio_ctx *b;

		if (nblocks == MAX_BLOCKS)
			return NULL;
		b = calloc(BLOCK, sizeof(struct uaio_ctx));
		if (!b)
			return NULL;
		atomic_store_explicit(&blocks[nblocks], b,
				      memory_order_release);
		nblocks++;
	}
	c = &blocks[nallocated / BLOCK][nallocated % BLOCK];
	c->number = nallocated++;
	atomic_init(&c->users, CTX_DEAD);
	atomic_init(&c->peeking, 0);
	return c;
}

struct uaio_ctx *uaio__ctx_alloc(void)
{
	struct uaio_ctx *c;

	pthread_once(&atfork_once, atfork_init);
	pthread_mutex_lock(&tab_lock);
	c = free_ctxs;
	if (c)
		free_ctxs = c->next_free;
	else
		c = ctx_new();
	if (c)
		c->gen++; /* under the lock: uaio__ctx_destroying() reads it */
	pthread_mutex_unlock(&tab_lock);
	if (!c)
		return NULL;
	c->engine = NULL;
	uaio__ctx_set_priv(c, NULL);
	c->reason[0] = '\0';
	c->hybrid = false;
	c->abandoned = false;
	c->stats = NULL;
	c->next_free = NULL;
	return c;
}

/* Back to the free list: the struct must stay readable forever. */
void uaio__ctx_free(struct uaio_ctx *c)
{
	/* The destroyer's reference ends here, not in uaio__ctx_put(). */
	if (held == c)
		held = NULL;
	atomic_store_explicit(&c->users, CTX_DEAD, memory_order_release);
	atomic_store_explicit(&c->handle, 0, memory_order_release);
	pthread_mutex_lock(&tab_lock);
	c->next_free = free_ctxs;
	free_ctxs = c;
	pthread_mutex_unlock(&tab_lock);
}

static void put_slot(struct table *t, struct uaio_ctx *c)
{
	unsigned long h =
	    atomic_load_explicit(&c->handle, memory_order_relaxed);
	unsigned i = slot_of(t, h);

	for (;;) {
		struct uaio_ctx *o =
		    atomic_load_explicit(&t->slot[i], memory_order_relaxed);
		if (!o || o == TOMBSTONE) {
			if (o == TOMBSTONE)
				tab_tombs--;
			atomic_store_explicit(&t->slot[i], c,
					      memory_order_release);
			return;
		}
		i = (i + 1) & (size_of(t) - 1);
	}
}

/*
 * Under tab_lock: rebuild the table with 2^bits slots and no tombstones,
 * in place when the size stays; lookups retry meanwhile.  false if out of
 * memory (then nothing changed).
 */
static bool tab_rebuild(unsigned bits)
{
	struct table *old = tab_now(), *t = old;
	struct uaio_ctx **live = malloc((tab_live + 1) * sizeof(*live));
	unsigned n = 0;

	if (!live)
		return false;
	if (!old || old->bits != bits) {
		/* calloc, not mmap: leak checkers scan it for the contexts. */
		t = calloc(1, sizeof(*t) +
				  ((size_t)1 << bits) * sizeof(t->slot[0]));
		if (!t) {
			free(live);
			return false;
		}
		t->bits = bits;
		t->older = old;
	}
	for (unsigned i = 0; old && i < size_of(old); i++) {
		struct uaio_ctx *c =
		    atomic_load_explicit(&old->slot[i], memory_order_relaxed);
		if (c && c != TOMBSTONE)
			live[n++] = c;
	}
	tab_write_begin();
	if (t == old)
		for (unsigned i = 0; i < size_of(t); i++)
			atomic_store_explicit(&t->slot[i], NULL,
					      memory_order_relaxed);
	tab_tombs = 0;
	for (unsigned k = 0; k < n; k++)
		put_slot(t, live[k]);
	atomic_store_explicit(&tab, t, memory_order_release);
	tab_write_end();
	free(live);
	/* An old table is kept: a lookup may still be scanning it. */
	return true;
}

/* Under tab_lock: room for one more. */
static int tab_reserve(void)
{
	struct table *t = tab_now();

	if (!t)
		return tab_rebuild(TAB_MIN_BITS) ? 0 : -ENOMEM;
	if ((tab_live + 1) * 2 > size_of(t))
		return tab_rebuild(t->bits + 1) ? 0 : -ENOMEM;
	if (tab_live + tab_tombs + 1 >= size_of(t) * 3 / 4)
		(void)tab_rebuild(t->bits); /* tombstones only cost probes */
	return 0;
}

/* Make c (with c->handle set) visible to lookups and alive. */
int uaio__ctx_publish(struct uaio_ctx *c)
{
	int ret;

	pthread_mutex_lock(&tab_lock);
	ret = tab_reserve();
	if (!ret) {
		/* Alive before visible, so a lookup never finds it dead by
		 * mistake. */
		atomic_store_explicit(&c->users, 0, memory_order_release);
		put_slot(tab_now(), c);
		tab_live++;
	}
	pthread_mutex_unlock(&tab_lock);
	return ret;
}

/* Under tab_lock. */
static void tab_remove_locked(struct uaio_ctx *c)
{
	struct table *t = tab_now();
	unsigned long h =
	    atomic_load_explicit(&c->handle, memory_order_relaxed);
	unsigned i = t ? slot_of(t, h) : 0;

	for (unsigned n = 0; t && n < size_of(t);
	     n++, i = (i + 1) & (size_of(t) - 1)) {
		struct uaio_ctx *o =
		    atomic_load_explicit(&t->slot[i], memory_order_relaxed);
		if (!o)
			break;
		if (o == c) {
			atomic_store_explicit(&t->slot[i], TOMBSTONE,
					      memory_order_release);
			tab_live--;
			tab_tombs++;
			break;
		}
	}
}

void uaio__ctx_foreach(void (*fn)(unsigned long handle))
{
	for (unsigned i = 0;; i++) {
		unsigned long h = 0;
		bool end;

		/* fn runs unlocked: it may destroy the context. */
		pthread_mutex_lock(&tab_lock);
		struct table *t = tab_now();
		end = !t || i >= size_of(t);
		if (!end) {
			struct uaio_ctx *c = atomic_load_explicit(
			    &t->slot[i], memory_order_relaxed);
			if (c && c != TOMBSTONE)
				h = atomic_load_explicit(&c->handle,
							 memory_order_relaxed);
		}
		pthread_mutex_unlock(&tab_lock);
		if (end)
			return;
		if (h)
			fn(h);
	}
}

static struct uaio_ctx *tab_find(const struct table *t, unsigned long handle)
{
	unsigned i = slot_of(t, handle);

	for (unsigned n = 0; n < size_of(t);
	     n++, i = (i + 1) & (size_of(t) - 1)) {
		struct uaio_ctx *c =
		    atomic_load_explicit(&t->slot[i], memory_order_acquire);
		if (!c)
			return NULL;
		if (c != TOMBSTONE &&
		    atomic_load_explicit(&c->handle, memory_order_relaxed) ==
			handle)
			return c;
	}
	return NULL;
}

static bool ctx_tryget(struct uaio_ctx *c)
{
	unsigned v = atomic_load_explicit(&c->users, memory_order_relaxed);

	do {
		if (v & CTX_DEAD)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(
	    &c->users, &v, v + 1, memory_order_acquire, memory_order_relaxed));
	return true;
}

/* Under tab_lock: the context whose ring's id field says id, if any. */
static struct uaio_ctx *by_ring_id(unsigned id)
{
	unsigned k = id & ~UAIO_RING_ID;

	if (!(id & UAIO_RING_ID))
		return id < nkernel_ids ? kernel_ids[id] : NULL;
	return k < nallocated ? &blocks[k / BLOCK][k % BLOCK] : NULL;
}

void uaio__ctx_kernel_id(struct uaio_ctx *c, unsigned id, bool live)
{
	pthread_mutex_lock(&tab_lock);
	if (id >= nkernel_ids && live) {
		unsigned n = id + 64;
		struct uaio_ctx **p = realloc(kernel_ids, n * sizeof(*p));

		if (p) {
			memset(p + nkernel_ids, 0,
			       (n - nkernel_ids) * sizeof(*p));
			kernel_ids = p;
			nkernel_ids = n;
		}
	}
	if (id < nkernel_ids && (live || kernel_ids[id] == c))
		kernel_ids[id] = live ? c : NULL;
	pthread_mutex_unlock(&tab_lock);
}

/*
 * A ring the program moved with mremap(): the header at the new handle
 * names the context (UAIO_RING_ID, or the kernel's index for a kernel
 * context); the context moves to the new handle if its ring is no longer
 * at the old one.  Read with checked reads: handle may be garbage.  true
 * when the registry changed.
 */
static bool find_moved(unsigned long handle)
{
	struct aio_ring now, old;
	struct uaio_ctx *c;
	bool moved = false;

	if ((handle & 4095) || uaio__uread(&now, (void *)handle, sizeof(now)) ||
	    now.magic != AIO_RING_MAGIC)
		return false;
	pthread_mutex_lock(&tab_lock);
	c = by_ring_id(now.id);
	if (c && !(atomic_load(&c->users) & CTX_DEAD) &&
	    atomic_load(&c->handle) != handle &&
	    (uaio__uread(&old, (void *)atomic_load(&c->handle), sizeof(old)) ||
	     old.magic != AIO_RING_MAGIC || old.id != now.id)) {
		tab_remove_locked(c);
		atomic_store(&c->handle, handle);
		(void)tab_reserve(); /* a tombstone was freed: cannot fail */
		put_slot(tab_now(), c);
		tab_live++;
		moved = true;
	}
	pthread_mutex_unlock(&tab_lock);
	return moved;
}

bool uaio__ctx_unlist_moved(struct uaio_ctx *c, unsigned long handle)
{
	struct aio_ring now;
	bool gone = false;

	pthread_mutex_lock(&tab_lock);
	if (!(atomic_load(&c->users) & CTX_DEAD) &&
	    atomic_load(&c->handle) == handle &&
	    (c->engine->flags & UAIO_ENGINE_KERNEL_HANDLE) &&
	    (uaio__uread(&now, (void *)handle, sizeof(now)) ||
	     now.magic != AIO_RING_MAGIC || by_ring_id(now.id) != c)) {
		/* Out of the table until a call names its ring where it is
		 * (find_moved()); handle 0 says the old place is no more. */
		tab_remove_locked(c);
		atomic_store(&c->handle, 0);
		gone = true;
	}
	pthread_mutex_unlock(&tab_lock);
	return gone;
}

/*
 * The context for handle with a reference held, or NULL.  The reference
 * keeps io_destroy from freeing the engine state until uaio__ctx_put().
 */
struct uaio_ctx *uaio__ctx_get(unsigned long handle)
{
	bool looked = false;

	uaio__note_caller();
	for (;;) {
		unsigned seq =
		    atomic_load_explicit(&tab_seq, memory_order_acquire);
		struct table *t;
		struct uaio_ctx *c;

		if (seq & 1) {
			sched_yield();
			continue;
		}
		t = tab_now();
		c = t ? tab_find(t, handle) : NULL;
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&tab_seq, memory_order_relaxed) != seq)
			continue;
		if (!c) {
			if (looked || !find_moved(handle))
				return NULL;
			looked = true;
			continue;
		}
		if (!ctx_tryget(c))
			return NULL;
		/* Recycled for another handle between find and get? */
		if (atomic_load_explicit(&c->handle, memory_order_relaxed) !=
		    handle) {
			uaio__ctx_put(c);
			continue;
		}
		held = c;
		return c;
	}
}

struct uaio_ctx *uaio__ctx_at(unsigned number)
{
	return &atomic_load_explicit(&blocks[number / BLOCK],
				     memory_order_acquire)[number % BLOCK];
}

struct uaio_ctx *uaio__ctx_get_number(unsigned number, unsigned gen)
{
	struct uaio_ctx *c = NULL;

	pthread_mutex_lock(&tab_lock);
	if (number < nallocated)
		c = &blocks[number / BLOCK][number % BLOCK];
	pthread_mutex_unlock(&tab_lock);
	if (!c || !ctx_tryget(c))
		return NULL;
	if (c->gen != gen) {
		uaio__ctx_put(c);
		return NULL;
	}
	held = c;
	return c;
}

void uaio__destroy_begin(void)
{
	my_destroys++;
	atomic_fetch_add(&destroys, 1);
}

void uaio__destroy_end(void)
{
	atomic_fetch_sub(&destroys, 1);
	my_destroys--;
}

void uaio__destroy_wait_others(void)
{
	const struct timespec ms = {0, 1000000};

	/* A sleep that ends runs this thread's task_work: io_uring may need
	 * it to finish what another thread's io_destroy waits for. */
	while (atomic_load(&destroys) > my_destroys)
		nanosleep(&ms, NULL);
}

bool uaio__ctx_destroying(unsigned number, unsigned gen)
{
	bool yes = false;

	pthread_mutex_lock(&tab_lock);
	if (number < nallocated) {
		struct uaio_ctx *c = &blocks[number / BLOCK][number % BLOCK];

		/* Killed (CTX_DEAD), not yet freed (a handle) nor reused. */
		yes = c->gen == gen &&
		      (atomic_load_explicit(&c->users, memory_order_relaxed) &
		       CTX_DEAD) &&
		      atomic_load_explicit(&c->handle, memory_order_relaxed);
	}
	pthread_mutex_unlock(&tab_lock);
	return yes;
}

void uaio__ctx_put(struct uaio_ctx *c)
{
	unsigned v =
	    atomic_fetch_sub_explicit(&c->users, 1, memory_order_release) - 1;
	held = NULL;
	if ((v & CTX_DEAD) && v <= CTX_DEAD + 2)
		/* The destroyer may wait for exactly this. */
		RAW(SYS_futex, &c->users, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

bool uaio__ctx_kill(struct uaio_ctx *c)
{
	unsigned v = atomic_load_explicit(&c->users, memory_order_relaxed);

	do {
		if (v & CTX_DEAD)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(
	    &c->users, &v, v | CTX_DEAD, memory_order_acq_rel,
	    memory_order_relaxed));
	pthread_mutex_lock(&tab_lock);
	tab_remove_locked(c);
	c->next_dying = dying_ctxs;
	dying_ctxs = c;
	pthread_mutex_unlock(&tab_lock);
	return true;
}

void uaio__ctx_unlist(struct uaio_ctx *c)
{
	pthread_mutex_lock(&tab_lock);
	for (struct uaio_ctx **p = &dying_ctxs; *p; p = &(*p)->next_dying)
		if (*p == c) {
			*p = c->next_dying;
			break;
		}
	pthread_mutex_unlock(&tab_lock);
}

bool uaio__ctx_dying(unsigned long handle)
{
	bool dying = false;

	pthread_mutex_lock(&tab_lock);
	for (struct uaio_ctx *c = dying_ctxs; c && !dying; c = c->next_dying)
		dying = atomic_load_explicit(&c->handle,
					     memory_order_relaxed) == handle;
	pthread_mutex_unlock(&tab_lock);
	return dying;
}

struct uaio_ctx *uaio__ctx_held(void)
{
	return held;
}

void uaio__ctx_wait_idle(struct uaio_ctx *c, unsigned extra_refs)
{
	unsigned v;

	/* The destroyer holds one reference of its own. */
	while ((v = atomic_load_explicit(&c->users, memory_order_acquire)) !=
	       CTX_DEAD + 1 + extra_refs)
		RAW(SYS_futex, &c->users, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
}
