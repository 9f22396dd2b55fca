/*
 * bench-child.c - one cell of uaio bench, in a process of its own.
 *
 * The loop keeps `depth` random bs-aligned requests in flight: it submits
 * every free slot in one io_submit, waits for at least one completion,
 * takes all there are and refills.  A request's latency runs from just
 * before the io_submit that carried it to just after the io_getevents that
 * returned it, so time spent inside io_submit (kernel AIO does buffered
 * reads there) counts.  Every completion is checked for a full block: an
 * engine that fails requests must not look fast.
 *
 * Protocol on stdout (a pipe to the driver), one line each:
 *   p OPS NS                       progress: completions so far, time
 *   r OPS NS MEAN P50 P99 MAX SUB  result: completions in NS, latencies in
 *                                  ns, SUB = ns in io_submit per request
 *   u REASON                       cannot run here (exit 77)
 *   e REASON                       failed (exit 1)
 */
#include "bench.h"
#include "tool.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uaio.h>

struct aio_fns {
	int (*setup)(int, io_context_t *);
	int (*submit)(io_context_t, long, struct iocb **);
	int (*getevents)(io_context_t, long, long, struct io_event *,
			 struct timespec *);
	int (*destroy)(io_context_t);
};

static int __attribute__((format(printf, 2, 3)))
report(int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	msg[strcspn(msg, "\n")] = 0;
	dprintf(STDOUT_FILENO, "%c %s\n", status == BENCH_EXIT_NA ? 'u' : 'e',
		msg);
	return status;
}

static void *sym(void *h, const char *name, const char *version)
{
	void *p = dlvsym(h, name, version);

	return p ? p : dlsym(h, name);
}

/* The system libaio, loaded beside uaio's under its own handle: its
 * functions are plain syscall wrappers, so the two do not meet. */
