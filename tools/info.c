/*
 * info.c - uaio info: which engines this host can run, and why not the
 * others.
 *
 * Whether an engine is usable is the library's own verdict (uaio_probe, and
 * a real uaio_setup for the automatic choice), so it is what a program would
 * get in this very process: same seccomp filters, same limits.  Beside it
 * come the host facts that explain a refusal, each read from its source
 * (uname, /proc/sys, /proc/self/status) or found by trying (io_setup,
 * io_uring_setup, preadv2/pwritev2 with each RWF bit).
 */
#include "tool.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <link.h>
#include <linux/io_uring.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <uaio.h>

#include "rwf.h"

#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#endif

static const char *const engine_names[] = {UAIO_ENGINE_NAMES};
#define NENGINES UAIO_NENGINES

/* The RWF bits uaio knows by name (src/rwf.h); any other bit is probed
 * too. */
#define rwf_known uaio_rwf_flags
#define NKNOWN UAIO_NRWF

/* The files the RWF bits are tried on, each read and written. */
enum { P_PIPE, P_MEMFD, P_FILE, P_DIRECT, NPROBES };

struct rwf_target {
	const char *name;
	char desc[192];
	int rfd, wfd; /* the same fd except for the pipe */
	int err;      /* why it could not be made, 0 if it was */
	char *buf;    /* a 4 KiB aligned block */
};

struct info {
	struct utsname uts;
	char lib[4096];
	long long uring_disabled, uring_group;	    /* -1: absent */
	int seccomp, seccomp_filters, no_new_privs; /* -1: unknown */
	long long aio_nr, aio_max_nr;		    /* -1: unknown */
	int sys_io_setup, sys_io_uring_setup;	    /* 0 or errno */
	char liburing[4096];			    /* loaded liburing, or "" */

	struct rwf_target tgt[NPROBES];
	/* res[bit][target][write]: 0 or errno; -1 not tried */
	int res[32][NPROBES][2];

	struct {
		int ret;
		char why[UAIO_REASON_MAX];
		char cause[256];
	} eng[NENGINES];

	/* What io_setup() would pick with UAIO_ENGINE as it is, and "auto". */
	struct {
		int ret;
		char engine[UAIO_ENGINE_NAME_MAX];
		char reason[UAIO_REASON_MAX];
	} choice[2];
};

