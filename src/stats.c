/*
 * stats.c - per-context statistics for `uaio run --stats`.
 *
 * Off unless UAIO_STATS names a file; then every context counts its
 * requests by opcode, completions, cancellations, errors, the deepest queue
 * and a latency histogram (submit to completion on the emulated engines,
 * submit to reap on the kernel engine, where completions are only seen
 * when reaped), and appends one JSON line to the file when it is destroyed
 * or the process exits.  Off, the hot path pays one predictable branch.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emu.h"
#include "stats.h"

/* Latency buckets: 8 per power of two from 1 ns, enough for 2^40 ns. */
#define SUB 8
#define NBUCKETS (41 * SUB)

struct uaio_stats {
	_Atomic unsigned long long ops[CMD_MAX];
	_Atomic unsigned long long completed, cancelled, errors;
	_Atomic unsigned long long paths[EMU_NPATHS]; /* emulated engines */
	_Atomic long depth;
	_Atomic long max_depth;
	_Atomic unsigned long long lat_max;
	_Atomic unsigned long long hist[NBUCKETS];
	/* Kernel engine: submit times by iocb, open addressing. */
	pthread_mutex_t map_lock; /* also guards last_tail */
	unsigned last_tail;
	unsigned map_size;
	struct {
		const void *iocb;
		uint64_t t;
	} * map;
};

static const char *stats_path;
static pthread_once_t stats_once = PTHREAD_ONCE_INIT;

static void kernel_sample(struct uaio_ctx *c);

static void stats_init(void)
{
	const char *p = uaio__getenv("UAIO_STATS");

	/* Contexts still live at exit report from exit.c. */
	if (p && *p)
		stats_path = p;
}

uint64_t uaio__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void uaio__stats_attach(struct uaio_ctx *c, unsigned nr)
{
	struct uaio_stats *s;

	pthread_once(&stats_once, stats_init);
	c->stats = NULL;
	if (!stats_path)
		return;
	s = calloc(1, sizeof(*s));
	if (!s)
		return;
	pthread_mutex_init(&s->map_lock, NULL);
	if ((c->engine->flags & UAIO_ENGINE_KERNEL_HANDLE)) {
		s->map_size = 1;
		while (s->map_size < 2 * nr + 2)
			s->map_size <<= 1;
		s->map = calloc(s->map_size, sizeof(*s->map));
	}
	c->stats = s;
}

void uaio__stats_detach(struct uaio_ctx *c)
{
	struct uaio_stats *s = c->stats;

	if (!s)
		return;
	c->stats = NULL;
	free(s->map);
	pthread_mutex_destroy(&s->map_lock);
	free(s);
}

static unsigned bucket_of(uint64_t ns)
{
	unsigned msb, sub;

	if (ns < SUB)
		return (unsigned)ns;
	msb = 63u - (unsigned)__builtin_clzll(ns);
	sub = (unsigned)(ns >> (msb - 3)) & (SUB - 1);
	unsigned b = (msb - 2) * SUB + sub;
	return b < NBUCKETS ? b : NBUCKETS - 1;
}

static uint64_t bucket_low(unsigned b)
{
	if (b < SUB)
		return b;
	unsigned msb = b / SUB + 2, sub = b % SUB;
	return (1ull << msb) | ((uint64_t)sub << (msb - 3));
}

static void map_put(struct uaio_stats *s, const void *iocb, uint64_t t)
{
	unsigned i = (unsigned)(((uintptr_t)iocb >> 4) * 2654435761u) &
		     (s->map_size - 1);

	for (unsigned n = 0; n < s->map_size;
	     n++, i = (i + 1) & (s->map_size - 1))
		if (!s->map[i].iocb || s->map[i].iocb == iocb) {
			s->map[i].iocb = iocb;
			s->map[i].t = t;
			return;
		}
}

