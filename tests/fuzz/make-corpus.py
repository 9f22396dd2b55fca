#!/usr/bin/env python3
"""Write the seed corpus of fuzz-diff (tests/fuzz/corpus/).

Each seed is a short sequence of calls in the fuzzer's input format, which
this file spells out (the decoder is in fuzz-diff.c).  Together they cover
every opcode, every descriptor kind, and the odd cases of each call, so
that fuzzing starts from inputs that already reach deep.

    ./tests/fuzz/make-corpus.py [DIR]      (default: tests/fuzz/corpus)
"""
import os
import sys

# ---- the input format ----
# byte 0: size of the first context, an index into the decoder's sizes[]
# (below 23: 1..1024), 0xff for none.  Then operations: a byte (mod 16)
# and its arguments.
SIZE_IDX = {1: 0, 2: 1, 3: 2, 4: 3, 7: 4, 8: 5, 9: 6, 15: 7, 16: 8, 17: 9,
            31: 10, 32: 11, 33: 12, 64: 13, 100: 14, 127: 15, 128: 16,
            129: 17, 255: 18, 256: 19, 511: 20, 1023: 21, 1024: 22,
            0: 23, -1: 24, 'INT_MIN': 25, 'INT_MAX': 26, 65536: 27,
            65537: 28, 4194304: 29, 4194305: 30, 0x1000000: 31}

OP_SUBMIT, OP_GETEVENTS, OP_PGETEVENTS, OP_CANCEL = 0, 5, 6, 7
OP_QUEUE_RUN, OP_DESTROY, OP_SETUP, OP_FILL = 8, 9, 10, 11
OP_DRAIN, OP_CLOSE, OP_USER_REAP, OP_MISC = 12, 13, 14, 15

# Context targets: slot 0, slot 1, a destroyed handle, garbage (kind 7,
# which garbage in the bits above 3).
CTX0, CTX1, STALE = 0, 5, 6
def GARBAGE(g=0): return 7 | (g << 3)

# Opcode indices (opcodes[] in the decoder).
PREAD, PWRITE, FSYNC, FDSYNC, POLL, PREADV, PWRITEV = 0, 2, 4, 5, 6, 8, 10
BAD4, NOOP6, BAD9, BADNEG = 12, 13, 14, 15

# Descriptor kinds (enum fdkind).
FK = dict(reg=0, reg_ro=1, reg_wo=2, reg_append=3, direct=4, shm=5,
          pipe_r=6, pipe_w=7, nbpipe_r=8, nbpipe_w=9, sock_a=10, sock_b=11,
          eventfd=12, dir=13, devnull=14, epoll=15, opath=16, closed=17,
          badfd=18)

# Pointer kinds (PK_* in the decoder): 0-5 the data area at an offset,
# 6 its 4 KiB-aligned, 7 512-aligned form, 8 close to its end; the rest
# fault: 9 NULL, 10 0x8000 or 0x10, 11 an unmapped page, 12 PROT_NONE,
# 13 read-only, 14 the kernel's half, 15 the end of user space.
DATA, A4K, A512, END = 0, 6, 7, 8
P_NULL, P_LOW, P_HOLE, P_NONE, P_RO, P_KHALF, P_KEND = 9, 10, 11, 12, 13, 14, 15

# Poll events by index (pollevs[]): 0 POLLIN, 1 POLLOUT, 2 both, 3 POLLPRI,
# 5 none, 11 0x10000 (EINVAL).
# Length indices (lengths[]): 0 0, 1 1, 4 8, 6 16, 7 64, 10 512, 14 4096,
# 16 8192, 19 65536, 20 1 MiB, 21 MAX_RW_COUNT, 24 SIZE_MAX.
L = {0: 0, 1: 1, 8: 4, 16: 6, 64: 7, 100: 8, 512: 10, 513: 11, 4095: 13,
     4096: 14, 8192: 16, 16384: 18, 65536: 19, 1 << 20: 20, 'max': 21,
     'ssize_max': 23, 'size_max': 24, 32: 31, 3: 27}
# Offset indices (offsets[]): 0 0, 3 1, 7 512, 10 4096, 12 8192, 15 16384,
# 20 1 TiB, 21 -1, 26 LLONG_MAX.
O = {0: 0, 1: 3, 512: 7, 4096: 10, 8192: 12, 16383: 14, 16384: 15, 1 << 40: 20,
     -1: 21, -4096: 24, 'llong_max': 26, 4097: 11}