static void usage(FILE *f)
{
	fputs("Usage: uaio info [--json]\n"
	      "       uaio info --check ENGINE\n"
	      "\n"
	      "Tell which uaio engines this host can run, and why not the "
	      "others.\n"
	      "\n"
	      "Each engine's verdict is uaio_probe()'s, taken in this "
	      "process, so it holds for\n"
	      "programs started the same way (same seccomp filters, same "
	      "limits).  Beside it:\n"
	      "  - the kernel's release (uname);\n"
	      "  - kernel.io_uring_disabled (0 allowed, 1 only for "
	      "io_uring_group and\n"
	      "    CAP_SYS_ADMIN, 2 disabled) and kernel.io_uring_group;\n"
	      "  - the seccomp state of this process (Seccomp:, "
	      "Seccomp_filters: and\n"
	      "    NoNewPrivs: of /proc/self/status);\n"
	      "  - fs.aio-nr and fs.aio-max-nr (events held system-wide, and "
	      "the limit);\n"
	      "  - what raw io_setup(1) and io_uring_setup(1) calls return "
	      "here;\n"
	      "  - whether liburing is built in (loaded with libaio.so.1);\n"
	      "  - the RWF_* flags the kernel accepts: each of the 32 bits is "
	      "tried with\n"
	      "    preadv2 and pwritev2 on a pipe, a memfd and an unnamed file "
	      "in $TMPDIR\n"
	      "    (buffered and O_DIRECT), all made for the purpose.  A bit "
	      "is accepted when\n"
	      "    any of them takes it; NOWAIT, ATOMIC and DONTCACHE can be "
	      "refused by a\n"
	      "    file (EOPNOTSUPP) although the kernel knows them, so for "
	      "those a refusal\n"
	      "    everywhere is reported as such, with the files tried;\n"
	      "  - the engine io_setup() picks with UAIO_ENGINE as set, and "
	      "with \"auto\"\n"
	      "    (kernel, then uring, then threads), with the recorded "
	      "fallback reason.\n"
	      "\n"
	      "Options:\n"
	      "  --json          print a JSON object instead of text\n"
	      "  --check ENGINE  print nothing and exit 0 if ENGINE (kernel, "
	      "uring or\n"
	      "                  threads) is usable here, else print why on "
	      "stderr and exit 1\n"
	      "  --help          print this help and exit\n"
	      "\n"
	      "Exit status: 0 success (whatever the engines' verdicts, "
	      "unless --check), 1\n"
	      "failure, 2 usage error.\n",
	      f);
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

static int raw_io_setup(void)
{
	unsigned long ctx = 0;

	if (syscall(SYS_io_setup, 1, &ctx))
		return errno;
	syscall(SYS_io_destroy, ctx);
	return 0;
}

static int raw_io_uring_setup(void)
{
	struct io_uring_params p;
	long fd;

	memset(&p, 0, sizeof(p));
	fd = syscall(SYS_io_uring_setup, 1, &p);
	if (fd < 0)
		return errno;
	close((int)fd);
	return 0;
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

/* ---- RWF flags ---- */

static void target_close(struct rwf_target *t)
{
	if (t->wfd >= 0 && t->wfd != t->rfd)
		close(t->wfd);
	if (t->rfd >= 0)
		close(t->rfd);
	t->rfd = t->wfd = -1;
}

static void make_targets(struct info *in)
{
	const char *dir = getenv("TMPDIR");
	struct rwf_target *t = in->tgt;
	char path[64], fsb[32];
	struct statfs sf;
	int p[2], fd;

	if (!dir || !*dir)
		dir = "/tmp";
	for (int i = 0; i < NPROBES; i++) {
		t[i].rfd = t[i].wfd = -1;
		if (posix_memalign((void **)&t[i].buf, 4096, 4096))
			die("out of memory");
		memset(t[i].buf, 'u', 4096);
	}

	t[P_PIPE].name = "pipe";
	snprintf(t[P_PIPE].desc, sizeof(t[P_PIPE].desc), "a pipe");
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0) {
		t[P_PIPE].rfd = p[0];
		t[P_PIPE].wfd = p[1];
	} else {
		t[P_PIPE].err = errno;
	}

	t[P_MEMFD].name = "memfd";
	snprintf(t[P_MEMFD].desc, sizeof(t[P_MEMFD].desc), "a memfd (shmem)");
	fd = memfd_create("uaio-info", MFD_CLOEXEC);
	if (fd >= 0 && pwrite(fd, t[P_MEMFD].buf, 4096, 0) == 4096)
		t[P_MEMFD].rfd = t[P_MEMFD].wfd = fd;
	else
		t[P_MEMFD].err = errno ? errno : EIO;

	t[P_FILE].name = "file";
	t[P_DIRECT].name = "file O_DIRECT";
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		char tmpl[4096];

		snprintf(tmpl, sizeof(tmpl), "%s/uaio-info.XXXXXX", dir);
		fd = mkostemp(tmpl, O_CLOEXEC);
		if (fd >= 0)
			unlink(tmpl);
	}
	if (fd >= 0 && fstatfs(fd, &sf) == 0)
		snprintf(t[P_FILE].desc, sizeof(t[P_FILE].desc),
			 "an unnamed file in %.120s (%s)", dir,
			 fs_name(sf.f_type, fsb, sizeof(fsb)));
	else
		snprintf(t[P_FILE].desc, sizeof(t[P_FILE].desc),
			 "an unnamed file in %.120s", dir);
	memcpy(t[P_DIRECT].desc, t[P_FILE].desc, sizeof(t[P_DIRECT].desc) - 16);
	t[P_DIRECT].desc[sizeof(t[P_DIRECT].desc) - 16] = 0;
	strcat(t[P_DIRECT].desc, ", with O_DIRECT");
	if (fd < 0 || pwrite(fd, t[P_FILE].buf, 4096, 0) != 4096 || fsync(fd)) {
		t[P_FILE].err = t[P_DIRECT].err = errno ? errno : EIO;
		if (fd >= 0)
			close(fd);
		return;
	}
	t[P_FILE].rfd = t[P_FILE].wfd = fd;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	fd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd >= 0)
		t[P_DIRECT].rfd = t[P_DIRECT].wfd = fd;
	else
		t[P_DIRECT].err = errno;
}

