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
 */
#include <errno.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#define TAB_BITS 16
#define TAB_SIZE (1u << TAB_BITS)
#define TAB_MAX_LIVE (TAB_SIZE / 2)
#define TOMBSTONE ((struct uaio_ctx *)1)

static _Atomic(struct uaio_ctx *) *tab;
static _Atomic unsigned tab_seq; /* odd while the table is rewritten */
static unsigned tab_live, tab_tombs;
static pthread_mutex_t tab_lock = PTHREAD_MUTEX_INITIALIZER;
static struct uaio_ctx *free_ctxs;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
/* The last context this thread took a reference on, until it puts one. */
static __thread struct uaio_ctx *held
    __attribute__((tls_model("initial-exec")));

static inline unsigned slot_of(unsigned long handle)
{
	/* Handles are page-aligned addresses: mix the page number. */
	return (unsigned)(((handle >> 12) * 0x9e3779b97f4a7c15ull) >>
			  (64 - TAB_BITS));
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
	/*
	 * The parent's context structs, threads and rings stay where they are
	 * (copy-on-write, never touched again); only the index is emptied.
	 * They are not put on the free list: their engine state may be
	 * mid-update by threads that no longer exist.
	 */
	if (tab)
		memset((void *)tab, 0, TAB_SIZE * sizeof(*tab));
	tab_live = tab_tombs = 0;
	atomic_store(&tab_seq, 0);
	pthread_mutex_init(&tab_lock, NULL);
}

static void atfork_init(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

struct uaio_ctx *uaio__ctx_alloc(void)
{
	struct uaio_ctx *c;

	pthread_once(&atfork_once, atfork_init);
	pthread_mutex_lock(&tab_lock);
	c = free_ctxs;
	if (c)
		free_ctxs = c->next_free;
	pthread_mutex_unlock(&tab_lock);
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c)
			return NULL;
		atomic_init(&c->users, CTX_DEAD);
	}
	c->engine = NULL;
	c->priv = NULL;
	c->reason[0] = '\0';
	c->stats = NULL;
	c->next_free = NULL;
	return c;
}

/* Back to the free list: the struct must stay readable forever. */
void uaio__ctx_free(struct uaio_ctx *c)
{
	atomic_store_explicit(&c->users, CTX_DEAD, memory_order_release);
	atomic_store_explicit(&c->handle, 0, memory_order_release);
	pthread_mutex_lock(&tab_lock);
	c->next_free = free_ctxs;
	free_ctxs = c;
	pthread_mutex_unlock(&tab_lock);
}

/* Rebuild in place without tombstones; lookups retry meanwhile. */
static void tab_rehash(void)
{
	struct uaio_ctx **live = malloc(tab_live * sizeof(*live));
	unsigned n = 0;

	if (!live)
		return; /* tombstones only cost probe length */
	for (unsigned i = 0; i < TAB_SIZE; i++) {
		struct uaio_ctx *c =
		    atomic_load_explicit(&tab[i], memory_order_relaxed);
		if (c && c != TOMBSTONE)
			live[n++] = c;
	}
	tab_write_begin();
	for (unsigned i = 0; i < TAB_SIZE; i++)
		atomic_store_explicit(&tab[i], NULL, memory_order_relaxed);
	for (unsigned k = 0; k < n; k++) {
		unsigned i = slot_of(atomic_load_explicit(
		    &live[k]->handle, memory_order_relaxed));
		while (atomic_load_explicit(&tab[i], memory_order_relaxed))
			i = (i + 1) & (TAB_SIZE - 1);
		atomic_store_explicit(&tab[i], live[k], memory_order_relaxed);
	}
	tab_tombs = 0;
	tab_write_end();
	free(live);
}