# iovcnt indices (iovcnts[]): 0 0, 1 1, 3 2, 5 3, 6 4, 7 8, 8 9, 11 1024,
# 12 1025.
IOVCNT = {0: 0, 1: 1, 2: 3, 3: 5, 4: 6, 8: 7, 9: 8, 1024: 11, 1025: 12}
# rw_flags: below 128 none, else rwflags[b % 32].
RWF = {0: 0, 'hipri': 128, 'dsync': 129, 'sync': 130, 'nowait': 131,
       'append': 132, 'noappend': 133, 'atomic': 134, 'dontcache': 135,
       'nosignal': 136, 0x200: 137, 'append|noappend': 138,
       'all_bits': 148}
# aio flags.
F_RESFD, F_IOPRIO, F_UNKNOWN, F_RESERVED, F_KEY, F_GARBAGE = 1, 2, 4, 8, 16, 32
# resfd kinds (resfds[]): 0 the notify eventfd, 8 O_PATH, 9 closed, 10 -1,
# 11 a pipe, 12 a regular file.
RESFD = dict(notify=0, opath=8, closed=9, badfd=10, pipe=11, reg=12,
             epoll=13)
# I/O priorities (prios[]): 0 none, 1 BE 0, 5 RT 0, 7 NONE with a level
# (EINVAL), 8 class 4 (EINVAL), 10 -1.
PRIO = dict(none=0, be=1, rt=5, bad_level=7, bad_class=8, neg=10, idle=4)


def u16(v):
    return [v & 0xff, (v >> 8) & 0xff]


def ptr(kind, off=0):
    return [kind] + u16(off)


def entry(op, fk, p=None, n=0, off=0, rwf=0, flags=0, resfd=0, prio=0,
          slot=0, segs=()):
    """An iocb in an arena slot.  p is a pointer (kind, offset) or, for
    POLL, the poll events index; for vectored ops n is an iovcnt index and
    segs lists (kind, offset, length index)."""
    if p is None:
        p = (DATA, 0)
    if isinstance(p, int):
        p = (p, 0)
    b = [0, slot, op, FK[fk] if isinstance(fk, str) else fk]
    b += ptr(*p)
    b += [n, off, rwf, flags, resfd, prio]
    for (k, o, ln) in segs:
        b += ptr(k, o) + [ln]
    return b


def null_entry():
    return [12, 0]


def wild_entry(w=0):
    return [13, w]


def ro_entry(t):
    return [14, t]


def dup_entry(i):
    return [15, i]


def submit(entries, ctx=CTX0, nr_kind=0, pp=0, stack=False, khalf=False,
           unblock=False, thread=False):
    """pp: where the iocb pointer array is (0 the arena, 4 at the end of
    its page, 5 the stack, 6 NULL, 7 wild); stack: the iocbs on the stack;
    unblock: a stream read that would wait does wait, for a write that
    comes 2 ms later (instead of getting RWF_NOWAIT); thread: io_submit is
    called by a thread that exits right after."""
    n = len(entries)
    assert 1 <= n <= 8
    bp = pp | (8 if khalf else 0) | (16 if stack else 0) | \
        (32 if unblock else 0) | (64 if thread else 0)
    out = [OP_SUBMIT, ctx, (n - 1) | (nr_kind << 3), bp]
    for e in entries:
        out += e
    return out


def getevents(min_i=1, nr_i=2, ctx=CTX0, ev=0, evp=0, ts=1, tsv=3,
              mask=None):
    """min_i, nr_i index counts[]: 0 0, 1 1, 3 2, 6 8, 8 64, 11 -1,
    13 LONG_MAX.  ev: events pointer kind (0-8 the events area, 9
    unaligned, 10 at its end, 11 NULL, 12 wild, 13 PROT_NONE, 14
    read-only, 15 kernel half).  ts: timeout kind (0 NULL, 1-3 a value
    timeouts[tsv], 4 unaligned, 5 read-only zeros, 6 faulting, 7 kernel
    half)."""
    if mask is None:
        return [OP_GETEVENTS, ctx, min_i, nr_i, ev, evp, ts, tsv]
    return [OP_PGETEVENTS, ctx, min_i, nr_i, ev, evp, ts, tsv, mask]