static void pipe_drain(int fd)
{
	char b[256];

	while (read(fd, b, sizeof(b)) > 0)
		;
}

/*
 * The raw calls: glibc's wrappers turn ENOSYS (a seccomp filter, an old
 * kernel) into EOPNOTSUPP whenever flags are set, which would pass a denied
 * call off as a refused flag.
 */
static long raw_rw2(bool wr, int fd, const struct iovec *iov, off_t off,
		    unsigned flags)
{
	unsigned long lo = (unsigned long)off, hi = 0;

#if __SIZEOF_LONG__ == 4
	hi = (unsigned long)((unsigned long long)off >> 32);
#endif
	return syscall(wr ? SYS_pwritev2 : SYS_preadv2, fd, iov, 1, lo, hi,
		       flags);
}

/* One preadv2/pwritev2 with flag; 0 or errno.  Never blocks: the pipe is
 * non-blocking and holds a byte before a read. */
static int try_rwf(struct rwf_target *t, int kind, bool wr, unsigned flag)
{
	struct iovec iov = {.iov_base = t->buf, .iov_len = 1};
	off_t off = 0;
	ssize_t r;
	int err;

	if (kind == P_PIPE) {
		off = -1;
		pipe_drain(t->rfd);
		if (!wr && write(t->wfd, "u", 1) != 1)
			return errno;
	}
	if (kind == P_DIRECT)
		iov.iov_len = 4096;
	r = raw_rw2(wr, wr ? t->wfd : t->rfd, &iov, off, flag);
	err = r < 0 ? errno : 0;
	if (kind == P_PIPE)
		pipe_drain(t->rfd);
	return err;
}

static void probe_rwf(struct info *in)
{
	make_targets(in);
	for (unsigned b = 0; b < 32; b++)
		for (int k = 0; k < NPROBES; k++)
			for (int w = 0; w < 2; w++)
				in->res[b][k][w] =
				    in->tgt[k].err
					? -1
					: try_rwf(&in->tgt[k], k, w, 1u << b);
	for (int k = 0; k < NPROBES; k++) {
		target_close(&in->tgt[k]);
		free(in->tgt[k].buf);
	}
}

enum rwf_verdict {
	RWF_ACCEPTED, /* some file took it: the kernel knows the bit */
	RWF_PER_FILE, /* EOPNOTSUPP everywhere, but files may refuse it */
	RWF_UNKNOWN,  /* EOPNOTSUPP everywhere: not in the kernel's set */
	RWF_UNPROBED, /* the calls themselves failed (ENOSYS, EPERM...) */
};

static const char *rwf_per_file(unsigned bit)
{
	for (size_t i = 0; i < NKNOWN; i++)
		if (rwf_known[i].bit == bit)
			return rwf_known[i].per_file;
	return NULL;
}

static const char *rwf_name(unsigned bit)
{
	for (size_t i = 0; i < NKNOWN; i++)
		if (rwf_known[i].bit == bit)
			return rwf_known[i].name;
	return NULL;
}

/*
 * The kernel checks the flags before anything else that could fail here,
 * and only unknown bits and file-dependent ones give EOPNOTSUPP, so any
 * other outcome, errors included (an atomic write of the wrong size gets
 * EINVAL), proves the bit is known.  ENOSYS and EPERM come from a seccomp
 * filter on the call itself and prove nothing.
 */
static enum rwf_verdict rwf_verdict(const struct info *in, unsigned b,
				    int *blocked_err)
{
	bool tried = false;

	*blocked_err = 0;
	for (int k = 0; k < NPROBES; k++)
		for (int w = 0; w < 2; w++) {
			int r = in->res[b][k][w];

			if (r < 0)
				continue;
			if (r == ENOSYS || r == EPERM) {
				*blocked_err = r;
				continue;
			}
			tried = true;
			if (r != EOPNOTSUPP)
				return RWF_ACCEPTED;
		}
	if (!tried)
		return RWF_UNPROBED;
	return rwf_per_file(1u << b) ? RWF_PER_FILE : RWF_UNKNOWN;
}

/* ---- engines ---- */

