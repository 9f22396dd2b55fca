/*
 * uaio.h - uaio's extensions to the libaio API.
 *
 * Include <libaio.h> for the libaio API itself.  Everything here is exported
 * in the UAIO_1 version node of libaio.so.1, so a program can test for uaio at
 * run time with dlsym(RTLD_DEFAULT, "uaio_version").
 *
 * Every int function returns >= 0 on success and a negative errno on
 * failure; errno is never changed.
 */
#ifndef UAIO_H
#define UAIO_H

#include <libaio.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UAIO_VERSION_MAJOR 0
#define UAIO_VERSION_MINOR 1
#define UAIO_VERSION_PATCH 0

/* Longest engine name, with its NUL. */
#define UAIO_ENGINE_NAME_MAX 16
/*
 * Every engine uaio knows, whether this build has it or not: an
 * initializer for an array of strings.
 */
#define UAIO_ENGINE_NAMES "kernel", "uring", "threads"
#define UAIO_NENGINES 3
/* Room for a fallback reason, with its NUL. */
#define UAIO_REASON_MAX 256

/* The library's version, "MAJOR.MINOR.PATCH". */
const char *uaio_version(void);

/*
 * io_setup() with an explicit engine preference.
 *
 * engines: NULL or "" to use UAIO_ENGINE (default "auto"); otherwise a
 * comma-separated preference list of "kernel", "uring", "threads" and
 * "auto".  auto is uring, else threads, each sending every request where
 * it runs best (O_DIRECT on files to the kernel's AIO, cached reads done
 * inside io_submit), else kernel; kernel alone when the program's raw AIO
 * system calls cannot reach uaio (uaio(7), "auto").  The first engine
 * usable on this host is taken; the reasons the earlier ones were skipped
 * are kept with the context.
 *
 * Errors: those of io_setup(), and
 *   -EINVAL   an unknown engine name in the list (UAIO_DEBUG=1 says which);
 *   -errno    of the last engine tried when none in the list is usable here
 *             (e.g. -ENOSYS, -EPERM, -EAGAIN; uaio_probe() says why), or
 *             -ENOSYS when the list names only engines not built in.
 */
int uaio_setup(int maxevents, io_context_t *ctxp, const char *engines);

/*
 * Copy the name of the engine that runs ctx into name[len]: one of
 * UAIO_ENGINE_NAMES, or "auto" for a context auto made on uring or threads
 * (its fallback reason says which engines it skipped).
 * Errors: -EINVAL  ctx is not a live context of this process;
 *         -ERANGE  len is too small (UAIO_ENGINE_NAME_MAX always suffices).
 */
int uaio_engine(io_context_t ctx, char *name, size_t len);

/*
 * Copy into buf[len] why ctx does not run on the first engine of its
 * preference list ("" when it does), e.g.
 * "kernel: io_setup: Resource temporarily unavailable".  Reasons for several
 * skipped engines are separated by "; ".
 * Returns the reason's length.
 * Errors: -EINVAL  ctx is not a live context of this process;
 *         -ERANGE  len is too small (UAIO_REASON_MAX always suffices).
 */
int uaio_fallback_reason(io_context_t ctx, char *buf, size_t len);

/*
 * Whether engine (a single name) can run on this host: 0 if it can, else
 * -errno with the reason copied into why[len] (why may be NULL).
 * Errors: -EINVAL unknown engine name; -ENOPKG an engine uaio knows but
 *         this build lacks (uring without liburing); -ENOSYS, -EPERM,
 *         -EAGAIN, ... as the probe found them.
 */
int uaio_probe(const char *engine, char *why, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* UAIO_H */
