/*
 * A POLL and a read waiting on one pipe: one write wakes both, as the
 * kernel wakes every waiter of a stream at once, even though the read then
 * takes the bytes.  Many rounds, since the engine's poll thread can see the
 * bytes arrive between two of its waiters.  Not on the kernel engine nor
 * the reference: kernel AIO reads an empty pipe inside io_submit.
 */
#include <poll.h>
#include <string.h>

#include "behaviour.h"

#define ROUNDS 3000

int main(void)
{
	io_context_t ctx;
	char buf[64];

	T_SKIP_IF(t_is_ref() || !strcmp(t_engine(), "kernel"),
		  "kernel AIO reads an empty pipe inside io_submit");
	ctx = t_setup(8);
	for (int round = 0; round < ROUNDS; round++) {
		struct iocb cb[2], *p[2] = {&cb[0], &cb[1]};
		struct io_event ev[2];
		bool seen[2] = {false, false};
		int fds[2];

		t_pipe(fds);
		io_prep_pread(&cb[0], fds[0], buf, sizeof(buf), 0);
		io_prep_poll(&cb[1], fds[0], POLLIN);
		T_EQ(io_submit(ctx, 2, p), 2);
		T_EQ(write(fds[1], "data", 4), 4);
		if (t_wait_events(ctx, 2, ev, 5000) != 2)
			T_FAIL("round %d: a waiter of the pipe was not woken",
			       round);
		for (int i = 0; i < 2; i++) {
			int k = ev[i].obj == &cb[0] ? 0 : 1;

			T_ASSERT(!seen[k]);
			seen[k] = true;
			if (k == 0)
				T_EQ((long)ev[i].res, 4);
			else
				T_ASSERT((long)ev[i].res & POLLIN);
		}
		close(fds[0]);
		close(fds[1]);
	}
	T_EQ(io_destroy(ctx), 0);
	return 0;
}