/* Make c (with c->handle set) visible to lookups and alive. */
int uaio__ctx_publish(struct uaio_ctx *c)
{
	unsigned long h =
	    atomic_load_explicit(&c->handle, memory_order_relaxed);
	unsigned i;
	int ret = 0;

	pthread_mutex_lock(&tab_lock);
	if (!tab) {
		/* calloc, not mmap: leak checkers scan it for the contexts. */
		void *p = calloc(TAB_SIZE, sizeof(*tab));
		if (!p) {
			ret = -ENOMEM;
			goto out;
		}
		atomic_store_explicit((_Atomic(void *) *)&tab, p,
				      memory_order_release);
	}
	if (tab_live >= TAB_MAX_LIVE) {
		ret = -EAGAIN;
		goto out;
	}
	if (tab_live + tab_tombs >= TAB_SIZE * 3 / 4)
		tab_rehash();
	/* Alive before visible, so a lookup never finds it dead by mistake. */
	atomic_store_explicit(&c->users, 0, memory_order_release);
	i = slot_of(h);
	for (;;) {
		struct uaio_ctx *o =
		    atomic_load_explicit(&tab[i], memory_order_relaxed);
		if (!o || o == TOMBSTONE) {
			if (o == TOMBSTONE)
				tab_tombs--;
			atomic_store_explicit(&tab[i], c, memory_order_release);
			break;
		}
		i = (i + 1) & (TAB_SIZE - 1);
	}
	tab_live++;
out:
	pthread_mutex_unlock(&tab_lock);
	return ret;
}

static void tab_remove(struct uaio_ctx *c)
{
	unsigned long h =
	    atomic_load_explicit(&c->handle, memory_order_relaxed);
	unsigned i = slot_of(h);

	pthread_mutex_lock(&tab_lock);
	for (unsigned n = 0; n < TAB_SIZE; n++, i = (i + 1) & (TAB_SIZE - 1)) {
		struct uaio_ctx *o =
		    atomic_load_explicit(&tab[i], memory_order_relaxed);
		if (!o)
			break;
		if (o == c) {
			atomic_store_explicit(&tab[i], TOMBSTONE,
					      memory_order_release);
			tab_live--;
			tab_tombs++;
			break;
		}
	}
	pthread_mutex_unlock(&tab_lock);
}

void uaio__ctx_foreach(void (*fn)(unsigned long handle))
{
	for (unsigned i = 0; i < TAB_SIZE; i++) {
		unsigned long h = 0;

		/* fn runs unlocked: it may destroy the context. */
		pthread_mutex_lock(&tab_lock);
		if (tab) {
			struct uaio_ctx *c =
			    atomic_load_explicit(&tab[i], memory_order_relaxed);
			if (c && c != TOMBSTONE)
				h = atomic_load_explicit(&c->handle,
							 memory_order_relaxed);
		}
		pthread_mutex_unlock(&tab_lock);
		if (!tab)
			return;
		if (h)
			fn(h);
	}
}

static struct uaio_ctx *tab_find(unsigned long handle)
{
	_Atomic(struct uaio_ctx *) *t =
	    atomic_load_explicit((_Atomic(void *) *)&tab, memory_order_acquire);
	unsigned i = slot_of(handle);

	if (!t)
		return NULL;
	for (unsigned n = 0; n < TAB_SIZE; n++, i = (i + 1) & (TAB_SIZE - 1)) {
		struct uaio_ctx *c =
		    atomic_load_explicit(&t[i], memory_order_acquire);
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

/*
 * The context for handle with a reference held, or NULL.  The reference
 * keeps io_destroy from freeing the engine state until uaio__ctx_put().
 */
struct uaio_ctx *uaio__ctx_get(unsigned long handle)
{
	uaio__note_caller();
	for (;;) {
		unsigned seq =
		    atomic_load_explicit(&tab_seq, memory_order_acquire);
		struct uaio_ctx *c;

		if (seq & 1) {
			sched_yield();
			continue;
		}
		c = tab_find(handle);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&tab_seq, memory_order_relaxed) != seq)
			continue;
		if (!c || !ctx_tryget(c))
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

void uaio__ctx_put(struct uaio_ctx *c)
{
	unsigned v =
	    atomic_fetch_sub_explicit(&c->users, 1, memory_order_release) - 1;
	held = NULL;
	if ((v & CTX_DEAD) && v <= CTX_DEAD + 2)
		/* The destroyer may wait for exactly this. */
		syscall(SYS_futex, &c->users, FUTEX_WAKE_PRIVATE, 1, NULL, NULL,
			0);
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
	tab_remove(c);
	return true;
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
		syscall(SYS_futex, &c->users, FUTEX_WAIT_PRIVATE, v, NULL, NULL,
			0);
}