static int load_system(const char *path, struct aio_fns *f)
{
	void *h;

	if (!path || !*path)
		return report(BENCH_EXIT_NA, "no system libaio found");
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return report(BENCH_EXIT_NA, "cannot load %s: %s", path,
			      dlerror());
	if (dlsym(h, "uaio_version"))
		return report(1, "%s is uaio's libaio.so.1, not the system's",
			      path);
	*(void **)&f->setup = sym(h, "io_setup", "LIBAIO_0.4");
	*(void **)&f->submit = sym(h, "io_submit", "LIBAIO_0.1");
	*(void **)&f->getevents = sym(h, "io_getevents", "LIBAIO_0.4");
	*(void **)&f->destroy = sym(h, "io_destroy", "LIBAIO_0.4");
	if (!f->setup || !f->submit || !f->getevents || !f->destroy)
		return report(1, "%s lacks the libaio functions", path);
	return 0;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

/*
 * Block numbers in a random order without repeats, as fio's random map
 * gives by default: without it an "uncached" cell would partly re-read
 * blocks it cached itself.  A bijection on k-bit numbers (xorshift and odd
 * multiplies) applied to a counter, skipping values past the file; a new
 * pass, with a new key, when all 2^k have been used.
 */
struct perm {
	uint64_t i, key, mask, nblocks;
	unsigned shift;
	uint64_t passes;
};

static void perm_init(struct perm *p, uint64_t nblocks, uint64_t *seed)
{
	unsigned k = 1;

	while (k < 64 && (1ull << k) < nblocks)
		k++;
	p->mask = k == 64 ? ~0ull : (1ull << k) - 1;
	p->shift = k / 2 ? k / 2 : 1;
	p->nblocks = nblocks;
	p->key = xorshift(seed);
	p->i = 0;
	p->passes = 0;
}

static uint64_t perm_next(struct perm *p, uint64_t *seed)
{
	for (;;) {
		uint64_t x = (p->i + p->key) & p->mask;

		for (int r = 0; r < 3; r++) {
			x ^= x >> p->shift;
			x = (x * 0x9e3779b97f4a7c15ull) & p->mask;
		}
		x ^= x >> p->shift;
		if (p->i++ == p->mask) {
			p->i = 0;
			p->key = xorshift(seed);
			p->passes++;
		}
		if (x < p->nblocks)
			return x;
	}
}

struct slot {
	struct iocb cb;
	uint64_t t_submit;
};

int bench_child(const struct bench_cell *c)
{
	struct aio_fns f = {io_setup, io_submit, io_getevents, io_destroy};
	uint64_t nblocks = c->size / c->bs, seed = c->seed | 1;
	uint64_t done = 0, lat_sum = 0, lat_max = 0, sub_ns = 0, sub_ops = 0;
	uint64_t t0, deadline, next_progress, elapsed = 0;
	struct slot *slots;
	struct perm perm;
	struct iocb **freel, **batch;
	struct io_event *ev;
	uint64_t *hist;
	io_context_t ctx = 0;
	unsigned nfree, inflight = 0;
	bool stopping = false;
	char path[64], *bufs;
	int fd, r, flags;

	if (c->impl == IMPL_LIBAIO) {
		r = load_system(c->syslib, &f);
		if (r)
			return r;
	}

	snprintf(path, sizeof(path), "/proc/self/fd/%d", c->fd);
	flags = (c->rw == RW_READ ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	if (c->mode == MODE_DIRECT)
		flags |= O_DIRECT;
	fd = open(path, flags);
	if (fd < 0 && c->mode == MODE_DIRECT && errno == EINVAL)
		return report(BENCH_EXIT_NA,
			      "the file system does not support O_DIRECT");
	if (fd < 0)
		return report(1, "open: %s", strerror(errno));
	close(c->fd);
	/* As fio does by default: no readahead behind random reads. */
	if (c->mode != MODE_DIRECT)
		posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);

	slots = calloc(c->depth, sizeof(*slots));
	freel = calloc(c->depth, sizeof(*freel));
	batch = calloc(c->depth, sizeof(*batch));
	ev = calloc(c->depth, sizeof(*ev));
	hist = calloc(HIST_N, sizeof(*hist));
	if (!slots || !freel || !batch || !ev || !hist ||
	    posix_memalign((void **)&bufs, 4096, c->depth * c->bs))
		return report(1, "out of memory");
	/* Distinct, incompressible data; faulted in before timing. */
	for (uint64_t i = 0; i + 8 <= c->depth * c->bs; i += 8) {
		uint64_t v = xorshift(&seed);

		memcpy(bufs + i, &v, 8);
	}

	r = f.setup((int)c->depth, &ctx);
	if (r < 0)
		return report(r == -ENOSYS || r == -EPERM || r == -EAGAIN
				  ? BENCH_EXIT_NA
				  : 1,
			      "io_setup(%u): %s", c->depth, strerror(-r));
	if (c->impl != IMPL_LIBAIO) {
		char name[UAIO_ENGINE_NAME_MAX] = "?";

		uaio_engine(ctx, name, sizeof(name));
		if (strcmp(name, bench_impl_name[c->impl]))
			return report(1,
				      "asked for engine %s, the context runs "
				      "on %s",
				      bench_impl_name[c->impl], name);
	}
	for (unsigned i = 0; i < c->depth; i++)
		freel[i] = &slots[i].cb;
	nfree = c->depth;
	perm_init(&perm, nblocks, &seed);

	t0 = now_ns();
	deadline = t0 + (uint64_t)(c->duration * 1e9);
	next_progress = t0 + 200000000;
	for (;;) {
		unsigned n = 0;
		uint64_t t1, t2;
		int got;

		while (!stopping && nfree) {
			struct iocb *cb = freel[--nfree];
			unsigned i = (unsigned)((struct slot *)cb - slots);
			uint64_t off = perm_next(&perm, &seed) * c->bs;
			bool rd = c->rw == RW_READ ||
				  (c->rw == RW_MIX &&
				   xorshift(&seed) % 100 < c->rwmix);

			if (rd)
				io_prep_pread(cb, fd, bufs + i * c->bs, c->bs,
					      (long long)off);
			else
				io_prep_pwrite(cb, fd, bufs + i * c->bs, c->bs,
					       (long long)off);
			batch[n++] = cb;
		}
		if (n) {
			t1 = now_ns();
			for (unsigned i = 0; i < n; i++)
				((struct slot *)batch[i])->t_submit = t1;
			r = f.submit(ctx, n, batch);
			t2 = now_ns();
			if (r < 0 && !(r == -EAGAIN && inflight))
				return report(1, "io_submit(%u): %s", n,
					      strerror(-r));
			if (r < 0)
				r = 0;
			sub_ns += t2 - t1;
			sub_ops += (unsigned)r;
			/* What was not taken goes back on the free list. */
			for (unsigned i = (unsigned)r; i < n; i++)
				freel[nfree++] = batch[i];
			inflight += (unsigned)r;
		}
		if (!inflight)
			break;
		got = f.getevents(ctx, 1, c->depth, ev, NULL);
		if (got == -EINTR)
			continue;
		if (got < 0)
			return report(1, "io_getevents: %s", strerror(-got));
		t2 = now_ns();
		for (int i = 0; i < got; i++) {
			struct slot *s = (struct slot *)ev[i].obj;
			long res = (long)ev[i].res;
			uint64_t lat = t2 - s->t_submit;

			if (res != (long)c->bs) {
				const char *what =
				    s->cb.aio_lio_opcode == IO_CMD_PREAD
					? "read"
					: "write";

				if (res >= 0)
					return report(
					    1,
					    "short %s: %ld of %" PRIu64
					    " bytes at offset %lld",
					    what, res, c->bs, s->cb.u.c.offset);
				return report(
				    1,
				    "%s of %" PRIu64
				    " bytes at offset %lld: %s%s",
				    what, c->bs, s->cb.u.c.offset,
				    strerror((int)-res),
				    res == -EINVAL && c->mode == MODE_DIRECT
					? " (O_DIRECT needs --bs to be "
					  "a multiple of the device's "
					  "logical block size)"
					: "");
			}
			freel[nfree++] = &s->cb;
			inflight--;
			if (stopping)
				continue;
			done++;
			lat_sum += lat;
			if (lat > lat_max)
				lat_max = lat;
			hist[hist_bucket(lat)]++;
		}
		if (stopping)
			continue;
		if (t2 >= deadline) {
			stopping = true;
			elapsed = t2 - t0;
		} else if (t2 >= next_progress) {
			dprintf(STDOUT_FILENO, "p %" PRIu64 " %" PRIu64 "\n",
				done, t2 - t0);
			next_progress = t2 + 200000000;
		}
	}
	f.destroy(ctx);
	close(fd);

	if (!done || !elapsed)
		return report(1, "nothing completed");
	{
		uint64_t want50 = (done + 1) / 2, want99 = done - done / 100,
			 seen = 0;
		double p50 = 0, p99 = 0;

		for (unsigned b = 0; b < HIST_N; b++) {
			if (!hist[b])
				continue;
			if (seen < want50 && seen + hist[b] >= want50)
				p50 = hist_value(b);
			if (seen < want99 && seen + hist[b] >= want99)
				p99 = hist_value(b);
			seen += hist[b];
		}
		dprintf(STDOUT_FILENO,
			"r %" PRIu64 " %" PRIu64 " %.1f %.1f %.1f %" PRIu64
			" %.1f\n",
			done, elapsed, (double)lat_sum / (double)done, p50, p99,
			lat_max,
			sub_ops ? (double)sub_ns / (double)sub_ops : 0.0);
	}
	free(slots);
	free(freel);
	free(batch);
	free(ev);
	free(hist);
	free(bufs);
	return 0;
}