def cancel(slot=0, ctx=CTX0, kind=0, settle=True, result=0):
    return [OP_CANCEL, ctx, kind | (8 if settle else 0), slot, result]


def setup(slot=1, kind=0, size=8):
    return [OP_SETUP, slot | (kind << 1), SIZE_IDX[size]]


def destroy(ctx=CTX0):
    return [OP_DESTROY, ctx]


def queue_run(ctx=CTX0):
    return [OP_QUEUE_RUN, ctx]


def fill(kind, amount=2):
    """kind: 0 pipe_w, 1 nbpipe_w, 2 sock_a, 3 sock_b, 4 eventfd;
    amount indexes 1, 7, 64, 512, 4096, 16384, 3, 100."""
    return [OP_FILL, kind, amount]


def drain(kind):
    """kind: 0 pipe_r, 1 nbpipe_r, 2 sock_a, 3 sock_b, 4 eventfd."""
    return [OP_DRAIN, kind]


CLOSE = dict(pipe_r=0, pipe_w=1, nbpipe_w=2, sock_b=3, reg=4, direct=5,
             eventfd=6, devnull=7, dir=8, epoll=9, notify=10, shm=11)


def close(kind, settle=False):
    return [OP_CLOSE, CLOSE[kind] | (0x80 if settle else 0)]


def user_reap(k=4, ctx=CTX0):
    return [OP_USER_REAP, ctx, k - 1]


def sleep(units=2):
    return [OP_MISC, 1 | (units << 4)]


def queue_wait(ctx=CTX0, ts=1, tsv=0):
    return [OP_MISC, 0, ctx, ts, tsv]


def mremap(slot=0):
    """Move the ring of a context slot with mremap() on both sides."""
    return [OP_MISC, 2 | (slot << 2)]


def seq(*ops, size=8):
    out = [SIZE_IDX[size] if size is not None else 0xff]
    for o in ops:
        out += o
    return bytes(out)


REAP = getevents(min_i=0, nr_i=8, ts=1, tsv=3)

