/*
 * engine.c - choosing the engine of a context at io_setup.
 *
 * The preference list comes from uaio_setup(), else UAIO_ENGINE, else
 * "auto": uring, then threads, each as a hybrid that sends every request
 * where it runs best (O_DIRECT to the kernel's AIO, cached reads done
 * inside io_submit, the rest to io_uring or the pool), then the kernel
 * engine (alone when the program's raw AIO calls cannot reach uaio, as
 * with the system's libaio).  Each engine is tried in turn; one that
 * fails for a reason of the host (ENOSYS, EPERM from seccomp, EAGAIN from a
 * system-wide fs.aio-nr that others used up, io_uring_disabled) hands over
 * to the next, and the reason is kept with the context.  An unknown name is
 * an error, never a silent fallback.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "stats.h"
#include "uaccess.h"

/* For messages: the names of UAIO_ENGINE_NAMES, comma-separated. */
#define KNOWN "kernel, uring, threads"

/* The built-in engines, in auto's order. */
static const struct uaio_engine *const engines[] = {
#ifdef UAIO_HAVE_URING
    &uaio__engine_uring,
#endif
    &uaio__engine_threads,
    &uaio__engine_kernel,
};
#define NENGINES (sizeof(engines) / sizeof(engines[0]))

static bool debug_on(void)
{
	static int on = -1; /* any thread may be first: atomic */
	int r = __atomic_load_n(&on, __ATOMIC_RELAXED);

	if (r < 0) {
		const char *s = uaio__getenv("UAIO_DEBUG");
		r = s && *s && strcmp(s, "0") != 0;
		__atomic_store_n(&on, r, __ATOMIC_RELAXED);
	}
	return r;
}

