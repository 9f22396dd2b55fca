/*
 * arena.c - where the emulated engines' rings live.
 *
 * A ring is seen at two addresses.  The program's (the context handle) is
 * its to read, write and even move: the kernel supports mremap() of an AIO
 * ring (aio_ring_mremap()) and CRIU relies on it.  The library's own is an
 * alias of the same pages that the program never sees, through which the
 * completion path writes events; so a ring the program moves or unmaps
 * under a request in flight never makes a library thread fault.
 *
 * Rings are carved out of chunks of shared anonymous memory, each mapped
 * twice (the alias by mremap() with an old size of 0, which duplicates a
 * shared mapping, or a memfd where that is refused); neighbouring rings of a
 * chunk are one mapping, so tens of thousands of contexts stay far below
 * vm.max_map_count, as the kernel's own rings do not.  Being shared, a ring is
 * shared with a forked child, as the kernel's is; the child's new rings come
 * from chunks of its own.
 *
 * A freed ring's pages go back to the chunk, and for a big ring to the
 * system (MADV_REMOVE); a ring that the program moved leaves a hole in its
 * chunk's program mapping, so its pages are never handed out again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ring.h"

#define CHUNK_PAGES 256u
#define KEEP_PAGES 4u /* freed rings this small keep their pages */

struct chunk {
	char *user, *alias;
	unsigned pages;
	uint64_t *used; /* a bit per page: allocated, or a hole */
	/* Inherited from the parent of a fork, whose pages these still are:
	 * its free runs are its to hand out, not ours. */
	bool forked;
	struct chunk *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct chunk *chunks;
static size_t page_size;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* A fork that another thread's arena_alloc() or arena_free() races
 * leaves the child a consistent list and a free lock. */
static void atfork_prepare(void)
{
	pthread_mutex_lock(&lock);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&lock);
}

/*
 * The chunks are shared with the parent, and so are their free pages: had
 * both allocated from them, a context of each would share one ring (the
 * child's completions in the parent's ring).  The child takes new chunks.
 */
static void atfork_child(void)
{
	for (struct chunk *ch = chunks; ch; ch = ch->next)
		ch->forked = true;
	pthread_mutex_init(&lock, NULL);
}

static void atfork_init(void)
{
	uaio__atfork(atfork_prepare, atfork_parent, atfork_child);
}

static bool bit(const uint64_t *map, unsigned i)
{
	return map[i / 64] >> (i % 64) & 1;
}

static void set_bits(uint64_t *map, unsigned from, unsigned n, bool on)
{
	for (unsigned i = from; i < from + n; i++) {
		if (on)
			map[i / 64] |= 1ull << (i % 64);
		else
			map[i / 64] &= ~(1ull << (i % 64));
	}
}

/* First fit: the first run of n free pages, or -1. */
static long find_run(const struct chunk *ch, unsigned n)
{
	unsigned run = 0;

	for (unsigned i = 0; i < ch->pages; i++) {
		run = bit(ch->used, i) ? 0 : run + 1;
		if (run == n)
			return (long)(i + 1 - n);
	}
	return -1;
}

/*
 * Fresh shared pages at two addresses.  Where mremap() will not duplicate
 * a mapping (valgrind does not emulate an old size of 0), a memfd mapped
 * twice gives the same; its descriptor is held only for the two mmap()s.
 */
static int map_twice(size_t bytes, char **user, char **alias)
{
	int fd;

	*user = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (*user == MAP_FAILED)
		return -1;
	*alias = mremap(*user, 0, bytes, MREMAP_MAYMOVE);
	if (*alias != MAP_FAILED)
		return 0;
	munmap(*user, bytes);
	fd = memfd_create("uaio-rings", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	*user = MAP_FAILED;
	*alias = MAP_FAILED;
	if (!ftruncate(fd, (off_t)bytes)) {
		*user = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
			     fd, 0);
		*alias = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
			      fd, 0);
	}
	close(fd);
	if (*user != MAP_FAILED && *alias != MAP_FAILED)
		return 0;
	if (*user != MAP_FAILED)
		munmap(*user, bytes);
	if (*alias != MAP_FAILED)
		munmap(*alias, bytes);
	return -1;
}

static struct chunk *chunk_new(unsigned pages)
{
	size_t bytes = (size_t)pages * page_size;
	struct chunk *ch = calloc(1, sizeof(*ch));

	if (!ch)
		return NULL;
	ch->used = calloc((pages + 63) / 64, sizeof(uint64_t));
	if (!ch->used || map_twice(bytes, &ch->user, &ch->alias))
		goto fail;
	ch->pages = pages;
	return ch;
fail:
	free(ch->used);
	free(ch);
	return NULL;
}

int arena_alloc(size_t bytes, char **user, char **alias)
{
	unsigned n;
	struct chunk *ch;
	long at = -1;

	pthread_once(&atfork_once, atfork_init);
	pthread_mutex_lock(&lock);
	if (!page_size)
		page_size = (size_t)sysconf(_SC_PAGESIZE);
	n = (unsigned)((bytes + page_size - 1) / page_size);
	for (ch = chunks; ch; ch = ch->next)
		if (!ch->forked && (at = find_run(ch, n)) >= 0)
			break;
	if (!ch) {
		/* A ring bigger than half a chunk gets one of its own. */
		ch = chunk_new(n > CHUNK_PAGES / 2 ? n : CHUNK_PAGES);
		if (!ch) {
			pthread_mutex_unlock(&lock);
			return -ENOMEM;
		}
		ch->next = chunks;
		chunks = ch;
		at = 0;
	}
	set_bits(ch->used, (unsigned)at, n, true);
	*user = ch->user + (size_t)at * page_size;
	*alias = ch->alias + (size_t)at * page_size;
	pthread_mutex_unlock(&lock);
	return 0;
}

void arena_free(char *alias, size_t bytes, char *user_now)
{
	unsigned n;
	struct chunk *ch;

	pthread_mutex_lock(&lock);
	n = (unsigned)((bytes + page_size - 1) / page_size);
	for (ch = chunks; ch; ch = ch->next)
		if (alias >= ch->alias &&
		    alias < ch->alias + (size_t)ch->pages * page_size)
			break;
	if (ch) {
		size_t off = (size_t)(alias - ch->alias);

		/*
		 * A stale handle must not look like a ring (the magic goes);
		 * the pages of a big ring go back to the system, a small
		 * one's stay for the next ring (a system call saved on a
		 * setup and destroy).
		 */
		((struct aio_ring *)alias)->magic = 0;
		if (n > KEEP_PAGES)
			madvise(alias, (size_t)n * page_size, MADV_REMOVE);
		if (user_now == ch->user + off) {
			set_bits(ch->used, (unsigned)(off / page_size), n,
				 false);
		} else {
			/* Moved by the program: unmapped, as the kernel
			 * unmaps a destroyed ring; its old place stays a
			 * hole (its bits stay set). */
			munmap(user_now, (size_t)n * page_size);
		}
	}
	pthread_mutex_unlock(&lock);
}