static uint64_t map_take(struct uaio_stats *s, const void *iocb)
{
	unsigned i = (unsigned)(((uintptr_t)iocb >> 4) * 2654435761u) &
		     (s->map_size - 1);

	for (unsigned n = 0; n < s->map_size;
	     n++, i = (i + 1) & (s->map_size - 1)) {
		if (!s->map[i].iocb)
			return 0;
		if (s->map[i].iocb == iocb) {
			uint64_t t = s->map[i].t;
			/* Backward-shift delete keeps probe chains intact. */
			unsigned j = i;
			for (;;) {
				j = (j + 1) & (s->map_size - 1);
				if (!s->map[j].iocb)
					break;
				unsigned h =
				    (unsigned)(((uintptr_t)s->map[j].iocb >>
						4) *
					       2654435761u) &
				    (s->map_size - 1);
				if ((j > i && (h <= i || h > j)) ||
				    (j < i && (h <= i && h > j))) {
					s->map[i] = s->map[j];
					i = j;
				}
			}
			s->map[i].iocb = NULL;
			return t;
		}
	}
	return 0;
}

void uaio__stats_submitted(struct uaio_ctx *c, struct iocb **iocbs, int n)
{
	struct uaio_stats *s = c->stats;
	uint64_t now = s->map ? uaio__now_ns() : 0;

	for (int i = 0; i < n; i++) {
		unsigned op = (unsigned short)iocbs[i]->aio_lio_opcode;
		if (op < CMD_MAX)
			atomic_fetch_add_explicit(&s->ops[op], 1,
						  memory_order_relaxed);
	}
	if (s->map) {
		pthread_mutex_lock(&s->map_lock);
		for (int i = 0; i < n; i++)
			map_put(s, iocbs[i], now);
		pthread_mutex_unlock(&s->map_lock);
	}
	/* The emulated engines report their exact depth themselves. */
	if ((c->engine->flags & UAIO_ENGINE_KERNEL_HANDLE)) {
		kernel_sample(c);
		uaio__stats_depth(c, atomic_fetch_add_explicit(
					 &s->depth, n, memory_order_relaxed) +
					 n);
	}
}

void uaio__stats_depth(struct uaio_ctx *c, long depth)
{
	struct uaio_stats *s = c->stats;
	long m = atomic_load_explicit(&s->max_depth, memory_order_relaxed);

	while (depth > m && !atomic_compare_exchange_weak_explicit(
				&s->max_depth, &m, depth, memory_order_relaxed,
				memory_order_relaxed))
		;
}

/* An event's result and latency, once it is seen. */
static void stats_event(struct uaio_stats *s, uint64_t t_submit, long res)
{
	uint64_t lat = t_submit ? uaio__now_ns() - t_submit : 0;

	if (res == -ECANCELED)
		atomic_fetch_add_explicit(&s->cancelled, 1,
					  memory_order_relaxed);
	else if (res < 0)
		atomic_fetch_add_explicit(&s->errors, 1, memory_order_relaxed);
	if (!t_submit)
		return;
	atomic_fetch_add_explicit(&s->hist[bucket_of(lat)], 1,
				  memory_order_relaxed);
	unsigned long long m =
	    atomic_load_explicit(&s->lat_max, memory_order_relaxed);
	while (lat > m && !atomic_compare_exchange_weak_explicit(
			      &s->lat_max, &m, lat, memory_order_relaxed,
			      memory_order_relaxed))
		;
}

void uaio__stats_completed(struct uaio_ctx *c, uint64_t t_submit, long res,
			   unsigned path)
{
	struct uaio_stats *s = c->stats;

	atomic_fetch_add_explicit(&s->completed, 1, memory_order_relaxed);
	if (path < EMU_NPATHS)
		atomic_fetch_add_explicit(&s->paths[path], 1,
					  memory_order_relaxed);
	stats_event(s, t_submit, res);
}

/*
 * Kernel engine: completions counted from the ring's tail, so that programs
 * which reap the ring themselves (QEMU, fio's userspace_reap) are counted.
 * Between two samples fewer than nr events can be produced (at most nr - 1
 * requests are in flight and every submit samples), so the distance modulo
 * nr is exact.
 */
static void kernel_sample(struct uaio_ctx *c)
{
	struct uaio_stats *s = c->stats;
	const struct aio_ring *r =
	    (const struct aio_ring *)atomic_load(&c->handle);
	unsigned tail, n;

	pthread_mutex_lock(&s->map_lock);
	tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	n = (tail + r->nr - s->last_tail) % r->nr;
	s->last_tail = tail;
	pthread_mutex_unlock(&s->map_lock);
	atomic_fetch_add_explicit(&s->completed, n, memory_order_relaxed);
	atomic_fetch_sub_explicit(&s->depth, n, memory_order_relaxed);
}