void uaio__debug(const char *fmt, ...)
{
	va_list ap;

	if (!debug_on())
		return;
	va_start(ap, fmt);
	fputs("uaio: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

const struct uaio_engine *uaio__engine_by_name(const char *name, size_t len)
{
	for (size_t i = 0; i < NENGINES; i++)
		if (strlen(engines[i]->name) == len &&
		    memcmp(engines[i]->name, name, len) == 0)
			return engines[i];
	return NULL;
}

const char *uaio__engine_name(const struct uaio_ctx *c)
{
	return c->hybrid ? "auto" : c->engine->name;
}

bool uaio__engine_known(const char *name, size_t len)
{
	static const char *const all[] = {UAIO_ENGINE_NAMES};

	for (size_t i = 0; i < UAIO_NENGINES; i++)
		if (strlen(all[i]) == len && memcmp(all[i], name, len) == 0)
			return true;
	return false;
}

/* Append a reason to the list of why engines were skipped. */
static void note(char *reason, size_t rlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void note(char *reason, size_t rlen, const char *fmt, ...)
{
	size_t used = strlen(reason);
	va_list ap;

	if (used && used + 2 < rlen) {
		memcpy(reason + used, "; ", 3);
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(reason + used, rlen - used, fmt, ap);
	va_end(ap);
}

/* An engine to try, and whether as part of auto (uaio_ctx.hybrid). */
struct choice {
	const struct uaio_engine *engine;
	bool hybrid;
};

static void add(struct choice *out, size_t *n, const struct uaio_engine *e,
		bool hybrid)
{
	for (size_t k = 0; k < *n; k++)
		if (out[k].engine == e && out[k].hybrid == hybrid)
			return;
	out[(*n)++] = (struct choice){e, hybrid};
}

/*
 * auto: the emulated engines as hybrids (uring first), each request where
 * it runs best, then the kernel engine.  An emulated context would break a
 * program whose raw calls cannot reach uaio: auto then does what the
 * system's libaio does.
 */
static void add_auto(struct choice *out, size_t *n, char *reason, size_t rlen)
{
	bool routed = uaio__raw_calls_routed();

	for (size_t i = 0; i < NENGINES; i++) {
		const struct uaio_engine *e = engines[i];

		if (e->flags & UAIO_ENGINE_KERNEL_HANDLE)
			add(out, n, e, false);
		else if (routed)
			add(out, n, e, true);
		else
			note(reason, rlen,
			     "%s: not for auto: raw AIO system calls would "
			     "not reach it",
			     e->name);
	}
}

/*
 * Expand a preference list into out[]; duplicates are dropped.  -EINVAL on
 * an unknown or empty name.
 */
static int parse_list(const char *list, struct choice *out, size_t *n,
		      char *reason, size_t rlen)
{
	const char *p = list;

	*n = 0;
	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const struct uaio_engine *e;

		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 4 && memcmp(p, "auto", 4) == 0) {
			add_auto(out, n, reason, rlen);
		} else if ((e = uaio__engine_by_name(p, len))) {
			add(out, n, e, false);
		} else if (uaio__engine_known(p, len)) {
			note(reason, rlen, "%.*s: " UAIO_NOT_BUILT_IN, (int)len,
			     p);
		} else {
			uaio__debug("unknown engine \"%.*s\" in \"%s\" "
				    "(known: auto and " KNOWN ")",
				    (int)len, p, list);
			return -EINVAL;
		}
		if (!end)
			break;
		p = end + 1;
	}
	return 0;
}

/* Errors that say the host refuses an engine, not that the call is wrong. */
static bool host_refusal(int err)
{
	return err != -EINVAL && err != -EFAULT;
}

int uaio__setup(int nr_events, io_context_t *ctxp, const char *list)
{
	struct choice order[2 * NENGINES];
	size_t n, i;
	struct uaio_ctx *c;
	int ret = -ENOSYS;
	static _Atomic bool told;

	uaio__note_caller();
	if (!list || !*list)
		list = uaio__getenv("UAIO_ENGINE");
	if (!list || !*list)
		list = "auto";
	c = uaio__ctx_alloc();
	if (!c)
		return -ENOMEM;
	ret = parse_list(list, order, &n, c->reason, sizeof(c->reason));
	if (ret)
		goto fail;
	ret = -ENOSYS;
	for (i = 0; i < n; i++) {
		c->hybrid = order[i].hybrid;
		ret = order[i].engine->setup(c, (unsigned)nr_events);
		if (ret == 0)
			break;
		if (!host_refusal(ret))
			goto fail;
		note(c->reason, sizeof(c->reason), "%s: io_setup: %s",
		     order[i].engine->name, strerror(-ret));
	}
	if (i == n) {
		uaio__debug("no usable engine in \"%s\": %s", list, c->reason);
		/* Out of descriptors: the kernel's word for a resource limit
		 * of io_setup is EAGAIN (fs.aio-max-nr). */
		if (ret == -EMFILE || ret == -ENFILE)
			ret = -EAGAIN;
		goto fail;
	}
	c->engine = order[i].engine;
	uaio__stats_attach(c, (unsigned)nr_events);
	ret = uaio__ctx_publish(c);
	if (ret) {
		c->engine->kill(c);
		c->engine->destroy(c);
		uaio__stats_detach(c);
		goto fail;
	}
	io_context_t handle = (io_context_t)atomic_load(&c->handle);
	if (uaio__uwrite(ctxp, &handle, sizeof(handle))) {
		/* The kernel kills the context when put_user() fails. */
		io_destroy(handle);
		return -EFAULT;
	}
	if (c->reason[0] && !atomic_exchange(&told, true))
		uaio__debug("context on engine %s%s%s%s: %s",
			    uaio__engine_name(c), c->hybrid ? " (on " : "",
			    c->hybrid ? c->engine->name : "",
			    c->hybrid ? ")" : "", c->reason);
	return 0;
fail:
	uaio__ctx_free(c);
	return ret;
}

unsigned uaio__possible_cpus(void)
{
	static unsigned cached;
	unsigned n = __atomic_load_n(&cached, __ATOMIC_RELAXED);
	FILE *f;

	if (n)
		return n;
	/* The kernel sizes rings by num_possible_cpus(), e.g. "0-1". */
	f = fopen("/sys/devices/system/cpu/possible", "re");
	if (f) {
		char buf[256];
		if (fgets(buf, sizeof(buf), f)) {
			for (char *p = buf; *p && *p != '\n';) {
				unsigned a = (unsigned)strtoul(p, &p, 10),
					 b = a;
				if (*p == '-')
					b = (unsigned)strtoul(p + 1, &p, 10);
				n += b - a + 1;
				if (*p == ',')
					p++;
				else
					break;
			}
		}
		fclose(f);
	}
	if (!n) {
		long c = sysconf(_SC_NPROCESSORS_CONF);
		n = c > 0 ? (unsigned)c : 1;
	}
	__atomic_store_n(&cached, n, __ATOMIC_RELAXED);
	return n;
}

unsigned long uaio__aio_max_nr(void)
{
	static _Atomic unsigned long cached;
	static _Atomic uint64_t read_at;
	uint64_t now = uaio__now_ns();
	unsigned long v = atomic_load_explicit(&cached, memory_order_relaxed);
	FILE *f;

	/* Three system calls for a /proc file: not at every io_setup. */
	if (v && now - atomic_load_explicit(&read_at, memory_order_relaxed) <
		     1000000000ull)
		return v;
	v = 65536; /* the kernel's default */
	f = fopen("/proc/sys/fs/aio-max-nr", "re");
	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 65536;
		fclose(f);
	}
	atomic_store_explicit(&cached, v, memory_order_relaxed);
	atomic_store_explicit(&read_at, now, memory_order_relaxed);
	return v;
}
