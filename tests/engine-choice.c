/*
 * Engine choice: UAIO_ENGINE and uaio_setup() preference lists, unknown
 * names, and fallbacks under real conditions: a seccomp filter that makes
 * io_setup fail with ENOSYS or io_uring_setup with EPERM, and a system-wide
 * fs.aio-nr used up by another process.  Each case runs in a child process
 * so that the filter and the environment stay there.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uaio.h>

#include "helpers.h"

#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#endif

/* Make syscall nr fail with err in this process, for good. */
static void deny(int nr1, int err1, int nr2, int err2)
{
	struct sock_filter f[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		     offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr1, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)err1),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr2, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)err2),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		T_FAIL("seccomp: %s", strerror(errno));
}

static bool have_uring(void)
{
	return uaio_probe("uring", NULL, 0) == 0;
}

/* A context from list (NULL: UAIO_ENGINE); its engine and reason. */
static void setup_on(const char *list, char *engine, char *reason)
{
	io_context_t ctx = 0;
	int ret = uaio_setup(8, &ctx, list);

	if (ret)
		T_FAIL("uaio_setup(%s): %s", list ? list : "(env)",
		       strerror(-ret));
	T_EQ(uaio_engine(ctx, engine, UAIO_ENGINE_NAME_MAX), 0);
	T_ASSERT(uaio_fallback_reason(ctx, reason, UAIO_REASON_MAX) >= 0);
	/* The context works on whatever engine it got. */
	int fd = open("/proc/self/exe", O_RDONLY);
	char buf[16];
	struct iocb cb, *cbp = &cb;
	struct io_event ev;
	io_prep_pread(&cb, fd, buf, sizeof(buf), 0);
	T_EQ(io_submit(ctx, 1, &cbp), 1);
	T_EQ(io_getevents(ctx, 1, 1, &ev, NULL), 1);
	T_EQ((long)ev.res, (long)sizeof(buf));
	T_ASSERT(memcmp(buf, "\177ELF", 4) == 0);
	close(fd);
	/* And O_DIRECT, which auto hands to kernel AIO when it can. */
	fd = t_scratch_file(8192, O_DIRECT);
	if (fd >= 0) {
		void *p;
		T_ASSERT(posix_memalign(&p, 4096, 4096) == 0);
		io_prep_pread(&cb, fd, p, 4096, 4096);
		T_EQ(io_submit(ctx, 1, &cbp), 1);
		T_EQ(io_getevents(ctx, 1, 1, &ev, NULL), 1);
		T_EQ((long)ev.res, 4096);
		T_EQ(((unsigned char *)p)[10], t_pattern(4096 + 10));
		free(p);
		close(fd);
	}
	T_EQ(io_destroy(ctx), 0);
}

typedef void (*child_fn)(void);

