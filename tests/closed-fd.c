/*
 * The program closes a descriptor right after io_submit: its requests
 * still complete, on the file they were submitted for.  The kernel's AIO
 * holds the file of each request, whatever becomes of the descriptor.
 *
 * Writes that wait for the disk (O_DSYNC) and O_DIRECT writes to new
 * blocks are not done inside io_submit by the emulated engines; there are
 * more of them than io_uring has workers, so some wait in its queue, where
 * a cancel takes them.  Each file gets one write, and then:
 *
 *  - io_destroy: it waits for every write (none is cancelled), and every
 *    write is in its file;
 *  - the submitting thread ends, right after it gave each number to
 *    another file (dup2): every event says the write was whole, every
 *    write is in its own file, and the other file is untouched.
 *
 * And reads of files dropped from the page cache, which the uring engine
 * leaves in flight: their thread ends the same way, and every read brings
 * its own file's data, not the other file's (which is empty).  Here
 * io_uring waits for their pages without a worker, where no cancel takes
 * them; on a file system whose reads take a worker, a thread's end that
 * handed them over would send them again to the other file.
 *
 * Before uaio looked up at submit what kind of file a write goes to, the
 * uring engine and auto took a closed descriptor for a stream's, and
 * io_destroy cancelled the writes (uring: 43 to 48 of 48 O_DSYNC writes and
 * 47 of 48 O_DIRECT ones lost; auto: the O_DSYNC ones); and a thread's end
 * handed its writes over, to go again by descriptor number (EBADF, or the
 * other file).
 */
#include "behaviour.h"

#include <sys/stat.h>

#define NFILES 48
#define WLEN 4096
/* Long enough for a read to be in flight when its thread ends. */
#define RLEN (256 << 10)

struct files {
	int chk[NFILES]; /* our own descriptor of each file, to check it */
	int fd[NFILES];	 /* the program's, closed after io_submit */
	int decoy;	 /* another file, which takes every number closed */
	unsigned char *buf;
	struct iocb cbs[NFILES];
	int flags;
	long len; /* of each request */
	int submitted;
};

static io_context_t ctx;

/* Writes with open flags, or (reads) buffered reads of uncached files. */
static void files_open(struct files *f, int flags, bool reads)
{
	f->flags = flags;
	f->len = reads ? RLEN : WLEN;
	f->buf = t_aligned(4096, (size_t)NFILES * f->len);
	for (int i = 0; i < NFILES; i++) {
		unsigned char *b = f->buf + (size_t)i * f->len;

		f->chk[i] = t_scratch_file(reads ? f->len : 0, 0);
		f->fd[i] =
		    t_reopen(f->chk[i], (reads ? O_RDONLY : O_WRONLY) | flags);
		if (reads) {
			T_EQ(
			    posix_fadvise(f->chk[i], 0, 0, POSIX_FADV_DONTNEED),
			    0);
			memset(b, 0xee, f->len);
			io_prep_pread(&f->cbs[i], f->fd[i], b, f->len, 0);
		} else {
			memset(b, 0x40 + i, f->len);
			io_prep_pwrite(&f->cbs[i], f->fd[i], b, f->len, 0);
		}
		f->cbs[i].data = (void *)(long)i;
	}
}

/* io_submit, then the program closes every descriptor at once; with
 * decoys, each number goes to another file (dup2() closes what it had). */
static void submit_and_close(struct files *f, bool decoys)
{
	struct iocb *p[NFILES];

	for (int i = 0; i < NFILES; i++)
		p[i] = &f->cbs[i];
	f->submitted = io_submit(ctx, NFILES, p);
	for (int i = 0; i < NFILES; i++)
		T_EQ(decoys ? dup2(f->decoy, f->fd[i]) : close(f->fd[i]),
		     decoys ? f->fd[i] : 0);
}

static void check_files(struct files *f, bool decoys, const char *what)
{
	unsigned char *back = t_aligned(4096, f->len);
	int lost = 0;
	struct stat st;

	for (int i = 0; i < NFILES; i++) {
		ssize_t r = pread(f->chk[i], back, f->len, 0);

		if (r != f->len ||
		    memcmp(back, f->buf + (size_t)i * f->len, f->len))
			lost++;
		close(f->chk[i]);
		if (decoys)
			close(f->fd[i]);
	}
	if (decoys) {
		T_EQ(fstat(f->decoy, &st), 0);
		if (st.st_size != 0)
			T_FAIL("%s: the file that took the closed numbers has "
			       "%lld bytes",
			       what, (long long)st.st_size);
		close(f->decoy);
	}
	if (lost)
		T_FAIL("%s: %d of %d writes are not in their file", what, lost,
		       NFILES);
	free(back);
	free(f->buf);
}

static void destroy_after_close(int flags, const char *what)
{
	struct files f;

	ctx = t_setup(NFILES);
	files_open(&f, flags, false);
	submit_and_close(&f, false);
	T_EQ(f.submitted, NFILES);
	T_EQ(io_destroy(ctx), 0);
	check_files(&f, false, what);
	printf("%-46s ok\n", what);
}

static void *submitter(void *arg)
{
	submit_and_close(arg, true);
	return NULL;
}

static void thread_ends_after_close(int flags, bool reads, const char *what)
{
	struct io_event ev[NFILES];
	struct files f;
	pthread_t t;
	int got;

	ctx = t_setup(NFILES);
	files_open(&f, flags, reads);
	f.decoy = t_scratch_file(0, 0);
	T_EQ(pthread_create(&t, NULL, submitter, &f), 0);
	T_EQ(pthread_join(t, NULL), 0);
	T_EQ(f.submitted, NFILES);
	got = t_wait_events(ctx, NFILES, ev, 20000);
	if (got != NFILES)
		T_FAIL("%s: %d of %d events", what, got, NFILES);
	for (int i = 0; i < NFILES; i++)
		if ((long)ev[i].res != f.len)
			T_FAIL("%s: the request to file %ld: res %ld, "
			       "expected %ld",
			       what, (long)ev[i].data, (long)ev[i].res, f.len);
	T_EQ(io_destroy(ctx), 0);
	if (reads) {
		for (int i = 0; i < NFILES; i++)
			for (long k = 0; k < f.len; k++)
				if (f.buf[(size_t)i * f.len + k] !=
				    t_pattern(k))
					T_FAIL("%s: read %d, byte %ld: not its "
					       "file's",
					       what, i, k);
		for (int i = 0; i < NFILES; i++) {
			close(f.chk[i]);
			close(f.fd[i]);
		}
		close(f.decoy);
		free(f.buf);
	} else {
		check_files(&f, true, what);
	}
	printf("%-46s ok\n", what);
}

int main(void)
{
	destroy_after_close(O_DSYNC, "O_DSYNC: closed, then io_destroy");
	destroy_after_close(O_DIRECT, "O_DIRECT: closed, then io_destroy");
	thread_ends_after_close(O_DSYNC, false,
				"O_DSYNC: closed, fd reused, thread ends");
	thread_ends_after_close(O_DIRECT, false,
				"O_DIRECT: closed, fd reused, thread ends");
	thread_ends_after_close(
	    0, true, "buffered reads: closed, fd reused, thread ends");
	return 0;
}
