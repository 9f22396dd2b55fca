/*
 * Reads, writes, vectored and flagged I/O, syncs and end-of-file results,
 * through the page cache and with O_DIRECT; every byte is checked.
 */
#include "behaviour.h"

#include <sys/stat.h>
#include <sys/uio.h>

#define FILE_SIZE 65536
#define BS 4096

/* Distinct contents for each write so that a misplaced one shows. */
static unsigned char wpat(uint64_t off, unsigned seed)
{
	return (unsigned char)(t_pattern(off) ^ (seed * 0x3b + 0x11));
}

static void fill(unsigned char *buf, size_t len, uint64_t off, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = wpat(off + i, seed);
}

/*
 * The expected contents of the file, kept in step with every write so that
 * a read anywhere can be checked byte by byte.
 */
static unsigned char model[FILE_SIZE + 4 * BS];
static size_t model_size;

static void check_bytes(const unsigned char *buf, size_t len, uint64_t off,
			const char *what)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != model[off + i])
			T_FAIL("%s: byte %zu (file offset %llu) = 0x%02x, "
			       "expected 0x%02x",
			       what, i, (unsigned long long)(off + i), buf[i],
			       model[off + i]);
}

/* Read the file back with pread(2) and compare with the model. */
static void verify_file(int fd, unsigned char *scratch, const char *what)
{
	struct stat st;

	T_EQ(fstat(fd, &st), 0);
	T_EQ(st.st_size, model_size);
	for (size_t off = 0; off < model_size; off += BS) {
		T_EQ(pread(fd, scratch, BS, off), BS);
		check_bytes(scratch, BS, off, what);
	}
}