static void diagnose(struct info *in, int e)
{
	char *c = in->eng[e].cause;
	size_t len = sizeof(in->eng[e].cause);
	int err = -in->eng[e].ret;
	bool filtered = in->seccomp == 2;
	if (!err)
		return;
	if (e == 0) {
		if ((err == ENOSYS || err == EPERM) && filtered)
			snprintf(c, len,
				 "a seccomp filter denies io_setup (this "
				 "process runs under %d filter%s)",
				 in->seccomp_filters,
				 in->seccomp_filters == 1 ? "" : "s");
		else if (err == ENOSYS)
			snprintf(c, len,
				 "the kernel was built without AIO "
				 "(CONFIG_AIO=n)");
		else if (err == EAGAIN && in->aio_max_nr >= 0)
			snprintf(c, len,
				 "fs.aio-max-nr is used up: %lld of %lld "
				 "events are held system-wide",
				 in->aio_nr, in->aio_max_nr);
		return;
	}
	if (e == 1) {
		if (err == ENOPKG)
			snprintf(c, len,
				 "this build of uaio has no uring "
				 "engine (it needs liburing-dev at "
				 "build time)");
		else if (err == EPERM && in->uring_disabled == 2)
			snprintf(c, len,
				 "kernel.io_uring_disabled = 2: "
				 "io_uring is disabled for everyone");
		else if (err == EPERM && in->uring_disabled == 1)
			snprintf(c, len,
				 "kernel.io_uring_disabled = 1: only members "
				 "of kernel.io_uring_group (%lld) and "
				 "CAP_SYS_ADMIN may use io_uring",
				 in->uring_group);
		else if ((err == EPERM || err == ENOSYS) && filtered)
			snprintf(c, len,
				 "a seccomp filter denies io_uring_setup (this "
				 "process runs under %d filter%s)",
				 in->seccomp_filters,
				 in->seccomp_filters == 1 ? "" : "s");
		else if (err == ENOSYS)
			snprintf(c, len,
				 "the kernel was built without "
				 "io_uring (CONFIG_IO_URING=n)");
		else if (err == ENOMEM)
			snprintf(c, len,
				 "the ring does not fit the locked "
				 "memory limit (ulimit -l)");
	}
}

static void probe_engines(struct info *in)
{
	for (int e = 0; e < NENGINES; e++) {
		in->eng[e].ret = uaio_probe(engine_names[e], in->eng[e].why,
					    sizeof(in->eng[e].why));
		diagnose(in, e);
	}
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
		io_destroy(ctx);
	}
}

static void gather(struct info *in)
{
	memset(in, 0, sizeof(*in));
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
	in->sys_io_setup = raw_io_setup();
	in->sys_io_uring_setup = raw_io_uring_setup();
	dl_iterate_phdr(find_liburing, in->liburing);
	probe_rwf(in);
	probe_engines(in);
}

/* ---- output ---- */

