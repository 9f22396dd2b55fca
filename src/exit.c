/*
 * exit.c - the end of the process, as the kernel's exit_aio() sees it.
 *
 * The kernel waits for every request in flight before it tears down the
 * address space, so a program may submit writes and exit without reaping:
 * nothing is lost, and no read lands after the process is gone.  The
 * emulated engines run requests on uaio's own threads, which the end of
 * the process would kill mid-request, so:
 *
 *  - exit() and a return from main run the library's destructor, which
 *    destroys every live context as io_destroy() does: requests on files
 *    and block devices complete, polls and reads or writes waiting on a
 *    stream are cancelled (kernel AIO would never have them in flight: it
 *    blocks in io_submit instead).  Kernel-engine contexts are left to the
 *    kernel, whose exit_aio() does the same.  It then waits for the
 *    io_destroy calls of other threads still under way.
 *
 *  - The end of the program's last thread (pthread_exit() in main after
 *    the others) must end the process, as glibc does by calling exit(0)
 *    in the last thread.  uaio's threads would keep it alive, so a watcher
 *    notices when no thread of the program's own is left and calls exit(0)
 *    in its place.  It looks only when every thread that ever called uaio
 *    has ended (their TLS destructors count them out), and then by
 *    /proc/self: the main thread a zombie, and no live task left in the
 *    thread group but uaio's and the kernel's io workers.
 *
 *  - _exit(), a fatal signal and execve() run none of this: uaio(7) says
 *    what each engine then loses.
 *
 * uaio's threads are started here (uaio__spawn), with every signal blocked
 * so that the program's signals go to its own threads, and counted.
 */
#include <dirent.h>
#include <semaphore.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "stats.h"

#define PF_IO_WORKER 0x00000010u   /* io_uring's workers */
#define PF_USER_WORKER 0x00004000u /* vhost and io workers (6.4+) */
#define WATCH_MIN_MS 2
#define WATCH_MAX_MS 250

/* 1: a program thread counted in live_callers; -1: one of uaio's. */
__thread signed char uaio__caller_state UAIO_TLS_IE;
#define caller_state uaio__caller_state

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static unsigned live_callers; /* program threads that called uaio, alive */
static unsigned ours;	      /* uaio's threads, the watcher excepted */
static unsigned long spawns;  /* threads of ours started, ever */
static bool watcher_running;
static pthread_key_t caller_key;
static pthread_once_t once = PTHREAD_ONCE_INIT;
/* The thread's id, cached; the forked child's thread gets its own. */
static __thread pid_t my_tid UAIO_TLS_IE;

struct start {
	void *(*fn)(void *);
	void *arg;
	struct start *next;
};

/*
 * Under lock: what threads still to start will read.  A forked child
 * inherits those its parent's threads had not yet read, without the
 * threads; linked here they stay reachable, and a leak checker in the
 * child (valgrind's, LeakSanitizer) does not report them.
 */
static struct start *starting;

static void caller_gone(void *arg);

static void after_fork_child(void)
{
	my_tid = 0;
	/* Only the forking thread lives on, without any of uaio's. */
	pthread_mutex_init(&lock, NULL);
	pthread_cond_init(&cond, NULL);
	live_callers = caller_state == 1;
	ours = 0;
	watcher_running = false;
}

static void init(void)
{
	if (pthread_key_create(&caller_key, caller_gone))
		uaio__debug("no TLS key: the end of the program's last thread "
			    "will wait for uaio's threads");
	uaio__atfork(NULL, NULL, after_fork_child);
}

/* One task's state letter and flags from its stat file; false if gone. */
static bool task_stat(const char *path, char *state, unsigned *flags)
{
	char buf[512];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	char *p;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* Fields after the command name, which may hold ") ": from 3. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%c %*d %*d %*d %*d %*d %u", state, flags) != 2)
		return false;
	return true;
}

/*
 * Whether a thread of the program's own may still run.  Errs towards yes:
 * one of ours that is starting or ending counts as the program's.
 */
static bool program_alive(void)
{
	char state, path[64];
	unsigned flags, live = 0, mine;
	unsigned long gen;
	struct dirent *de;
	DIR *d;

	pthread_mutex_lock(&lock);
	gen = spawns;
	pthread_mutex_unlock(&lock);
	if (!task_stat("/proc/self/stat", &state, &flags))
		return true; /* no /proc: cannot tell (uaio.7) */
	if (state != 'Z' && state != 'X')
		return true; /* the main thread runs */
	d = opendir("/proc/self/task");
	if (!d)
		return true;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%.20s/stat",
			 de->d_name);
		if (task_stat(path, &state, &flags) && state != 'Z' &&
		    state != 'X' && !(flags & (PF_IO_WORKER | PF_USER_WORKER)))
			live++;
	}
	closedir(d);
	/*
	 * Only the program's threads start ours, so a start during the scan
	 * proves one alive.  Without one, each of ours counted now was alive
	 * all along and was seen (they are counted out before they end).
	 */
	pthread_mutex_lock(&lock);
	mine = ours + 1; /* and the watcher */
	if (spawns != gen)
		live = UINT32_MAX;
	pthread_mutex_unlock(&lock);
	return live > mine;
}

