/*
 * A read completes with what is there, as the kernel's does: only regular
 * files and block devices are read to the full length (or EOF); pipes,
 * FIFOs, sockets, ttys and character devices give the bytes that arrived,
 * and the bytes written after them stay for the next reader.
 *
 * For every kind of descriptor: "hello" is written, a 16-byte PREAD must
 * complete with 5; then "world!" is written and a plain read() must get it
 * whole.  Then a PREAD is submitted on an empty stream from one thread while
 * another writes "later" 50 ms later (the kernel engine blocks in io_submit
 * meanwhile, as kernel AIO does): res must be 5.
 */
#include "behaviour.h"

#include <linux/loop.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <pty.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>

struct pair {
	const char *name;
	int rfd, wfd;
	bool stream; /* bytes after the first read stay readable */
};

static io_context_t ctx;

static void write_all(int fd, const char *s)
{
	size_t len = strlen(s);
	if (write(fd, s, len) != (ssize_t)len)
		T_FAIL("write: %s", strerror(errno));
}

static long aio_read16(int fd, char *buf)
{
	struct iocb cb, *p = &cb;
	struct io_event ev;
	int ret;

	memset(buf, 0, 17);
	io_prep_pread(&cb, fd, buf, 16, 0);
	ret = io_submit(ctx, 1, &p);
	if (ret != 1)
		T_FAIL("io_submit = %d (%s)", ret,
		       ret < 0 ? strerror(-ret) : "");
	if (t_wait_events(ctx, 1, &ev, 5000) != 1)
		return -1000; /* no completion: the bug this test is about */
	T_ASSERT(ev.obj == &cb);
	return (long)ev.res;
}

struct later {
	int fd;
	const char *s;
};

static void *write_later(void *arg)
{
	struct later *l = arg;

	t_sleep_ms(50);
	write_all(l->fd, l->s);
	return NULL;
}

static void check_pair(struct pair *p)
{
	char buf[17], rest[32];
	long res;
	ssize_t n;

	write_all(p->wfd, "hello");
	res = aio_read16(p->rfd, buf);
	if (res != 5 || memcmp(buf, "hello", 5))
		T_FAIL("%s: read of 16 after \"hello\": res %ld, \"%s\"",
		       p->name, res, buf);
	write_all(p->wfd, "world!");
	memset(rest, 0, sizeof(rest));
	n = read(p->rfd, rest, sizeof(rest) - 1);
	if (n != 6 || strcmp(rest, "world!"))
		T_FAIL("%s: the bytes written next were not left for the next "
		       "reader: read %zd \"%s\"",
		       p->name, n, rest);

	pthread_t th;
	struct later l = {p->wfd, "later"};
	T_EQ(pthread_create(&th, NULL, write_later, &l), 0);
	res = aio_read16(p->rfd, buf);
	pthread_join(th, NULL);
	if (res != 5 || memcmp(buf, "later", 5))
		T_FAIL("%s: read of an empty stream, then \"later\": res %ld "
		       "\"%s\"",
		       p->name, res, buf);
	printf("%-22s ok\n", p->name);
}

static void pipe_pair(struct pair *p)
{
	int fds[2];

	t_pipe(fds);
	*p = (struct pair){"pipe", fds[0], fds[1], true};
}

static void fifo_pair(struct pair *p)
{
	char path[256];
	const char *dir = getenv("TMPDIR");

	snprintf(path, sizeof(path), "%s/uaio-fifo-%d", dir ? dir : "/tmp",
		 (int)getpid());
	unlink(path);
	if (mkfifo(path, 0600))
		T_FAIL("mkfifo: %s", strerror(errno));
	/* O_RDWR: neither end waits for the other to open. */
	int r = open(path, O_RDWR | O_CLOEXEC);
	int w = open(path, O_WRONLY | O_CLOEXEC);
	unlink(path);
	T_ASSERT(r >= 0 && w >= 0);
	*p = (struct pair){"FIFO", r, w, true};
}

static void socketpair_pair(struct pair *p, int type, const char *name)
{
	int sv[2];

	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv))
		T_FAIL("socketpair: %s", strerror(errno));
	*p = (struct pair){name, sv[0], sv[1], true};
}

