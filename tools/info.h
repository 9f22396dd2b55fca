/*
 * info.h - uaio info: what it finds (info-gather.c, info-rwf.c), printed as
 * text (info-text.c) or JSON (info-json.c).
 */
#ifndef UAIO_INFO_H
#define UAIO_INFO_H

#include <stdbool.h>
#include <sys/utsname.h>
#include <uaio.h>

#include "rwf.h"

#define NENGINES UAIO_NENGINES
extern const char *const info_engines[NENGINES];

/* The files the RWF bits are tried on, each read and written. */
enum { P_PIPE, P_MEMFD, P_FILE, P_DIRECT, NPROBES };

struct rwf_target {
	const char *name;
	char desc[192];
	int rfd, wfd; /* the same fd except for the pipe */
	int err;      /* why it could not be made, 0 if it was */
	char *buf;    /* a 4 KiB aligned block */
};

enum rwf_verdict {
	RWF_ACCEPTED, /* some file took it: the kernel knows the bit */
	RWF_PER_FILE, /* EOPNOTSUPP everywhere, but files may refuse it */
	RWF_UNKNOWN,  /* EOPNOTSUPP everywhere: not in the kernel's set */
	RWF_UNPROBED, /* the calls themselves failed (ENOSYS, EPERM...) */
};

struct info {
	struct utsname uts;
	char lib[4096];
	long long uring_disabled, uring_group;	    /* -1: absent */
	int seccomp, seccomp_filters, no_new_privs; /* -1: unknown */
	long long aio_nr, aio_max_nr;		    /* -1: unknown */
	int sys_io_setup, sys_io_uring_setup;	    /* 0 or errno */
	char liburing[4096];			    /* loaded liburing, or "" */

	struct rwf_target tgt[NPROBES];
	/* res[bit][target][write]: 0 or errno; -1 not tried */
	int res[32][NPROBES][2];
	enum rwf_verdict verdict[32];
	int blocked[32]; /* the errno that kept a bit from being probed */
	bool none_probed;

	struct {
		int ret;
		char why[UAIO_REASON_MAX];
		char cause[256];
	} eng[NENGINES];

	/*
	 * What io_setup() would pick with UAIO_ENGINE as it is, and "auto";
	 * for an auto context, the engine under it and the one its O_DIRECT
	 * requests go to ("" otherwise).
	 */
	struct {
		int ret;
		char engine[UAIO_ENGINE_NAME_MAX];
		char reason[UAIO_REASON_MAX];
		const char *runs_on, *direct_on;
	} choice[2];
};

/* info-gather.c: everything, in this process. */
void info_gather(struct info *in);
/* "ok", or the errno's name. */
const char *info_result(int err);

/* info-rwf.c: every RWF bit tried on every target, and the verdicts. */
void info_probe_rwf(struct info *in);
/* The name uaio knows the bit by ("NOWAIT"), or NULL; the reason a file
 * may refuse a known bit, or NULL. */
const char *rwf_name(unsigned bit);
const char *rwf_per_file(unsigned bit);

void info_print_text(const struct info *in);
void info_print_json(const struct info *in);

#endif