static void run(int fd, bool direct)
{
	io_context_t ctx = t_setup(32);
	unsigned char *buf = t_aligned(BS, 8 * BS);
	unsigned char *buf2 = t_aligned(BS, 8 * BS);
	struct iocb iocb, *iocbs[3];
	struct iocb batch[3];
	struct io_event ev[3];
	struct iovec iov[3];
	uint64_t tag = 0x5eed0000;

	fprintf(stderr, "%s\n", direct ? "O_DIRECT" : "buffered");
	for (size_t i = 0; i < FILE_SIZE; i++)
		model[i] = t_pattern(i);
	model_size = FILE_SIZE;

	/* PREAD */
	memset(buf, 0xee, BS);
	io_prep_pread(&iocb, fd, buf, BS, BS);
	iocb.data = (void *)++tag;
	t_run1(ctx, &iocb, BS);
	check_bytes(buf, BS, BS, "pread");

	/* PWRITE, seen by pread(2) and by an AIO read */
	fill(buf, BS, 2 * BS, 1);
	memcpy(model + 2 * BS, buf, BS);
	io_prep_pwrite(&iocb, fd, buf, BS, 2 * BS);
	iocb.data = (void *)++tag;
	t_run1(ctx, &iocb, BS);
	verify_file(fd, buf2, "after pwrite");

	/* PREADV over three iovecs of different lengths, across that write */
	memset(buf, 0xee, 4 * BS);
	iov[0] = (struct iovec){buf + 2 * BS, BS};
	iov[1] = (struct iovec){buf, 2 * BS};
	iov[2] = (struct iovec){buf + 3 * BS, BS};
	io_prep_preadv(&iocb, fd, iov, 3, BS);
	iocb.data = (void *)++tag;
	t_run1(ctx, &iocb, 4 * BS);
	check_bytes(buf + 2 * BS, BS, BS, "preadv iov[0]");
	check_bytes(buf, 2 * BS, 2 * BS, "preadv iov[1]");
	check_bytes(buf + 3 * BS, BS, 4 * BS, "preadv iov[2]");

	/* PWRITEV over three iovecs */
	fill(buf, 4 * BS, 5 * BS, 2);
	memcpy(model + 5 * BS, buf, 4 * BS);
	iov[0] = (struct iovec){buf, BS};
	iov[1] = (struct iovec){buf + BS, 2 * BS};
	iov[2] = (struct iovec){buf + 3 * BS, BS};
	io_prep_pwritev(&iocb, fd, iov, 3, 5 * BS);
	iocb.data = (void *)++tag;
	t_run1(ctx, &iocb, 4 * BS);
	verify_file(fd, buf2, "after pwritev");

	/* pwritev2 with RWF_DSYNC and RWF_SYNC */
	fill(buf, BS, 9 * BS, 3);
	memcpy(model + 9 * BS, buf, BS);
	iov[0] = (struct iovec){buf, BS};
	io_prep_pwritev2(&iocb, fd, iov, 1, 9 * BS, RWF_DSYNC);
	iocb.data = (void *)++tag;
	t_run1(ctx, &iocb, BS);
	fill(buf, BS, 10 * BS, 4);
	memcpy(model + 10 * BS, buf, BS);
	io_prep_pwritev2(&iocb, fd, iov, 1, 10 * BS, RWF_SYNC);
	iocb.data = (void *)++tag;
	t_run1(ctx, &iocb, BS);
	verify_file(fd, buf2, "after pwritev2 DSYNC/SYNC");

	/*
	 * preadv2 with flags: the kernel accepts RWF_HIPRI on AIO and drops
	 * it (nobody polls for the completion), and DSYNC/SYNC on a read.
	 */
	memset(buf, 0xee, 2 * BS);
	iov[0] = (struct iovec){buf, BS};
	iov[1] = (struct iovec){buf + BS, BS};
	io_prep_preadv2(&iocb, fd, iov, 2, 9 * BS, RWF_HIPRI);
	iocb.data = (void *)++tag;
	t_run1(ctx, &iocb, 2 * BS);
	check_bytes(buf, 2 * BS, 9 * BS, "preadv2 RWF_HIPRI");
	memset(buf, 0xee, 2 * BS);
	io_prep_preadv2(&iocb, fd, iov, 2, 9 * BS, RWF_DSYNC | RWF_SYNC);
	iocb.data = (void *)++tag;
	t_run1(ctx, &iocb, 2 * BS);
	check_bytes(buf, 2 * BS, 9 * BS, "preadv2 RWF_DSYNC|RWF_SYNC");

	/* RWF_APPEND: the offset is ignored, the data lands at EOF */
	fill(buf, 2 * BS, model_size, 5);
	memcpy(model + model_size, buf, 2 * BS);
	iov[0] = (struct iovec){buf, BS};
	iov[1] = (struct iovec){buf + BS, BS};
	io_prep_pwritev2(&iocb, fd, iov, 2, 0, RWF_APPEND);
	iocb.data = (void *)++tag;
	t_run1(ctx, &iocb, 2 * BS);
	model_size += 2 * BS;
	verify_file(fd, buf2, "after pwritev2 RWF_APPEND");

	/* FSYNC and FDSYNC */
	io_prep_fsync(&iocb, fd);
	iocb.data = (void *)++tag;
	t_run1(ctx, &iocb, 0);
	io_prep_fdsync(&iocb, fd);
	iocb.data = (void *)++tag;
	t_run1(ctx, &iocb, 0);

	/* Short read at EOF: res is the bytes there, the rest is untouched */
	memset(buf, 0xee, 4 * BS);
	io_prep_pread(&iocb, fd, buf, 4 * BS, model_size - BS);
	iocb.data = (void *)++tag;
	t_run1(ctx, &iocb, BS);
	check_bytes(buf, BS, model_size - BS, "short read");
	/*
	 * Through the page cache nothing past res is written.  O_DIRECT
	 * transfers whole blocks and the kernel trims res to EOF afterwards,
	 * so the bytes past res may change there (the reference writes zeros
	 * over the allocated block that follows).
	 */
	if (!direct)
		for (size_t i = BS; i < 4 * BS; i++)
			if (buf[i] != 0xee)
				T_FAIL("short read wrote byte %zu past res", i);

	/* At and beyond EOF: res 0, buffer untouched */
	memset(buf, 0xee, BS);
	io_prep_pread(&iocb, fd, buf, BS, model_size);
	iocb.data = (void *)++tag;
	t_run1(ctx, &iocb, 0);
	io_prep_pread(&iocb, fd, buf, BS, model_size + 16 * BS);
	iocb.data = (void *)++tag;
	t_run1(ctx, &iocb, 0);
	for (size_t i = 0; i < BS; i++)
		if (buf[i] != 0xee)
			T_FAIL("read beyond EOF wrote byte %zu", i);

	/*
	 * Three requests in one io_submit: a write and reads of other ranges;
	 * each event names its own iocb and data.
	 */
	fill(buf, BS, 12 * BS, 6);
	memcpy(model + 12 * BS, buf, BS);
	memset(buf + BS, 0xee, 2 * BS);
	io_prep_pwrite(&batch[0], fd, buf, BS, 12 * BS);
	io_prep_pread(&batch[1], fd, buf + BS, BS, 0);
	io_prep_pread(&batch[2], fd, buf + 2 * BS, BS, 14 * BS);
	for (int i = 0; i < 3; i++) {
		batch[i].data = (void *)(0xba7c0000ull + i);
		iocbs[i] = &batch[i];
	}
	T_EQ(io_submit(ctx, 3, iocbs), 3);
	T_EQ(t_wait_events(ctx, 3, ev, 5000), 3);
	for (int i = 0; i < 3; i++) {
		int k = (int)(ev[i].obj - batch);
		T_ASSERT(k >= 0 && k < 3);
		T_EVENT(&ev[i], &batch[k], BS);
	}
	check_bytes(buf + BS, BS, 0, "batch read 0");
	check_bytes(buf + 2 * BS, BS, 14 * BS, "batch read 14");
	verify_file(fd, buf2, "after batch");

	T_EQ(t_peek(ctx, 3, ev), 0);
	T_EQ(io_destroy(ctx), 0);
	free(buf);
	free(buf2);
	close(fd);
}

int main(void)
{
	run(t_scratch_file(FILE_SIZE, 0), false);
	run(t_scratch_file(FILE_SIZE, O_DIRECT), true);
	return 0;
}