static void tcp_pair(struct pair *p)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	T_ASSERT(l >= 0 && c >= 0);
	T_EQ(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	T_EQ(listen(l, 1), 0);
	T_EQ(getsockname(l, (struct sockaddr *)&a, &len), 0);
	T_EQ(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
	int s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	T_ASSERT(s >= 0);
	close(l);
	*p = (struct pair){"TCP socket", s, c, true};
}

static bool pty_pair(struct pair *p)
{
	int master, slave;
	struct termios t;

	if (openpty(&master, &slave, NULL, NULL, NULL))
		return false;
	/* Raw: bytes reach the reader as written, without echo. */
	T_EQ(tcgetattr(slave, &t), 0);
	cfmakeraw(&t);
	T_EQ(tcsetattr(slave, TCSANOW, &t), 0);
	*p = (struct pair){"pty (tty)", slave, master, true};
	return true;
}

/* A loop device over a scratch file of size bytes, or -1 (not root...). */
static int loop_device(int *loopfd, size_t size)
{
	char path[64];
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC), n, dev;
	int back = t_scratch_file(size, 0);

	n = ctl < 0 ? -1 : ioctl(ctl, LOOP_CTL_GET_FREE);
	if (ctl >= 0)
		close(ctl);
	if (n < 0)
		return -1;
	snprintf(path, sizeof(path), "/dev/loop%d", n);
	dev = open(path, O_RDWR | O_CLOEXEC);
	if (dev < 0 || ioctl(dev, LOOP_SET_FD, back) < 0) {
		if (dev >= 0)
			close(dev);
		close(back);
		return -1;
	}
	close(back);
	*loopfd = dev;
	return dev;
}

/* Character devices and other files that are never short of data. */
static void check_whole(const char *name, int fd, long want)
{
	char buf[17];
	long res = aio_read16(fd, buf);

	if (res != want)
		T_FAIL("%s: read of 16: res %ld, expected %ld", name, res,
		       want);
	printf("%-22s ok\n", name);
}

int main(void)
{
	struct pair p;
	char buf[17];
	long res;

	signal(SIGPIPE, SIG_IGN);
	ctx = t_setup(16);

	pipe_pair(&p);
	check_pair(&p);
	fifo_pair(&p);
	check_pair(&p);
	socketpair_pair(&p, SOCK_STREAM, "unix stream socket");
	check_pair(&p);
	socketpair_pair(&p, SOCK_SEQPACKET, "unix seqpacket socket");
	check_pair(&p);
	tcp_pair(&p);
	check_pair(&p);
	if (pty_pair(&p))
		check_pair(&p);
	else
		printf("%-22s skipped: no pty\n", "pty (tty)");

	check_whole("/dev/zero", open("/dev/zero", O_RDONLY | O_CLOEXEC), 16);
	check_whole("/dev/null", open("/dev/null", O_RDONLY | O_CLOEXEC), 0);
	check_whole("/dev/urandom", open("/dev/urandom", O_RDONLY | O_CLOEXEC),
		    16);

	/* An eventfd gives its 8-byte counter. */
	int efd = eventfd(3, EFD_CLOEXEC);
	T_ASSERT(efd >= 0);
	check_whole("eventfd", efd, 8);

	/* An empty stream opened O_NONBLOCK answers EAGAIN at once. */
	int nb[2];
	T_EQ(pipe2(nb, O_CLOEXEC | O_NONBLOCK), 0);
	res = aio_read16(nb[0], buf);
	if (res != -EAGAIN)
		T_FAIL("empty O_NONBLOCK pipe: res %ld, expected -EAGAIN", res);
	printf("%-22s ok\n", "O_NONBLOCK pipe, empty");

	/* A regular file stops at EOF. */
	int ffd = t_scratch_file(0, 0);
	T_EQ(pwrite(ffd, "hello", 5, 0), 5);
	res = aio_read16(ffd, buf);
	if (res != 5)
		T_FAIL("regular file of 5 bytes: read of 16: res %ld", res);
	printf("%-22s ok\n", "regular file at EOF");

	/* A block device is read whole, up to its end. */
	int lfd;
	if (loop_device(&lfd, 65536) >= 0) {
		struct iocb cb, *pp = &cb;
		struct io_event ev;
		char big[4096];

		io_prep_pread(&cb, lfd, big, sizeof(big), 65536 - 1024);
		T_EQ(io_submit(ctx, 1, &pp), 1);
		T_EQ(t_wait_events(ctx, 1, &ev, 5000), 1);
		T_EQ((long)ev.res, 1024);
		check_whole("block device (loop)", lfd, 16);
		ioctl(lfd, LOOP_CLR_FD, 0);
		close(lfd);
	} else {
		printf("%-22s skipped: no loop device\n", "block device");
	}
	return 0;
}
