/*
 * seccomp-run - run a command under a seccomp filter that makes chosen
 * system calls fail with chosen errors, as container runtimes' default
 * profiles do (Docker's makes io_uring_setup fail with EPERM):
 *
 *   seccomp-run --deny io_uring_setup=EPERM --deny io_setup=ENOSYS -- cmd args
 *
 * A raw classic-BPF filter through prctl(PR_SET_SECCOMP): no libseccomp.
 * It sets no_new_privs first, so no privilege is needed.  Only the native
 * ABI's calls are matched; calls through another ABI (x32, i386 on x86_64)
 * are let through.  Exit: the command's status; 126/127 when it cannot be
 * run / is not found; 1 when the filter cannot be installed; 2 on a usage
 * error.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__i386__)
#define NATIVE_ARCH AUDIT_ARCH_I386
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#elif defined(__riscv) && __riscv_xlen == 64
#define NATIVE_ARCH AUDIT_ARCH_RISCV64
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_ARCH AUDIT_ARCH_PPC64LE
#elif defined(__s390x__)
#define NATIVE_ARCH AUDIT_ARCH_S390X
#elif defined(__arm__)
#define NATIVE_ARCH AUDIT_ARCH_ARM
#else
#error "seccomp-run: unknown architecture"
#endif

#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#define SYS_io_uring_enter 426
#define SYS_io_uring_register 427
#endif
#ifndef SYS_io_pgetevents
#define SYS_io_pgetevents 333
#endif

static const struct {
	const char *name;
	long nr;
} calls[] = {
    {"io_setup", SYS_io_setup},
    {"io_destroy", SYS_io_destroy},
    {"io_submit", SYS_io_submit},
    {"io_cancel", SYS_io_cancel},
    {"io_getevents", SYS_io_getevents},
    {"io_pgetevents", SYS_io_pgetevents},
    {"io_uring_setup", SYS_io_uring_setup},
    {"io_uring_enter", SYS_io_uring_enter},
    {"io_uring_register", SYS_io_uring_register},
    {"preadv2", SYS_preadv2},
    {"pwritev2", SYS_pwritev2},
    {"eventfd2", SYS_eventfd2},
    {"memfd_create", SYS_memfd_create},
};

static void usage(FILE *f)
{
	fputs("Usage: seccomp-run [--deny SYSCALL=ERRNO]... [--] COMMAND "
	      "[ARG]...\n"
	      "\n"
	      "Run COMMAND with each SYSCALL failing with ERRNO (a name such "
	      "as EPERM or\n"
	      "ENOSYS, or a number).  SYSCALL is a name among:\n"
	      "  ",
	      f);
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		fprintf(f, "%s%s", calls[i].name,
			i + 1 < sizeof(calls) / sizeof(calls[0])
			    ? (i % 5 == 4 ? ",\n  " : ", ")
			    : "\n");
	fputs("or a system call number.  The filter is inherited by every "
	      "child and cannot be\n"
	      "removed.\n",
	      f);
}

static void __attribute__((noreturn))
usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "seccomp-run: %s%s%s\n", msg, arg ? ": " : "",
		arg ? arg : "");
	fprintf(stderr, "Try 'seccomp-run --help'.\n");
	exit(2);
}

static long parse_num(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	return !*s || *end || errno || v < 0 ? -1 : v;
}

static int errno_of(const char *s)
{
	static const struct {
		const char *name;
		int err;
	} names[] = {
	    {"EPERM", EPERM},	{"ENOSYS", ENOSYS}, {"EACCES", EACCES},
	    {"EINVAL", EINVAL}, {"EAGAIN", EAGAIN}, {"ENOMEM", ENOMEM},
	    {"EFAULT", EFAULT}, {"EBADF", EBADF},   {"EOPNOTSUPP", EOPNOTSUPP},
	    {"EIO", EIO},
	};
	long v = parse_num(s);

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i].name))
			return names[i].err;
	return v > 0 && v <= 4095 ? (int)v : -1;
}

static long syscall_of(const char *s)
{
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		if (!strcmp(s, calls[i].name))
			return calls[i].nr;
	return parse_num(s);
}

int main(int argc, char **argv)
{
	/* 3 instructions of prologue, 2 per rule, 1 epilogue. */
	struct sock_filter f[3 + 2 * 64 + 1];
	struct sock_fprog prog;
	unsigned n = 0, rules = 0;
	int i;

	f[n++] = (struct sock_filter)BPF_STMT(
	    BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
					      NATIVE_ARCH, 1, 0);
	f[n++] =
	    (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(
	    BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	for (i = 1; i < argc; i++) {
		const char *spec;
		char name[64], *eq;
		long nr;
		int err;

		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "--deny") &&
		    strncmp(argv[i], "--deny=", 7)) {
			if (argv[i][0] == '-')
				usage_error("unknown option", argv[i]);
			break;
		}
		if (argv[i][6] == '=')
			spec = argv[i] + 7;
		else if (i + 1 < argc)
			spec = argv[++i];
		else
			usage_error("--deny needs SYSCALL=ERRNO", NULL);
		eq = strchr(spec, '=');
		if (!eq || (size_t)(eq - spec) >= sizeof(name))
			usage_error("expected SYSCALL=ERRNO", spec);
		snprintf(name, sizeof(name), "%.*s", (int)(eq - spec), spec);
		nr = syscall_of(name);
		if (nr < 0)
			usage_error("unknown system call", name);
		err = errno_of(eq + 1);
		if (err < 0)
			usage_error("unknown errno", eq + 1);
		if (rules == 64)
			usage_error("too many --deny", NULL);
		rules++;
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						      (unsigned)nr, 0, 1);
		f[n++] = (struct sock_filter)BPF_STMT(
		    BPF_RET | BPF_K,
		    SECCOMP_RET_ERRNO | ((unsigned)err & SECCOMP_RET_DATA));
	}
	f[n++] =
	    (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	if (i >= argc)
		usage_error("no command to run", NULL);

	prog.len = (unsigned short)n;
	prog.filter = f;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		perror("seccomp-run: PR_SET_NO_NEW_PRIVS");
		return 1;
	}
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
		perror("seccomp-run: PR_SET_SECCOMP");
		return 1;
	}
	execvp(argv[i], argv + i);
	fprintf(stderr, "seccomp-run: %s: %s\n", argv[i], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