void uaio__stats_reaped(struct uaio_ctx *c, const struct io_event *ev, int n)
{
	struct uaio_stats *s = c->stats;

	kernel_sample(c);
	for (int i = 0; i < n; i++) {
		uint64_t t;
		pthread_mutex_lock(&s->map_lock);
		t = map_take(s, ev[i].obj);
		pthread_mutex_unlock(&s->map_lock);
		stats_event(s, t, (long)ev[i].res);
	}
}

static uint64_t percentile(struct uaio_stats *s, unsigned long long total,
			   double q)
{
	unsigned long long want = (unsigned long long)(q * (double)total + 0.5),
			   seen = 0;

	if (!total)
		return 0;
	if (want < 1)
		want = 1;
	for (unsigned b = 0; b < NBUCKETS; b++) {
		seen += atomic_load_explicit(&s->hist[b], memory_order_relaxed);
		if (seen >= want)
			return bucket_low(b);
	}
	return atomic_load(&s->lat_max);
}

void uaio__stats_report(struct uaio_ctx *c)
{
	static const char *const names[CMD_MAX] = {
	    "pread", "pwrite", "fsync",	 "fdsync", "op4",
	    "poll",  "noop",   "preadv", "pwritev"};
	struct uaio_stats *s = c->stats;
	char line[1024];
	int len, fd;
	unsigned long long total = 0;

	if (!s)
		return;
	if ((c->engine->flags & UAIO_ENGINE_KERNEL_HANDLE))
		kernel_sample(c);
	for (unsigned b = 0; b < NBUCKETS; b++)
		total +=
		    atomic_load_explicit(&s->hist[b], memory_order_relaxed);
	len =
	    snprintf(line, sizeof(line),
		     "{\"pid\":%d,\"ctx\":\"%#lx\",\"engine\":\"%s\",\"ops\":{",
		     (int)getpid(), (unsigned long)atomic_load(&c->handle),
		     uaio__engine_name(c));
	for (unsigned op = 0, first = 1; op < CMD_MAX; op++) {
		if (op == 4 || op == CMD_NOOP)
			continue;
		len += snprintf(line + len, sizeof(line) - (size_t)len,
				"%s\"%s\":%llu", first ? "" : ",", names[op],
				(unsigned long long)atomic_load(&s->ops[op]));
		first = 0;
	}
	len +=
	    snprintf(line + len, sizeof(line) - (size_t)len,
		     "},\"completed\":%llu,\"cancelled\":%llu,\"errors\":%llu,"
		     "\"max_depth\":%ld,\"lat_ns\":{\"p50\":%llu,\"p90\":%llu,"
		     "\"p99\":%llu,\"max\":%llu}}\n",
		     (unsigned long long)atomic_load(&s->completed),
		     (unsigned long long)atomic_load(&s->cancelled),
		     (unsigned long long)atomic_load(&s->errors),
		     (long)atomic_load(&s->max_depth),
		     (unsigned long long)percentile(s, total, 0.50),
		     (unsigned long long)percentile(s, total, 0.90),
		     (unsigned long long)percentile(s, total, 0.99),
		     (unsigned long long)atomic_load(&s->lat_max));
	if (!(c->engine->flags & UAIO_ENGINE_KERNEL_HANDLE) &&
	    len < (int)sizeof(line)) {
		/* Where the requests ran: over the closing "}\n". */
		len -= 2;
		len += snprintf(
		    line + len, sizeof(line) - (size_t)len,
		    ",\"paths\":{\"engine\":%llu,\"inline\":%llu,"
		    "\"kernel_aio\":%llu}}\n",
		    (unsigned long long)atomic_load(&s->paths[PATH_ENGINE]),
		    (unsigned long long)atomic_load(&s->paths[PATH_INLINE]),
		    (unsigned long long)atomic_load(&s->paths[PATH_KAIO]));
	}
	if (len >= (int)sizeof(line))
		len = (int)sizeof(line) - 1;
	/* No lock (a fork could leave it held in the child): one write
	 * per line, O_APPEND keeps threads' and processes' lines whole. */
	fd = open(stats_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		ssize_t w = write(fd, line, (size_t)len);
		(void)w;
		close(fd);
	}
}
