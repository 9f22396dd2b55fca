/*
 * aio-hog: take every slot of fs.aio-max-nr with kernel AIO contexts, as a
 * busy host or a crowded container does, then run a command and let go.
 * Usage: aio-hog COMMAND [ARGS...]   (exit status: the command's; 77 if
 * the host's aio-max-nr is too large to use up)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned long read_ul(const char *path)
{
	unsigned long v = 0;
	FILE *f = fopen(path, "re");

	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

int main(int argc, char **argv)
{
	unsigned long max = read_ul("/proc/sys/fs/aio-max-nr"), held = 0;
	int status;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: aio-hog COMMAND [ARGS...]\n");
		return 2;
	}
	if (max > 1ul << 22) {
		fprintf(stderr, "aio-hog: aio-max-nr %lu is too large\n", max);
		return 77;
	}
	/* Big contexts first, then single slots, until the kernel says no. */
	for (unsigned nr = 4096; nr; nr /= 2) {
		for (;;) {
			unsigned long ctx = 0;
			if (syscall(SYS_io_setup, nr, &ctx))
				break;
			held += nr;
		}
	}
	unsigned long ctx = 0;
	if (syscall(SYS_io_setup, 1, &ctx) == 0 || errno != EAGAIN) {
		fprintf(stderr, "aio-hog: cannot use up aio-max-nr\n");
		return 77;
	}
	fprintf(stderr, "aio-hog: holding fs.aio-nr at %lu of %lu\n",
		read_ul("/proc/sys/fs/aio-nr"), max);
	pid = fork();
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 1;
	(void)held;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
