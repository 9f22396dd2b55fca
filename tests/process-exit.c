/*
 * What happens to requests in flight when the process ends.  The kernel
 * waits for every outstanding request before it tears the address space
 * down (exit_aio()), whether the program calls exit(), returns from main,
 * ends its last thread, calls _exit(), is killed or calls execve(): no
 * write is lost and no read lands after the process is gone.
 *
 * A child submits 32 buffered 64 KiB writes and 32 O_DIRECT reads into
 * MAP_SHARED memory, then ends without reaping; the parent checks the file
 * and the memory after waitpid(), and again a moment later.
 *
 *   exit, return, pthread_exit: everything done on every engine, and the
 *     process ends (uaio's threads never keep it alive);
 *   _exit, kill, exec: uaio's code does not run.  Nothing may hang.  The
 *     kernel engine completes everything.  Buffered writes are safe on
 *     every engine (done inside io_submit, as the kernel does).  threads:
 *     reads a worker had not started are lost (never late).  uring:
 *     io_uring waits for reads in flight at exec, but at _exit or a kill
 *     it tears its ring down after the process is gone, so a read may
 *     land late (uaio(7), "When the process ends").
 *
 * Usage: process-exit [MODE [ROUNDS]]   (all modes, 5 rounds, by default)
 */
#include "behaviour.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define NW 32
#define WLEN 65536
#define NR 32
#define RLEN 65536
#define SRC_SIZE (NR * RLEN)

static const char *const modes[] = {"exit",  "return", "pthread_exit",
				    "_exit", "kill",   "exec"};

static int wfd, rfd;
static unsigned char *shared; /* NR * RLEN, MAP_SHARED with the child */

static unsigned char wbyte(int round, int i)
{
	return (unsigned char)(1 + ((round * NW + i) % 251));
}

static int child(const char *mode, int round)
{
	static struct iocb cbs[NW + NR];
	struct iocb *ptrs[NW + NR];
	io_context_t ctx = 0;
	int ret;

	ret = io_setup(NW + NR, &ctx);
	if (ret < 0) {
		fprintf(stderr, "child: io_setup: %s\n", strerror(-ret));
		_exit(2);
	}
	for (int i = 0; i < NW; i++) {
		void *buf = malloc(WLEN);
		if (!buf)
			_exit(2);
		memset(buf, wbyte(round, i), WLEN);
		io_prep_pwrite(&cbs[i], wfd, buf, WLEN, (long long)i * WLEN);
		ptrs[i] = &cbs[i];
	}
	for (int i = 0; i < NR; i++) {
		io_prep_pread(&cbs[NW + i], rfd, shared + (size_t)i * RLEN,
			      RLEN, (long long)i * RLEN);
		ptrs[NW + i] = &cbs[NW + i];
	}
	ret = io_submit(ctx, NW + NR, ptrs);
	if (ret != NW + NR) {
		fprintf(stderr, "child: io_submit = %d\n", ret);
		_exit(2);
	}
	if (!strcmp(mode, "exit"))
		exit(0);
	if (!strcmp(mode, "return"))
		return 0;
	if (!strcmp(mode, "pthread_exit"))
		pthread_exit(NULL);
	if (!strcmp(mode, "_exit"))
		_exit(0);
	if (!strcmp(mode, "kill"))
		raise(SIGKILL);
	if (!strcmp(mode, "exec"))
		execl("/bin/true", "true", (char *)NULL);
	_exit(3);
}

struct result {
	int writes_missing, reads_missing, hangs, late;
};

/* waitpid with a deadline: false (and the child killed) on a hang. */
static bool wait_child(pid_t pid, int *status)
{
	double end = t_now_ms() + 10000;

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return true;
		if (r < 0)
			T_FAIL("waitpid: %s", strerror(errno));
		if (t_now_ms() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, status, 0);
			return false;
		}
		t_sleep_ms(2);
	}
}

static int count_writes(int round)
{
	static unsigned char buf[WLEN];
	int missing = 0;

	for (int i = 0; i < NW; i++) {
		ssize_t n = pread(wfd, buf, WLEN, (long long)i * WLEN);
		bool ok = n == WLEN;
		for (ssize_t k = 0; ok && k < WLEN; k++)
			ok = buf[k] == wbyte(round, i);
		missing += !ok;
	}
	return missing;
}

static int count_reads(void)
{
	int missing = 0;

	for (int i = 0; i < NR; i++) {
		const unsigned char *b = shared + (size_t)i * RLEN;
		bool ok = true;
		for (size_t k = 0; ok && k < RLEN; k++)
			ok = b[k] == t_pattern((uint64_t)i * RLEN + k);
		missing += !ok;
	}
	return missing;
}

/* Returns false in the child, which must then return from main. */
static bool run_mode(const char *mode, int rounds, struct result *res,
		     int *child_round)
{
	static unsigned char snap[NR * RLEN];

	memset(res, 0, sizeof(*res));
	for (int round = 0; round < rounds; round++) {
		int status;
		pid_t pid;

		memset(shared, 0, (size_t)NR * RLEN);
		T_EQ(ftruncate(wfd, 0), 0);
		T_EQ(ftruncate(wfd, (off_t)NW * WLEN), 0);
		fflush(NULL);
		pid = fork();
		T_ASSERT(pid >= 0);
		if (pid == 0) {
			*child_round = round;
			return false;
		}
		if (!wait_child(pid, &status)) {
			res->hangs++;
			continue;
		}
		if (WIFEXITED(status) && WEXITSTATUS(status) >= 2)
			T_FAIL("%s: the child failed before ending", mode);
		res->writes_missing += count_writes(round);
		res->reads_missing += count_reads();
		/* Nothing may land once the process is gone. */
		memcpy(snap, shared, sizeof(snap));
		t_sleep_ms(50);
		if (memcmp(snap, shared, sizeof(snap)))
			res->late++;
	}
	return true;
}

int main(int argc, char **argv)
{
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	int failed = 0;

	wfd = t_scratch_file(0, 0);
	rfd = t_scratch_file(SRC_SIZE, O_DIRECT);
	T_SKIP_IF(rfd < 0, "no O_DIRECT in $TMPDIR");
	shared = mmap(NULL, (size_t)NR * RLEN, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	T_ASSERT(shared != MAP_FAILED);

	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		struct result r;
		int round;

		if (argc > 1 && strcmp(argv[1], modes[m]))
			continue;
#ifdef T_TSAN
		/* The runtime's background thread outlives main's
		 * pthread_exit: no process ends that way under it, with the
		 * system libaio alike. */
		if (!strcmp(modes[m], "pthread_exit")) {
			printf("%-12s not run under ThreadSanitizer\n",
			       modes[m]);
			continue;
		}
#endif
		if (!run_mode(modes[m], rounds, &r, &round))
			return child(modes[m], round); /* the child */
		printf("%-12s writes missing %3d/%d, reads not landed %3d/%d, "
		       "hangs %d, late writes %d\n",
		       modes[m], r.writes_missing, NW * rounds, r.reads_missing,
		       NR * rounds, r.hangs, r.late);
		bool abrupt = m >= 3, exec = m == 5;
		bool uring = !strcmp(t_engine(), "uring");
		bool threads = !strcmp(t_engine(), "threads");
		if (r.hangs || r.writes_missing)
			failed = 1;
		if (r.late && !(abrupt && !exec && uring))
			failed = 1;
		if (r.reads_missing &&
		    !(abrupt && (threads || (uring && !exec))))
			failed = 1;
	}
	return failed;
}