static void in_child(const char *what, child_fn fn)
{
	pid_t pid = fork();
	int st;

	T_ASSERT(pid >= 0);
	if (pid == 0) {
		fn();
		_exit(0);
	}
	T_EQ(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		T_FAIL("%s: child failed (status %#x)", what, st);
	fprintf(stderr, "ok: %s\n", what);
}

static void explicit_engines(void)
{
	char e[UAIO_ENGINE_NAME_MAX], r[UAIO_REASON_MAX];
	io_context_t ctx = 0;

	setup_on("threads", e, r);
	T_ASSERT(strcmp(e, "threads") == 0 && r[0] == '\0');
	setup_on("kernel", e, r);
	T_ASSERT(strcmp(e, "kernel") == 0 && r[0] == '\0');
	/* auto: an emulated engine that sends O_DIRECT to kernel AIO. */
	setup_on("auto", e, r);
	T_ASSERT(strcmp(e, "auto") == 0 && r[0] == '\0');
	if (have_uring()) {
		setup_on("uring,threads", e, r);
		T_ASSERT(strcmp(e, "uring") == 0 && r[0] == '\0');
	}
	/* Unknown names are an error, never a silent fallback. */
	T_EQ(uaio_setup(8, &ctx, "kernal"), -EINVAL);
	T_EQ(uaio_setup(8, &ctx, "threads,bogus"), -EINVAL);
	T_EQ(uaio_setup(8, &ctx, ","), -EINVAL);
	T_ASSERT(ctx == 0);
	setenv("UAIO_ENGINE", "nope", 1);
	T_EQ(io_setup(8, &ctx), -EINVAL);
	setenv("UAIO_ENGINE", "threads", 1);
	setup_on(NULL, e, r);
	T_ASSERT(strcmp(e, "threads") == 0);
	/* Garbage handles and sizes for the queries. */
	T_EQ(uaio_engine((io_context_t)0, e, sizeof(e)), -EINVAL);
	T_EQ(uaio_engine((io_context_t)-1, e, sizeof(e)), -EINVAL);
	T_EQ(uaio_fallback_reason((io_context_t)8, r, sizeof(r)), -EINVAL);
	T_EQ(uaio_probe("threads", r, sizeof(r)), 0);
	T_EQ(uaio_probe("kernel", r, sizeof(r)), 0);
	T_EQ(uaio_probe("bogus", r, sizeof(r)), -EINVAL);
	T_EQ(uaio_probe(NULL, r, sizeof(r)), -EINVAL);
	T_ASSERT(ctx == 0);
	T_EQ(io_setup(8, &ctx), 0);
	T_EQ(uaio_engine(ctx, e, 3), -ERANGE);
	T_EQ(io_destroy(ctx), 0);
}

static void no_kernel_aio(void)
{
	char e[UAIO_ENGINE_NAME_MAX], r[UAIO_REASON_MAX];

	deny(SYS_io_setup, ENOSYS, -1, 0);
	T_EQ(uaio_probe("kernel", r, sizeof(r)), -ENOSYS);
	/* auto still works; its O_DIRECT goes to the emulated engine. */
	setup_on("auto", e, r);
	T_ASSERT(strcmp(e, "auto") == 0);
	setup_on("kernel,threads", e, r);
	T_ASSERT(strcmp(e, "threads") == 0);
	if (!strstr(r, "kernel: io_setup: Function not implemented"))
		T_FAIL("reason \"%s\"", r);
	/* Asked for the kernel alone: its error, not a fallback. */
	io_context_t ctx = 0;
	T_EQ(uaio_setup(8, &ctx, "kernel"), -ENOSYS);
}

static void no_uring(void)
{
	char e[UAIO_ENGINE_NAME_MAX], r[UAIO_REASON_MAX];

	deny(SYS_io_uring_setup, EPERM, -1, 0);
	T_ASSERT(uaio_probe("uring", r, sizeof(r)) < 0);
	setup_on("uring,threads", e, r);
	T_ASSERT(strcmp(e, "threads") == 0);
	if (!strstr(r, "uring"))
		T_FAIL("reason \"%s\"", r);
}

static void neither(void)
{
	char e[UAIO_ENGINE_NAME_MAX], r[UAIO_REASON_MAX];

	deny(SYS_io_setup, ENOSYS, SYS_io_uring_setup, EPERM);
	setup_on(NULL, e, r); /* UAIO_ENGINE unset: auto, on the threads */
	T_ASSERT(strcmp(e, "auto") == 0);
	if (uaio_probe("uring", NULL, 0) != -ENOSYS &&
	    !strstr(r, "uring: io_setup: Operation not permitted"))
		T_FAIL("reason \"%s\" does not say why not uring", r);
	setup_on("kernel,threads", e, r);
	T_ASSERT(strcmp(e, "threads") == 0);
	if (!strstr(r, "kernel: io_setup: Function not implemented"))
		T_FAIL("reason \"%s\"", r);
}

static unsigned long read_ul(const char *path)
{
	FILE *f = fopen(path, "r");
	unsigned long v = 0;

	T_ASSERT(f);
	T_ASSERT(fscanf(f, "%lu", &v) == 1);
	fclose(f);
	return v;
}

/* Another process holds every slot of fs.aio-max-nr. */
static void aio_nr_exhausted(void)
{
	unsigned long max = read_ul("/proc/sys/fs/aio-max-nr");
	unsigned long used = read_ul("/proc/sys/fs/aio-nr");
	int go[2], done[2];
	char e[UAIO_ENGINE_NAME_MAX], r[UAIO_REASON_MAX], c;
	pid_t hog;

	T_SKIP_IF(max - used > 1u << 22, "aio-max-nr too large to exhaust");
	T_ASSERT(pipe(go) == 0 && pipe(done) == 0);
	hog = fork();
	if (hog == 0) {
		/* Take what is left with raw syscalls, largest first. */
		unsigned long n = max - used;
		while (n) {
			unsigned long ctx = 0;
			if (syscall(SYS_io_setup, n, &ctx) == 0)
				continue;
			n /= 2;
		}
		T_ASSERT(write(go[1], "x", 1) == 1);
		T_ASSERT(read(done[0], &c, 1) == 1);
		_exit(0);
	}
	T_ASSERT(read(go[0], &c, 1) == 1);
	io_context_t ctx = 0;
	/* The kernel alone says EAGAIN; a list falls back and says why. */
	T_EQ(uaio_setup(8, &ctx, "kernel"), -EAGAIN);
	setup_on("kernel,threads", e, r);
	T_ASSERT(strcmp(e, "threads") == 0);
	if (!strstr(r, "kernel: io_setup: Resource temporarily unavailable"))
		T_FAIL("reason \"%s\"", r);
	/* auto needs no slot: O_DIRECT goes to its emulated engine. */
	setup_on("auto", e, r);
	T_ASSERT(strcmp(e, "auto") == 0);
	/* More than aio-max-nr is still EAGAIN, as with the kernel. */
	T_EQ(uaio_setup((int)max + 1, &ctx, "threads"), -EAGAIN);
	T_ASSERT(write(done[1], "x", 1) == 1);
	waitpid(hog, NULL, 0);
}

/* UAIO_DEBUG=1 says why, once per process. */
static void debug_once(void)
{
	int p[2];
	pid_t pid;
	char out[4096] = "";
	ssize_t n, total = 0;

	T_ASSERT(pipe(p) == 0);
	pid = fork();
	if (pid == 0) {
		char e[UAIO_ENGINE_NAME_MAX], r[UAIO_REASON_MAX];
		dup2(p[1], 2);
		setenv("UAIO_DEBUG", "1", 1);
		deny(SYS_io_setup, ENOSYS, SYS_io_uring_setup, EPERM);
		setup_on("auto", e, r);
		setup_on("auto", e, r);
		io_context_t ctx = 0;
		uaio_setup(8, &ctx, "warp");
		_exit(0);
	}
	close(p[1]);
	while ((n = read(p[0], out + total, sizeof(out) - 1 - total)) > 0)
		total += n;
	waitpid(pid, NULL, 0);
	char *first = strstr(out, "context on engine auto (on threads): uring");
	T_ASSERT(first);
	T_ASSERT(!strstr(first + 1, "context on engine"));
	first = strstr(out, "io_uring_setup: Operation not permitted");
	T_ASSERT(first && !strstr(first + 1, "io_uring_setup"));
	T_ASSERT(strstr(out, "unknown engine \"warp\""));
	fprintf(stderr, "ok: debug output:\n%s", out);
}

int main(void)
{
	T_SKIP_IF(t_is_ref(), "uaio extensions only");
	unsetenv("UAIO_ENGINE");
	in_child("explicit engines and names", explicit_engines);
	in_child("io_setup denied with ENOSYS", no_kernel_aio);
	in_child("io_uring_setup denied with EPERM", no_uring);
	in_child("both denied", neither);
	in_child("UAIO_DEBUG once", debug_once);
	in_child("fs.aio-nr used up", aio_nr_exhausted);
	return 0;
}
