/*
 * info-gather.c - the facts uaio info reports, each from its source.
 *
 * Whether an engine is usable is the library's own verdict (uaio_probe, and
 * a real uaio_setup for the automatic choice), so it is what a program would
 * get in this very process: same seccomp filters, same limits.  Beside it
 * come the host facts that explain a refusal, each read from its source
 * (uname, /proc/sys, /proc/self/status) or found by trying (io_setup,
 * io_uring_setup).
 */
#include "info.h"

#include <errno.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "host.h"
#include "raw.h"

const char *const info_engines[NENGINES] = {UAIO_ENGINE_NAMES};

const char *info_result(int err)
{
	return err ? errno_name(err) : "ok";
}

/* Key "name:" of /proc/self/status, as an integer; -1 if absent. */
static int status_field(const char *name)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	size_t n = strlen(name);
	int v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, n) && line[n] == ':') {
			v = atoi(line + n + 1);
			break;
		}
	fclose(f);
	return v;
}

static int find_liburing(struct dl_phdr_info *i, size_t size, void *data)
{
	(void)size;
	if (i->dlpi_name && strstr(i->dlpi_name, "/liburing.so")) {
		snprintf(data, 4096, "%s", i->dlpi_name);
		return 1;
	}
	return 0;
}

static void read_host(struct info *in)
{
	uname(&in->uts);
	if (uaio_lib_path(in->lib, sizeof(in->lib)))
		snprintf(in->lib, sizeof(in->lib), "?");
	if (read_long("/proc/sys/kernel/io_uring_disabled",
		      &in->uring_disabled))
		in->uring_disabled = -1;
	if (read_long("/proc/sys/kernel/io_uring_group", &in->uring_group))
		in->uring_group = -1;
	in->seccomp = status_field("Seccomp");
	in->seccomp_filters = status_field("Seccomp_filters");
	in->no_new_privs = status_field("NoNewPrivs");
	if (read_long("/proc/sys/fs/aio-nr", &in->aio_nr))
		in->aio_nr = -1;
	if (read_long("/proc/sys/fs/aio-max-nr", &in->aio_max_nr))
		in->aio_max_nr = -1;
	in->sys_io_setup = -raw_io_setup();
	in->sys_io_uring_setup = -raw_io_uring_setup();
	dl_iterate_phdr(find_liburing, in->liburing);
}

/* "this process runs under 2 filters" */
static void filtered(char *c, size_t len, const struct info *in,
		     const char *call)
{
	snprintf(c, len,
		 "a seccomp filter denies %s (this process runs under %d "
		 "filter%s)",
		 call, in->seccomp_filters,
		 in->seccomp_filters == 1 ? "" : "s");
}

static void kernel_cause(char *c, size_t len, const struct info *in, int err)
{
	if ((err == ENOSYS || err == EPERM) && in->seccomp == 2)
		filtered(c, len, in, "io_setup");
	else if (err == ENOSYS)
		snprintf(c, len,
			 "the kernel was built without AIO "
			 "(CONFIG_AIO=n)");
	else if (err == EAGAIN && in->aio_max_nr >= 0)
		snprintf(c, len,
			 "fs.aio-max-nr is used up: %lld of %lld events are "
			 "held system-wide",
			 in->aio_nr, in->aio_max_nr);
}

static void uring_cause(char *c, size_t len, const struct info *in, int err)
{
	if (err == ENOPKG)
		snprintf(c, len,
			 "this build of uaio has no uring engine (it "
			 "needs liburing-dev at build time)");
	else if (err == EPERM && in->uring_disabled == 2)
		snprintf(c, len,
			 "kernel.io_uring_disabled = 2: io_uring is "
			 "disabled for everyone");
	else if (err == EPERM && in->uring_disabled == 1)
		snprintf(c, len,
			 "kernel.io_uring_disabled = 1: only members of "
			 "kernel.io_uring_group (%lld) and CAP_SYS_ADMIN may "
			 "use io_uring",
			 in->uring_group);
	else if ((err == EPERM || err == ENOSYS) && in->seccomp == 2)
		filtered(c, len, in, "io_uring_setup");
	else if (err == ENOSYS)
		snprintf(c, len,
			 "the kernel was built without io_uring "
			 "(CONFIG_IO_URING=n)");
	else if (err == ENOMEM)
		snprintf(c, len,
			 "the ring does not fit the locked memory "
			 "limit (ulimit -l)");
}

static void probe_engines(struct info *in)
{
	for (int e = 0; e < NENGINES; e++) {
		int err;

		in->eng[e].ret = uaio_probe(info_engines[e], in->eng[e].why,
					    sizeof(in->eng[e].why));
		err = -in->eng[e].ret;
		if (err && e == 0)
			kernel_cause(in->eng[e].cause, sizeof(in->eng[e].cause),
				     in, err);
		else if (err && e == 1)
			uring_cause(in->eng[e].cause, sizeof(in->eng[e].cause),
				    in, err);
	}
}

/*
 * Where an auto context sends requests: to the first of uring and threads
 * this host runs (as io_setup tried them), O_DIRECT to kernel AIO when it
 * works (uaio.7, "auto").
 */
static void auto_paths(struct info *in, int i)
{
	const char *base = !in->eng[1].ret ? info_engines[1] : info_engines[2];

	in->choice[i].runs_on = base;
	in->choice[i].direct_on = !in->eng[0].ret ? info_engines[0] : base;
}

/* What io_setup() picks with UAIO_ENGINE as set (0) and with auto (1). */
static void probe_choices(struct info *in)
{
	for (int i = 0; i < 2; i++) {
		io_context_t ctx = 0;
		int r = uaio_setup(1, &ctx, i ? "auto" : NULL);

		in->choice[i].ret = r;
		if (r < 0)
			continue;
		if (uaio_engine(ctx, in->choice[i].engine,
				sizeof(in->choice[i].engine)) < 0)
			snprintf(in->choice[i].engine,
				 sizeof(in->choice[i].engine), "?");
		if (uaio_fallback_reason(ctx, in->choice[i].reason,
					 sizeof(in->choice[i].reason)) < 0)
			in->choice[i].reason[0] = 0;
		if (!strcmp(in->choice[i].engine, "auto"))
			auto_paths(in, i);
		io_destroy(ctx);
	}
}

void info_gather(struct info *in)
{
	memset(in, 0, sizeof(*in));
	read_host(in);
	info_probe_rwf(in);
	probe_engines(in);
	probe_choices(in);
}