SEEDS = {
    # every opcode on a regular file
    'reg-pread': seq(submit([entry(PREAD, 'reg', (DATA, 0), L[4096])]),
                     getevents(1, 1)),
    'reg-pwrite-fsync': seq(submit([entry(PWRITE, 'reg', (DATA, 100), L[512],
                                          O[4097]),
                                    entry(FSYNC, 'reg', slot=1),
                                    entry(FDSYNC, 'reg', slot=2)]),
                            REAP),
    'reg-vectored': seq(submit([entry(PREADV, 'reg', (DATA, 0), IOVCNT[3],
                                      O[0], segs=[(DATA, 0, L[16]),
                                                  (DATA, 4096, L[4096]),
                                                  (DATA, 9000, L[1])]),
                                entry(PWRITEV, 'reg', (DATA, 0), IOVCNT[2],
                                      O[8192], slot=3,
                                      segs=[(DATA, 20000, L[512]),
                                            (DATA, 30000, L[64])])]),
                        REAP),
    'reg-poll': seq(submit([entry(POLL, 'reg', 2)]), getevents(1, 1)),
    'reg-modes': seq(submit([entry(PWRITE, 'reg_ro', (DATA, 0), L[16])]),
                     submit([entry(PREAD, 'reg_wo', (DATA, 0), L[16])]),
                     submit([entry(PWRITE, 'reg_append', (DATA, 0), L[16]),
                             entry(PREAD, 'reg_wo', (DATA, 0), L[16],
                                   slot=1)]),
                     REAP),
    'reg-big-offsets': seq(submit([entry(PWRITE, 'reg', (DATA, 0), L[16],
                                         O[1 << 40])]),
                           submit([entry(PREAD, 'reg', (DATA, 0), L[1 << 20],
                                         O[0], slot=1)]),
                           submit([entry(PREAD, 'reg', (DATA, 0), L[16],
                                         O[-1], slot=2)]),
                           submit([entry(PREAD, 'reg', (DATA, 0), L[16],
                                         O['llong_max'], slot=3)]),
                           REAP),
    'reg-bad-lengths': seq(submit([entry(PREAD, 'reg', (DATA, 0),
                                         L['ssize_max'])]),
                           submit([entry(PREAD, 'reg', (DATA, 0),
                                         L['size_max'], slot=1)]),
                           submit([entry(PREADV, 'reg', (DATA, 0),
                                         IOVCNT[1025], slot=2)]),
                           submit([entry(PREADV, 'reg', (DATA, 0),
                                         IOVCNT[1024], slot=3)]),
                           REAP),
    'reg-bad-buffers': seq(submit([entry(PREAD, 'reg', (P_NULL, 0), L[16]),
                                   entry(PREAD, 'reg', (P_HOLE, 0), L[16],
                                         slot=1),
                                   entry(PREAD, 'reg', (P_RO, 0), L[16],
                                         slot=2),
                                   entry(PWRITE, 'reg', (P_NONE, 0), L[16],
                                         slot=3)]),
                           submit([entry(PREAD, 'reg', (P_KHALF, 0), L[16],
                                         slot=4)]),
                           submit([entry(PREAD, 'reg', (P_KEND, 4), L[16],
                                         slot=5)]),
                           submit([entry(PREAD, 'reg', (END, 100), L[4096],
                                         slot=6)]),
                           REAP),
    # O_DIRECT
    'direct-aligned': seq(submit([entry(PREAD, 'direct', (A4K, 0), L[4096],
                                        O[4096]),
                                  entry(PWRITE, 'direct', (A4K, 8192),
                                        L[4096], O[8192], slot=1)]),
                          getevents(3, 3, ts=1, tsv=4)),
    'direct-unaligned': seq(submit([entry(PREAD, 'direct', (DATA, 3), L[100],
                                          O[1])]),
                            submit([entry(PREAD, 'direct', (A512, 600),
                                          L[512], O[512], slot=1)]),
                            REAP),
    'direct-cancel-inflight': seq(submit([entry(PREAD, 'direct', (A4K, 0),
                                                L[8192], O[0])]),
                                  cancel(0, settle=False), REAP),
    # streams
    'pipe-read-write': seq(submit([entry(PREAD, 'pipe_r', (DATA, 0),
                                         L[100])]),
                           submit([entry(PWRITE, 'pipe_w', (DATA, 0), L[64],
                                         slot=1)]),
                           REAP, drain(0)),
    'pipe-read-empty': seq(drain(0), submit([entry(PREAD, 'pipe_r',
                                                   (DATA, 0), L[16])]),
                           REAP),
    'pipe-eof': seq(drain(0), close('pipe_w'),
                    submit([entry(PREAD, 'pipe_r', (DATA, 0), L[16])]),
                    REAP),
    'pipe-epipe': seq(close('pipe_r'),
                      submit([entry(PWRITE, 'pipe_w', (DATA, 0), L[16])]),
                      REAP),
    'pipe-offset': seq(submit([entry(PREAD, 'pipe_r', (DATA, 0), L[16],
                                     O[4096])]),
                       REAP),
    'nbpipe': seq(drain(1), submit([entry(PREAD, 'nbpipe_r', (DATA, 0),
                                          L[16]),
                                    entry(PWRITE, 'nbpipe_w', (DATA, 0),
                                          L[64], slot=1)]),
                  REAP, drain(1)),
    'sock': seq(submit([entry(PREAD, 'sock_a', (DATA, 0), L[512])]),
                submit([entry(PWRITE, 'sock_b', (DATA, 0), L[64],
                              slot=1)]),
                submit([entry(PREAD, 'sock_b', (DATA, 0), L[16], O[4096],
                              slot=2)]),
                REAP, drain(2), drain(3)),
    'eventfd': seq(submit([entry(PREAD, 'eventfd', (DATA, 0), L[8])]),
                   submit([entry(PREAD, 'eventfd', (DATA, 0), L[3],
                                 slot=1)]),
                   submit([entry(PWRITE, 'eventfd', (DATA, 0), L[8],
                                 slot=2)]),
                   REAP, drain(4)),
    'eventfd-poll-fill': seq(drain(4), submit([entry(POLL, 'eventfd', 0)]),
                             fill(4, 1), getevents(1, 1, ts=1, tsv=4)),
    # other descriptor kinds
    'dir': seq(submit([entry(PREAD, 'dir', (DATA, 0), L[16])]),
               submit([entry(PWRITE, 'dir', (DATA, 0), L[16], slot=1)]),
               submit([entry(FSYNC, 'dir', slot=2),
                       entry(POLL, 'dir', 0, slot=3)]),
               REAP),
    'devnull': seq(submit([entry(PREAD, 'devnull', (DATA, 0), L[16]),
                           entry(PWRITE, 'devnull', (DATA, 0), L[16],
                                 slot=1),
                           entry(POLL, 'devnull', 2, slot=2)]),
                   submit([entry(FSYNC, 'devnull', slot=3)]),
                   REAP),
    'epoll': seq(submit([entry(PREAD, 'epoll', (DATA, 0), L[16])]),
                 submit([entry(POLL, 'epoll', 0, slot=1)]),
                 fill(1, 2), REAP),
    'shm': seq(submit([entry(PREAD, 'shm', (DATA, 0), L[4096]),
                       entry(PWRITE, 'shm', (DATA, 8192), L[512], O[4096],
                             slot=1)]),
               submit([entry(PREAD, 'shm', (DATA, 0), L[16], O[0],
                             RWF['nowait'], slot=2)]),
               REAP),
    'bad-fds': seq(submit([entry(PREAD, 'opath', (DATA, 0), L[16])]),
                   submit([entry(POLL, 'closed', 0, slot=1)]),
                   submit([entry(FSYNC, 'badfd', slot=2)]),
                   REAP),
    # iocb fields
    'bad-opcodes': seq(submit([entry(BAD4, 'reg')]),
                       submit([entry(NOOP6, 'reg', slot=1)]),
                       submit([entry(BAD9, 'reg', slot=2)]),
                       submit([entry(BADNEG, 'reg', slot=3)]),
                       submit([entry(FSYNC, 'reg', flags=F_GARBAGE,
                                     slot=4)]),
                       submit([entry(POLL, 'reg', 11, slot=5)]),
                       REAP),
    'reserved-key': seq(submit([entry(PREAD, 'reg', (DATA, 0), L[16],
                                      flags=F_RESERVED)]),
                        submit([entry(PREAD, 'reg', (DATA, 0), L[16],
                                      flags=F_KEY | F_UNKNOWN, slot=1)]),
                        REAP),
    'resfd': seq(submit([entry(PREAD, 'reg', (DATA, 0), L[16],
                               flags=F_RESFD, resfd=RESFD['notify']),
                         entry(POLL, 'reg', 0, flags=F_RESFD,
                               resfd=RESFD['notify'], slot=1)]),
                 submit([entry(PREAD, 'reg', (DATA, 0), L[16],
                               flags=F_RESFD, resfd=RESFD['pipe'],
                               slot=2)]),
                 submit([entry(PREAD, 'reg', (DATA, 0), L[16],
                               flags=F_RESFD, resfd=RESFD['closed'],
                               slot=3)]),
                 submit([entry(PREAD, 'reg', (DATA, 0), L[16],
                               flags=F_RESFD, resfd=RESFD['opath'],
                               slot=4)]),
                 REAP),
    'ioprio': seq(submit([entry(PREAD, 'reg', (DATA, 0), L[16],
                                flags=F_IOPRIO, prio=PRIO['be'])]),
                  submit([entry(PREAD, 'direct', (A4K, 0), L[4096],
                                flags=F_IOPRIO, prio=PRIO['rt'], slot=1)]),
                  submit([entry(PREAD, 'reg', (DATA, 0), L[16],
                                flags=F_IOPRIO, prio=PRIO['bad_level'],
                                slot=2)]),
                  submit([entry(PREAD, 'reg', (DATA, 0), L[16],
                                flags=F_IOPRIO, prio=PRIO['bad_class'],
                                slot=3)]),
                  submit([entry(FSYNC, 'reg', flags=F_IOPRIO,
                                prio=PRIO['neg'], slot=4)]),
                  REAP),
    'rw-flags': seq(submit([entry(PREAD, 'reg', (DATA, 0), L[16], O[0],
                                  RWF['hipri'])]),
                    submit([entry(PWRITE, 'reg', (DATA, 0), L[16], O[0],
                                  RWF['dsync'], slot=1)]),
                    submit([entry(PWRITE, 'reg', (DATA, 0), L[16], O[0],
                                  RWF['append|noappend'], slot=2)]),
                    submit([entry(PREAD, 'reg', (DATA, 0), L[16], O[0],
                                  RWF[0x200], slot=3)]),
                    submit([entry(PREAD, 'pipe_r', (DATA, 0), L[16], O[0],
                                  RWF['dontcache'], slot=4)]),
                    submit([entry(PWRITE, 'direct', (A4K, 0), L[4096],
                                  O[0], RWF['atomic'], slot=5)]),
                    submit([entry(PWRITE, 'pipe_w', (DATA, 0), L[16], O[0],
                                  RWF['nowait'], slot=6)]),
                    REAP),
    # iocb and array pointers
    'iocb-pointers': seq(submit([entry(PREAD, 'reg', (DATA, 0), L[16]),
                                 null_entry()]),
                         submit([wild_entry(0)]),
                         submit([wild_entry(3)]),
                         submit([ro_entry(0)]),
                         submit([ro_entry(1)]),
                         submit([ro_entry(2)]),
                         submit([ro_entry(3)]),
                         REAP),
    'iocbpp': seq(submit([entry(PREAD, 'reg', (DATA, 0), L[16])], pp=4,
                         nr_kind=6),
                  submit([entry(PREAD, 'reg', (DATA, 0), L[16], slot=1)],
                         pp=5, stack=True),
                  submit([entry(PREAD, 'reg', (DATA, 0), L[16], slot=2)],
                         pp=7, khalf=True),
                  submit([entry(PREAD, 'reg', (DATA, 0), L[16], slot=3)],
                         nr_kind=5),
                  submit([entry(PREAD, 'reg', (DATA, 0), L[16], slot=4)],
                         nr_kind=7),
                  REAP),
    'duplicates': seq(submit([entry(POLL, 'reg', 0), dup_entry(0),
                              entry(PREAD, 'reg', (DATA, 0), L[16],
                                    slot=1),
                              dup_entry(2)]),
                      REAP),
    # reaping
    'getevents-args': seq(submit([entry(PREAD, 'reg', (DATA, 0), L[16])]),
                          getevents(3, 1),
                          getevents(11, 1),
                          getevents(1, 1, ev=11),
                          getevents(1, 1, ev=14),
                          getevents(1, 1, ev=10, evp=0),
                          getevents(1, 1, ts=6),
                          getevents(1, 1, ts=7),
                          getevents(1, 1, ts=1, tsv=10),
                          getevents(1, 13, ev=9)),
    'getevents-wait': seq(getevents(1, 1, ts=0),
                          getevents(1, 1, ts=1, tsv=7),
                          getevents(0, 1, ts=5),
                          getevents(1, 1, ts=4, tsv=2)),
    'pgetevents': seq(submit([entry(PREAD, 'reg', (DATA, 0), L[16])]),
                      getevents(0, 0, mask=1),
                      getevents(1, 1, mask=4),
                      getevents(1, 1, mask=5),
                      getevents(1, 1, mask=2)),
    'queue-run': seq(submit([entry(PREAD, 'reg', (DATA, 0), L[16]),
                             entry(PWRITE, 'devnull', (DATA, 0), L[16],
                                   slot=1)]),
                     queue_run(), queue_run(GARBAGE(1))),
    'user-reap': seq(submit([entry(PREAD, 'reg', (DATA, 0), L[16]),
                             entry(POLL, 'reg', 1, slot=1),
                             entry(PREAD, 'shm', (DATA, 4096), L[16],
                                   slot=2)]),
                     user_reap(2), REAP),
    # cancel
    'poll-cancel': seq(drain(0), submit([entry(POLL, 'pipe_r', 0)]),
                       cancel(0), REAP, cancel(0)),
    'poll-fill': seq(drain(0), submit([entry(POLL, 'pipe_r', 0),
                                       entry(POLL, 'pipe_w', 1, slot=1)]),
                     fill(0, 2), REAP),
    'cancel-args': seq(submit([entry(PREAD, 'reg', (DATA, 0), L[16])]),
                       cancel(0), cancel(0, kind=5), cancel(0, kind=6),
                       cancel(1, kind=7), cancel(0, ctx=GARBAGE(2)),
                       REAP),
    # contexts
    'two-contexts': seq(setup(1, 0, 3),
                        submit([entry(PREAD, 'reg', (DATA, 0), L[16])],
                               ctx=CTX1),
                        submit([entry(PREAD, 'shm', (DATA, 0), L[16],
                                      slot=1)]),
                        getevents(1, 1, ctx=CTX1), REAP),
    'destroy': seq(drain(0), submit([entry(POLL, 'pipe_r', 0,
                                           flags=F_RESFD)]),
                   destroy(), submit([entry(PREAD, 'reg', (DATA, 0), L[16],
                                            slot=1)], ctx=STALE),
                   getevents(1, 1, ctx=STALE), destroy(STALE)),
    'setup-args': seq(setup(1, 0, 0), setup(1, 0, -1), setup(1, 0, 65537),
                      setup(1, 0, 'INT_MIN'), setup(1, 0, 4194305),
                      setup(1, 1, 8), setup(1, 2, 8), setup(1, 5, 8),
                      setup(1, 6, 8), setup(1, 0, 1024), setup(0, 0, 8),
                      size=None),
    'garbage-handles': seq(submit([entry(PREAD, 'reg', (DATA, 0), L[16])],
                                  ctx=GARBAGE(0)),
                           getevents(1, 1, ctx=GARBAGE(3)),
                           destroy(GARBAGE(4)), queue_run(GARBAGE(2))),
    'close-inflight': seq(drain(0), submit([entry(POLL, 'pipe_r', 0)]),
                          close('pipe_w'), REAP,
                          submit([entry(PREAD, 'direct', (A4K, 0), L[4096],
                                        slot=1)]),
                          close('direct'), REAP),
    'stack-iocbs': seq(submit([entry(PREAD, 'reg', (DATA, 0), L[16]),
                               entry(PWRITE, 'shm', (DATA, 0), L[16],
                                     slot=1)], stack=True),
                       REAP),
    'fill-drain': seq(fill(0, 4), fill(2, 3), fill(3, 1), drain(0),
                      drain(2), drain(3), sleep(1), queue_wait()),
    # reads that wait for data (the emulated engines' waiting path)
    'pipe-read-waits': seq(drain(0), submit([entry(PREAD, 'pipe_r',
                                                   (DATA, 0), L[100])],
                                            unblock=True),
                           REAP, drain(0)),
    'sock-read-waits': seq(drain(3), submit([entry(PREADV, 'sock_b',
                                                   (DATA, 0), IOVCNT[2],
                                                   segs=[(DATA, 0, L[8]),
                                                         (DATA, 100,
                                                          L[512])])],
                                            unblock=True),
                           REAP),
    'eventfd-read-waits': seq(drain(4), submit([entry(PREAD, 'eventfd',
                                                      (DATA, 0), L[8]),
                                                entry(PREAD, 'reg',
                                                      (DATA, 64), L[16],
                                                      slot=1)],
                                               unblock=True),
                              REAP),
    'read-waits-cancel': seq(drain(0), submit([entry(PREAD, 'pipe_r',
                                                     (DATA, 0), L[16])],
                                              unblock=True),
                             cancel(0, settle=False), REAP),
    'read-waits-destroy': seq(drain(0), submit([entry(PREAD, 'pipe_r',
                                                      (DATA, 0), L[16])],
                                               unblock=True),
                              destroy()),
    # rings that move, requests of threads that exit
    'mremap': seq(submit([entry(PREAD, 'reg', (DATA, 0), L[16])]), mremap(),
                  REAP, submit([entry(POLL, 'pipe_w', 1, slot=1),
                                entry(PREAD, 'direct', (A4K, 0), L[4096],
                                      slot=2)]),
                  mremap(), getevents(2, 2, ts=1, tsv=4), queue_run(),
                  submit([entry(PREAD, 'reg', (DATA, 0), L[16], slot=3)],
                         ctx=STALE),
                  destroy()),
    'thread-submit': seq(submit([entry(FSYNC, 'reg'),
                                 entry(PREAD, 'direct', (A4K, 0), L[4096],
                                       slot=1)], thread=True),
                         drain(0),
                         submit([entry(PREAD, 'pipe_r', (DATA, 0), L[64],
                                       slot=2)], thread=True, unblock=True),
                         submit([entry(POLL, 'eventfd', 0, slot=3)],
                                thread=True),
                         REAP, fill(4, 1), REAP),
    # the patterns of the known bugs (KNOWN_BUG_* in fuzz-diff.c)
    'bug-rwf-nosignal': seq(submit([entry(PREAD, 'reg', (DATA, 0), L[16],
                                          O[0], RWF['nosignal'])]),
                            submit([entry(PWRITE, 'pipe_w', (DATA, 0),
                                          L[16], O[0], RWF['nosignal'],
                                          slot=1)]),
                            REAP),
    'bug-nowait-buffered-write': seq(submit([entry(PWRITE, 'reg',
                                                   (DATA, 0), L[16], O[0],
                                                   RWF['nowait'])]),
                                     REAP),
    'bug-poll-without-poll-method': seq(submit([entry(POLL, 'reg', 5)]),
                                        submit([entry(POLL, 'dir', 3,
                                                      slot=1)]),
                                        REAP),
    'bug-zero-length': seq(close('sock_b'),
                           submit([entry(PWRITE, 'sock_a', (DATA, 0),
                                         L[0], slot=3)]),
                           submit([entry(PREAD, 'eventfd', (DATA, 0),
                                         L[0])]),
                           submit([entry(PREAD, 'dir', (DATA, 0), L[0],
                                         slot=1)]),
                           submit([entry(PWRITE, 'direct', (A4K, 0), L[0],
                                         O[0], RWF['atomic'], slot=2)]),
                           submit([entry(PWRITE, 'reg', (DATA, 0), L[0],
                                         O[0], RWF['atomic'], slot=4)]),
                           submit([entry(PREADV, 'eventfd', (DATA, 0),
                                         IOVCNT[9], slot=5,
                                         segs=[(DATA, 0, L[0])] * 4)]),
                           REAP),
    'bug-poll-batch-order': seq(submit([entry(PREAD, 'pipe_r', (DATA, 0),
                                              L[4096]),
                                        entry(POLL, 'pipe_r', 0, slot=1)]),
                                REAP, cancel(1), REAP),
    'bug-reaper-stall': seq(submit([entry(FSYNC, 'reg')]), getevents(1, 1),
                            sleep(15), submit([entry(FDSYNC, 'reg',
                                                     slot=1)]),
                            queue_run()),
    'bug-peek-sigmask': seq(getevents(1, 1, ts=1, tsv=0, mask=6)),
    'bug-timeout-overflow': seq(submit([entry(PREAD, 'reg', (DATA, 0),
                                              L[16])]),
                                getevents(1, 1, ts=1, tsv=10),
                                submit([entry(PREAD, 'reg', (DATA, 0),
                                              L[16], slot=1)]),
                                getevents(1, 1, ts=1, tsv=12)),
    'bug-iocbpp-overread': seq(submit([entry(PREAD, 'reg', (DATA, 0),
                                             L[16])], pp=5, nr_kind=7),
                               REAP),
    'bug-threads-iov-advance': seq(submit([entry(PREADV, 'reg', (DATA, 0),
                                                 IOVCNT[3], O[0],
                                                 segs=[(DATA, 0, L[16]),
                                                       (END, 4096,
                                                        L[4096]),
                                                       (DATA, 9000,
                                                        L[1])])]),
                                   REAP),
    'bug-iovec-check-order': seq(submit([entry(PREADV, 'reg', (DATA, 0),
                                               IOVCNT[2], O[0],
                                               segs=[(P_KEND, 63, L[512]),
                                                     (DATA, 0,
                                                      L['size_max'])])])),
    'bug-threads-dir-read-order': seq(submit([entry(PREAD, 'dir',
                                                    (P_KHALF, 0),
                                                    L[16])])),
    'bug-mremap-stale-handle': seq(mremap(), submit([entry(PREAD, 'reg',
                                                           (DATA, 0),
                                                           L[16])]),
                                   REAP),
    'bug-destroy-resfd': seq(drain(0), submit([entry(POLL, 'pipe_r', 0,
                                                     flags=F_RESFD)]),
                             destroy()),
    'bug-resfd-opath': seq(submit([entry(PREAD, 'reg', (DATA, 0), L[16],
                                         flags=F_RESFD,
                                         resfd=RESFD['opath'])])),
    'bug-null-arith': seq(submit([entry(PREAD, 'reg', (DATA, 0), L[16])],
                                 pp=6, nr_kind=7),
                          getevents(0, 1, ev=11), queue_wait()),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), 'corpus')
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(SEEDS.items()):
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)
    print(f'{len(SEEDS)} seeds in {out}')


if __name__ == '__main__':
    main()
