/*
 * fork.c - what a forked child forgets, however it was forked.
 *
 * pthread_atfork() handlers run for fork(), not for _Fork() or a fork or
 * clone system call made by hand.  So the library's child handlers are
 * also run from its entry points, by the first call of a child that none
 * ran in: a page advised MADV_WIPEONFORK reads zero in every child, and
 * an entry point reads one word of it (uaio__fork_check()).
 *
 * Such a child is, as for _Fork(), a copy of a single thread: a lock that
 * another thread of the parent held stays held, which each handler
 * answers by initialising its locks again, as after fork().
 */
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18
#endif

#define MAX_HANDLERS 16

enum { WORD_CHILD = 0, WORD_LIVE = UAIO_FORK_LIVE, WORD_RUNNING = 2 };

_Atomic unsigned *_Atomic uaio__fork_word;
static void (*children[MAX_HANDLERS])(void);
static _Atomic unsigned nchildren;
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;

static void run_children(void)
{
	unsigned n = atomic_load_explicit(&nchildren, memory_order_acquire);

	for (unsigned i = 0; i < n; i++)
		children[i]();
}

/* fork()'s child: the handlers, in the order they were registered. */
static void atfork_child(void)
{
	_Atomic unsigned *w = atomic_load(&uaio__fork_word);

	run_children();
	if (w)
		atomic_store(w, WORD_LIVE);
}

/* First registration: the word, and the one child handler fork() runs. */
static void word_init(void)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	pthread_atfork(NULL, NULL, atfork_child);
	if (p == MAP_FAILED)
		return;
	if (madvise(p, (size_t)page, MADV_WIPEONFORK)) {
		/* Before Linux 4.14: fork() alone is seen. */
		munmap(p, (size_t)page);
		return;
	}
	atomic_store((_Atomic unsigned *)p, WORD_LIVE);
	atomic_store_explicit(&uaio__fork_word, p, memory_order_release);
}

void uaio__atfork(void (*prepare)(void), void (*parent)(void),
		  void (*child)(void))
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, word_init);
	if (prepare || parent)
		pthread_atfork(prepare, parent, NULL);
	if (!child)
		return;
	pthread_mutex_lock(&reg_lock);
	unsigned n = atomic_load_explicit(&nchildren, memory_order_relaxed);
	if (n < MAX_HANDLERS) {
		children[n] = child;
		atomic_store_explicit(&nchildren, n + 1, memory_order_release);
	} else {
		pthread_atfork(NULL, NULL, child); /* fork() only */
	}
	pthread_mutex_unlock(&reg_lock);
}

void uaio__fork_check_slow(void)
{
	_Atomic unsigned *w = atomic_load(&uaio__fork_word);
	unsigned expect = WORD_CHILD;

	if (atomic_compare_exchange_strong(w, &expect, WORD_RUNNING)) {
		pthread_mutex_init(&reg_lock, NULL);
		run_children();
		atomic_store(w, WORD_LIVE);
		return;
	}
	/* Another thread of the child runs them. */
	while (atomic_load(w) == WORD_RUNNING)
		sched_yield();
}
