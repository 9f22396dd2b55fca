/*
 * In a set-user-ID program (AT_SECURE) the UAIO_* variables come from a
 * less privileged user: they are ignored, as glibc's secure_getenv()
 * ignores its own.  UAIO_STATS must not make the program append to a file
 * the user names, UAIO_ENGINE must not refuse or choose the engine, and
 * UAIO_TRUST_POINTERS must not turn the pointer checks off.
 *
 * As root, the test copies itself into a fresh directory, makes the copy
 * set-user-ID root and runs it as nobody with the variables set; a control
 * run of a plain copy shows that the same variables are obeyed otherwise.
 */
#include "behaviour.h"

#include <grp.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <uaio.h>

static int child(bool secure)
{
	io_context_t ctx = 0;
	int ret;

	if ((getauxval(AT_SECURE) != 0) != secure) {
		fprintf(stderr, "child: AT_SECURE is %lu\n",
			getauxval(AT_SECURE));
		return 77;
	}
	/* UAIO_ENGINE=bogus: an error if obeyed. */
	ret = io_setup(1, &ctx);
	if (!secure)
		return ret == -EINVAL ? 0 : 1;
	if (ret) {
		fprintf(stderr, "child: io_setup: %s\n", strerror(-ret));
		return 1;
	}
	T_EQ(io_destroy(ctx), 0);

	/* UAIO_TRUST_POINTERS=1 would make this a crash, not EFAULT. */
	void *hole =
	    mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	T_ASSERT(hole != MAP_FAILED);
	ctx = 0;
	T_EQ(uaio_setup(4, &ctx, "threads"), 0);
	T_EQ(io_submit(ctx, 1, hole), -EFAULT);
	T_EQ(io_destroy(ctx), 0);
	return 0;
}

/* Run path as nobody (or as root when !as_nobody); its exit status. */
static int run(const char *path, const char *arg, const char *stats,
	       bool as_nobody)
{
	char env_stats[4200];
	int status;
	pid_t pid;

	snprintf(env_stats, sizeof(env_stats), "UAIO_STATS=%s", stats);
	char *envp[] = {env_stats, "UAIO_ENGINE=bogus", "UAIO_TRUST_POINTERS=1",
			"UAIO_DEBUG=1", NULL};
	char *argv[] = {(char *)path, (char *)arg, NULL};

	pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0) {
		if (as_nobody &&
		    (setgroups(0, NULL) || setgid(65534) || setuid(65534)))
			_exit(99);
		execve(path, argv, envp);
		_exit(98);
	}
	T_EQ(waitpid(pid, &status, 0), pid);
	T_ASSERT(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void copy_self(const char *to, mode_t mode)
{
	int in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
	char buf[65536];
	ssize_t n;

	T_ASSERT(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		T_EQ(write(out, buf, (size_t)n), n);
	close(in);
	close(out);
	T_EQ(chmod(to, mode), 0);
}

int main(int argc, char **argv)
{
	const char *tmp = getenv("TMPDIR");
	char dir[4096], suid[4200], plain[4200], stats[4200];
	struct stat st;
	int ret;

	if (argc > 1)
		return child(!strcmp(argv[1], "secure"));
	T_SKIP_IF(t_is_ref(), "uaio's variables only");
	T_SKIP_IF(geteuid() != 0, "needs root to make a set-user-ID copy");

	snprintf(dir, sizeof(dir), "%s/uaio-secure-XXXXXX", tmp ? tmp : "/tmp");
	T_ASSERT(mkdtemp(dir));
	T_EQ(chmod(dir, 0755), 0);
	snprintf(suid, sizeof(suid), "%s/suid", dir);
	snprintf(plain, sizeof(plain), "%s/plain", dir);
	snprintf(stats, sizeof(stats), "%s/stats.json", dir);
	copy_self(suid, 04755);
	copy_self(plain, 0755);

	ret = run(suid, "secure", stats, true);
	T_SKIP_IF(ret == 99 || ret == 77,
		  "cannot run a set-user-ID program here (nosuid?)");
	T_EQ(ret, 0);
	if (stat(stats, &st) == 0)
		T_FAIL("UAIO_STATS was obeyed in a set-user-ID program");

	/* The control: without AT_SECURE the same variables are obeyed. */
	T_EQ(run(plain, "plain", stats, false), 0);

	unlink(suid);
	unlink(plain);
	unlink(stats);
	rmdir(dir);
	return 0;
}