static void *watcher_main(void *arg)
{
	unsigned ms = WATCH_MIN_MS;

	(void)arg;
	caller_state = -1;
	pthread_mutex_lock(&lock);
	for (;;) {
		if (live_callers) {
			ms = WATCH_MIN_MS;
			pthread_cond_wait(&cond, &lock);
			continue;
		}
		if (!ours)
			break; /* nothing of ours keeps the process alive */
		pthread_mutex_unlock(&lock);
		if (!program_alive()) {
			uaio__debug("the program's last thread has ended: "
				    "exit(0), as glibc would");
			exit(0);
		}
		pthread_mutex_lock(&lock);
		if (live_callers)
			continue;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)ms * 1000000;
		ts.tv_sec += ts.tv_nsec / 1000000000;
		ts.tv_nsec %= 1000000000;
		pthread_cond_timedwait(&cond, &lock, &ts);
		ms = ms * 2 > WATCH_MAX_MS ? WATCH_MAX_MS : ms * 2;
	}
	watcher_running = false;
	pthread_mutex_unlock(&lock);
	return NULL;
}

static int create_blocked(pthread_t *tid, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	pthread_attr_t attr;
	int ret;

	sigfillset(&all);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(tid, &attr, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return -ret;
}

/* Under lock: the watcher runs whenever threads of ours may outlive the
 * program's.  Without it the process waits for ours, as it did before. */
static void watch(void)
{
	pthread_t tid;

	if (watcher_running || live_callers || !ours)
		return;
	if (create_blocked(&tid, watcher_main, NULL) == 0) {
		pthread_detach(tid);
		watcher_running = true;
	}
}

static void caller_gone(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	if (--live_callers == 0) {
		watch();
		pthread_cond_broadcast(&cond);
	}
	pthread_mutex_unlock(&lock);
}

pid_t uaio__tid(void)
{
	if (unlikely(!my_tid))
		my_tid = (pid_t)syscall(SYS_gettid);
	return my_tid;
}

void uaio__note_caller_slow(void)
{
	pthread_once(&once, init);
	caller_state = 1;
	if (pthread_setspecific(caller_key, (void *)1))
		return; /* never counted out, so never counted in */
	pthread_mutex_lock(&lock);
	live_callers++;
	pthread_mutex_unlock(&lock);
}

static void *thread_start(void *arg)
{
	struct start s, **p;
	void *ret;

	pthread_mutex_lock(&lock);
	s = *(struct start *)arg;
	for (p = &starting; *p != arg; p = &(*p)->next)
		;
	*p = s.next; /* read under the lock: a neighbour's start changes it */
	pthread_mutex_unlock(&lock);
	free(arg);
	caller_state = -1;
	ret = s.fn(s.arg);
	/* Counted out while the task still runs: errs towards "alive". */
	pthread_mutex_lock(&lock);
	ours--;
	pthread_mutex_unlock(&lock);
	return ret;
}

int uaio__spawn(pthread_t *tid, void *(*fn)(void *), void *arg)
{
	struct start *s = malloc(sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	pthread_once(&once, init);
	s->fn = fn;
	s->arg = arg;
	pthread_mutex_lock(&lock);
	ours++;
	spawns++;
	s->next = starting;
	starting = s;
	ret = create_blocked(tid, thread_start, s);
	if (ret) {
		ours--;
		starting = s->next;
		free(s);
	} else {
		watch();
	}
	pthread_mutex_unlock(&lock);
	return ret;
}

/* A call that the exit() of a signal handler interrupted on this thread. */
static struct uaio_ctx *interrupted;

/* Destroy every live context, or leave it to the kernel's exit_aio(). */
static void exit_context(unsigned long handle)
{
	struct uaio_ctx *c = uaio__ctx_get(handle);

	if (!c)
		return;
	if (c->engine->flags & UAIO_ENGINE_KERNEL_HANDLE) {
		if (c->stats)
			uaio__stats_report(c);
		uaio__ctx_put(c);
		return;
	}
	c->abandoned = interrupted == c;
	if (uaio__ctx_kill(c))
		uaio__ctx_destroy(c, interrupted == c);
	else
		uaio__ctx_put(c);
}

static void *exit_contexts_main(void *arg)
{
	uaio__ctx_foreach(exit_context);
	sem_post(arg);
	return NULL;
}

/*
 * exit() from a signal handler that interrupted a call of ours: that call
 * never returns, and may hold any lock of its engine (the io_uring's
 * shared by every context), or ring slots it had reserved.  Destroying the
 * contexts on this thread could then wait for ever; a thread of ours does
 * it, and the exit waits for it at most IN_CALL_EXIT_S.  False when no
 * such thread could be started.
 */
#define IN_CALL_EXIT_S 3
static bool exit_contexts_aside(void)
{
	static sem_t done;
	struct timespec dl;
	pthread_t tid;

	if (sem_init(&done, 0, 0))
		return false;
	if (create_blocked(&tid, exit_contexts_main, &done))
		return false;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += IN_CALL_EXIT_S;
	while (sem_timedwait(&done, &dl))
		if (errno != EINTR) {
			uaio__debug("exit from a signal handler inside a "
				    "call: contexts not destroyed after %d s, "
				    "their requests in flight left as they are",
				    IN_CALL_EXIT_S);
			return true;
		}
	pthread_join(tid, NULL);
	return true;
}

__attribute__((destructor)) static void uaio_exit(void)
{
	bool in_call = (interrupted = uaio__ctx_held()) != NULL;

	if (!in_call || !exit_contexts_aside())
		uaio__ctx_foreach(exit_context);
	/* Not from a handler that interrupted a call of ours: that call
	 * never returns, and another thread's io_destroy may wait for what
	 * it was doing (its reference, a write inside io_submit). */
	if (!in_call)
		uaio__destroy_wait_others();
}