/* "  label   text", text wrapped at 78 columns under itself. */
static void wrapped(const char *label, const char *text)
{
	const int indent = 22, width = 78;
	int col = printf("  %-*s", indent - 2, label);

	if (col > indent) {
		printf("\n%*s", indent, "");
		col = indent;
	}
	while (*text) {
		int n = (int)strcspn(text, " ");

		if (col > indent && col + 1 + n > width) {
			printf("\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			putchar(' ');
			col++;
		}
		col += printf("%.*s", n, text);
		text += n;
		while (*text == ' ')
			text++;
	}
	putchar('\n');
}

static const char *seccomp_mode_name(int m)
{
	switch (m) {
	case 0:
		return "disabled";
	case 1:
		return "strict";
	case 2:
		return "filter";
	default:
		return "unknown";
	}
}

static const char *sys_result(int err)
{
	return err ? errno_name(err) : "ok";
}

static void print_text(const struct info *in)
{
	int blocked;

	printf("uaio %s, libaio.so.1 from %s\n", uaio_version(), in->lib);
	printf("\nhost\n");
	printf("  kernel              %s %s %s\n", in->uts.sysname,
	       in->uts.release, in->uts.machine);
	if (in->uring_disabled < 0)
		printf("  io_uring_disabled   absent (kernel before 6.6: "
		       "io_uring is not switched off by sysctl)\n");
	else
		printf("  io_uring_disabled   %lld (%s)\n", in->uring_disabled,
		       in->uring_disabled == 0	 ? "io_uring allowed"
		       : in->uring_disabled == 1 ? "only io_uring_group and "
						   "CAP_SYS_ADMIN"
						 : "io_uring disabled");
	if (in->seccomp < 0)
		printf("  seccomp             unknown (no Seccomp: in "
		       "/proc/self/status)\n");
	else
		printf("  seccomp             mode %d (%s), %d filter%s, "
		       "no_new_privs %d\n",
		       in->seccomp, seccomp_mode_name(in->seccomp),
		       in->seccomp_filters > 0 ? in->seccomp_filters : 0,
		       in->seccomp_filters == 1 ? "" : "s", in->no_new_privs);
	if (in->aio_max_nr < 0)
		printf("  fs.aio-nr           unknown (no /proc/sys/fs/aio-nr: "
		       "no kernel AIO?)\n");
	else
		printf("  fs.aio-nr           %lld of fs.aio-max-nr %lld\n",
		       in->aio_nr, in->aio_max_nr);
	printf("  io_setup(1)         %s\n", sys_result(in->sys_io_setup));
	printf("  io_uring_setup(1)   %s\n",
	       sys_result(in->sys_io_uring_setup));
	if (in->liburing[0])
		printf("  liburing            built in (%s)\n", in->liburing);
	else
		printf("  liburing            not built in\n");

	printf("\nRWF flags (preadv2/pwritev2)\n");
	{
		char acc[512] = "";
		bool unprobed_all = false;
		unsigned mask = 0;
		size_t n = 0;

		for (unsigned b = 0; b < 32; b++)
			if (rwf_verdict(in, b, &blocked) == RWF_ACCEPTED) {
				const char *nm = rwf_name(1u << b);

				if (nm)
					n += (size_t)snprintf(acc + n,
							      sizeof(acc) - n,
							      "%s ", nm);
				else
					n += (size_t)snprintf(acc + n,
							      sizeof(acc) - n,
							      "0x%x ", 1u << b);
			}
		wrapped("accepted", acc[0] ? acc : "none");
		for (unsigned b = 0; b < 32; b++)
			if (rwf_verdict(in, b, &blocked) != RWF_UNPROBED)
				break;
			else if (b == 31) {
				char msg[128];

				/* One line, not 32 alike. */
				snprintf(msg, sizeof(msg),
					 "preadv2 and pwritev2 fail with %s "
					 "here: nothing could be probed",
					 errno_name(blocked));
				wrapped("not probed", msg);
				unprobed_all = true;
			}
		for (unsigned b = 0; b < 32 && !unprobed_all; b++) {
			enum rwf_verdict v = rwf_verdict(in, b, &blocked);
			const char *nm = rwf_name(1u << b);
			char msg[512], lab[16];

			if (!nm)
				snprintf(lab, sizeof(lab), "0x%x", 1u << b);
			const char *pf = rwf_per_file(1u << b);

			if (v == RWF_PER_FILE)
				snprintf(msg, sizeof(msg),
					 "EOPNOTSUPP from every file tried; "
					 "the kernel may still support it: %s",
					 pf ? pf : "?");
			else if (v == RWF_UNPROBED)
				snprintf(msg, sizeof(msg),
					 "not probed: the calls failed with %s",
					 errno_name(blocked));
			else if (v == RWF_UNKNOWN && nm)
				snprintf(msg, sizeof(msg),
					 "EOPNOTSUPP: not supported by this "
					 "kernel");
			else {
				if (v == RWF_UNKNOWN)
					mask |= 1u << b;
				continue;
			}
			wrapped(nm ? nm : lab, msg);
		}
		if (mask) {
			char msg[128];

			snprintf(msg, sizeof(msg),
				 "0x%08x: EOPNOTSUPP (unknown to this kernel)",
				 mask);
			wrapped("other bits", msg);
		}
	}
	{
		char msg[1024];
		size_t n = 0;

		for (int k = 0; k < NPROBES; k++) {
			n += (size_t)snprintf(msg + n, sizeof(msg) - n, "%s%s",
					      k ? "; " : "", in->tgt[k].desc);
			if (in->tgt[k].err)
				n += (size_t)snprintf(
				    msg + n, sizeof(msg) - n,
				    " (could not be made: %s)",
				    errno_name(in->tgt[k].err));
		}
		wrapped("tried on", msg);
	}

	printf("\nengines\n");
	for (int e = 0; e < NENGINES; e++) {
		char msg[UAIO_REASON_MAX + 64];

		if (!in->eng[e].ret) {
			wrapped(engine_names[e], "usable");
			continue;
		}
		snprintf(msg, sizeof(msg), "NOT usable: %s (%s)",
			 in->eng[e].why[0] ? in->eng[e].why
					   : strerror(-in->eng[e].ret),
			 errno_name(-in->eng[e].ret));
		wrapped(engine_names[e], msg);
		if (in->eng[e].cause[0]) {
			snprintf(msg, sizeof(msg), "likely cause: %s",
				 in->eng[e].cause);
			wrapped("", msg);
		}
	}

	printf("\nio_setup() chooses\n");
	for (int i = 0; i < 2; i++) {
		const char *list = getenv("UAIO_ENGINE");
		char label[64], msg[UAIO_REASON_MAX + 64];

		if (i == 1)
			snprintf(label, sizeof(label), "with auto");
		else if (list && *list)
			snprintf(label, sizeof(label), "UAIO_ENGINE=%.40s",
				 list);
		else
			snprintf(label, sizeof(label), "UAIO_ENGINE unset");
		if (in->choice[i].ret < 0)
			snprintf(msg, sizeof(msg), "io_setup fails with %s%s",
				 errno_name(-in->choice[i].ret),
				 in->choice[i].ret == -EINVAL
				     ? " (an unknown engine name)"
				 : in->choice[i].ret == -ENOSYS
				     ? " (no engine in the list is usable)"
				     : "");
		else if (in->choice[i].reason[0])
			snprintf(msg, sizeof(msg), "%s, because %s",
				 in->choice[i].engine, in->choice[i].reason);
		else
			snprintf(msg, sizeof(msg), "%s", in->choice[i].engine);
		wrapped(label, msg);
	}
}

static void json_errno(int err)
{
	if (err)
		json_str(stdout, errno_name(err));
	else
		fputs("null", stdout);
}

static void print_json(const struct info *in)
{
	const char *env[] = {"UAIO_ENGINE", "UAIO_THREADS", "UAIO_DEBUG",
			     "UAIO_STATS"};
	int blocked;

	printf("{\n  \"uaio_version\": ");
	json_str(stdout, uaio_version());
	printf(",\n  \"library\": ");
	json_str(stdout, in->lib);
	printf(",\n  \"kernel\": {\"sysname\": ");
	json_str(stdout, in->uts.sysname);
	printf(", \"release\": ");
	json_str(stdout, in->uts.release);
	printf(", \"version\": ");
	json_str(stdout, in->uts.version);
	printf(", \"machine\": ");
	json_str(stdout, in->uts.machine);
	printf("},\n  \"io_uring_disabled\": ");
	if (in->uring_disabled < 0)
		printf("null");
	else
		printf("%lld", in->uring_disabled);
	printf(",\n  \"io_uring_group\": ");
	if (in->uring_disabled < 0)
		printf("null");
	else
		printf("%lld", in->uring_group);
	printf(",\n  \"seccomp\": {\"mode\": %d, \"filters\": %d, "
	       "\"no_new_privs\": %d},\n",
	       in->seccomp, in->seccomp_filters, in->no_new_privs);
	if (in->aio_max_nr < 0)
		printf("  \"aio\": {\"nr\": null, \"max_nr\": null},\n");
	else
		printf("  \"aio\": {\"nr\": %lld, \"max_nr\": %lld},\n",
		       in->aio_nr, in->aio_max_nr);
	printf("  \"syscalls\": {\"io_setup\": ");
	json_str(stdout, sys_result(in->sys_io_setup));
	printf(", \"io_uring_setup\": ");
	json_str(stdout, sys_result(in->sys_io_uring_setup));
	printf("},\n  \"liburing\": {\"built_in\": %s, \"library\": ",
	       in->liburing[0] ? "true" : "false");
	json_str(stdout, in->liburing[0] ? in->liburing : NULL);
	printf("},\n");

	printf("  \"rwf\": {\n    \"tried_on\": [");
	for (int k = 0; k < NPROBES; k++) {
		printf("%s\n      {\"name\": ", k ? "," : "");
		json_str(stdout, in->tgt[k].name);
		printf(", \"description\": ");
		json_str(stdout, in->tgt[k].desc);
		printf(", \"error\": ");
		json_errno(in->tgt[k].err);
		printf("}");
	}
	{
		unsigned acc = 0, unknown = 0;

		for (unsigned b = 0; b < 32; b++) {
			enum rwf_verdict v = rwf_verdict(in, b, &blocked);

			if (v == RWF_ACCEPTED)
				acc |= 1u << b;
			else if (v == RWF_UNKNOWN)
				unknown |= 1u << b;
		}
		printf("\n    ],\n    \"accepted_mask\": \"0x%x\", "
		       "\"unknown_mask\": \"0x%x\",\n    \"flags\": [",
		       acc, unknown);
	}
	for (unsigned b = 0, first = 1; b < 32; b++) {
		static const char *const verdicts[] = {
		    "accepted", "refused by every file tried",
		    "unknown to the kernel", "not probed"};
		enum rwf_verdict v = rwf_verdict(in, b, &blocked);
		const char *n = rwf_name(1u << b);

		/* Unnamed bits only when something about them is news. */
		if (!n && v == RWF_UNKNOWN)
			continue;
		printf("%s\n      {\"bit\": \"0x%x\", \"name\": ",
		       first ? "" : ",", 1u << b);
		first = 0;
		json_str(stdout, n);
		printf(", \"verdict\": ");
		json_str(stdout, verdicts[v]);
		printf(", \"per_file\": ");
		json_str(stdout, rwf_per_file(1u << b));
		printf(", \"results\": {");
		for (int k = 0; k < NPROBES; k++)
			for (int w = 0; w < 2; w++) {
				int r = in->res[b][k][w];
				char key[48];

				snprintf(key, sizeof(key), "%s %s",
					 in->tgt[k].name, w ? "write" : "read");
				printf("%s", k || w ? ", " : "");
				json_str(stdout, key);
				printf(": ");
				if (r < 0)
					printf("null");
				else
					json_str(stdout, sys_result(r));
			}
		printf("}}");
	}
	printf("\n    ]\n  },\n");

	printf("  \"engines\": [");
	for (int e = 0; e < NENGINES; e++) {
		printf("%s\n    {\"name\": \"%s\", \"usable\": %s, \"error\": ",
		       e ? "," : "", engine_names[e],
		       in->eng[e].ret ? "false" : "true");
		json_errno(-in->eng[e].ret);
		printf(", \"reason\": ");
		json_str(stdout, in->eng[e].why);
		printf(", \"cause\": ");
		json_str(stdout, in->eng[e].cause[0] ? in->eng[e].cause : NULL);
		printf("}");
	}
	printf("\n  ],\n");
	for (int i = 1; i >= 0; i--) {
		printf("  \"%s\": {\"engine\": ", i ? "auto" : "default");
		json_str(stdout,
			 in->choice[i].ret < 0 ? NULL : in->choice[i].engine);
		printf(", \"error\": ");
		json_errno(-in->choice[i].ret);
		printf(", \"fallback_reason\": ");
		json_str(stdout,
			 in->choice[i].ret < 0 ? NULL : in->choice[i].reason);
		printf("},\n");
	}
	printf("  \"env\": {");
	for (size_t i = 0; i < sizeof(env) / sizeof(env[0]); i++) {
		printf("%s\"%s\": ", i ? ", " : "", env[i]);
		json_str(stdout, getenv(env[i]));
	}
	printf("}\n}\n");
}

int cmd_info(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"check", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *check = NULL;
	bool json = false;
	struct info *in;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'c':
			check = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			usage_error("%s needs an argument", argv[optind - 1]);
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (check) {
		char why[UAIO_REASON_MAX] = "";
		int r;

		if (json)
			usage_error("--check and --json do not go together");
		r = uaio_probe(check, why, sizeof(why));
		if (r == -EINVAL)
			usage_error("--check: unknown engine '%s' (kernel, "
				    "uring or threads)",
				    check);
		if (r < 0) {
			tool_err("%s is not usable: %s (%s)", check,
				 why[0] ? why : strerror(-r), errno_name(-r));
			return 1;
		}
		return 0;
	}

	in = malloc(sizeof(*in));
	if (!in)
		die("out of memory");
	gather(in);
	if (json)
		print_json(in);
	else
		print_text(in);
	free(in);
	if (fflush(stdout) || ferror(stdout))
		die("writing the output: %s", strerror(errno));
	return 0;
}
