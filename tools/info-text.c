/*
 * info-text.c - uaio info's report as text: sections of "label  text"
 * lines.
 */
#include "info.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "text.h"

static const char *seccomp_mode_name(int m)
{
	static const char *const names[] = {"disabled", "strict", "filter"};

	return m >= 0 && m < 3 ? names[m] : "unknown";
}

/* "label  figures", or what it means that they are not known. */
static void __attribute__((format(printf, 4, 5)))
fact(const char *label, bool known, const char *unknown, const char *fmt, ...)
{
	char b[512];
	va_list ap;

	if (!known) {
		text_labelled(label, unknown);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	text_labelled(label, b);
}

static void text_host(const struct info *in)
{
	static const char *const uring[] = {
	    "io_uring allowed", "only io_uring_group and CAP_SYS_ADMIN",
	    "io_uring disabled"};
	long long u = in->uring_disabled;

	fact("kernel", true, NULL, "%s %s %s", in->uts.sysname, in->uts.release,
	     in->uts.machine);
	fact("io_uring_disabled", u >= 0,
	     "absent (kernel before 6.6: io_uring is not switched off by "
	     "sysctl)",
	     "%lld (%s)", u,
	     uring[u < 0   ? 0
		   : u > 2 ? 2
			   : u]);
	fact("seccomp", in->seccomp >= 0,
	     "unknown (no Seccomp: in /proc/self/status)",
	     "mode %d (%s), %d filter%s, no_new_privs %d", in->seccomp,
	     seccomp_mode_name(in->seccomp),
	     in->seccomp_filters > 0 ? in->seccomp_filters : 0,
	     in->seccomp_filters == 1 ? "" : "s", in->no_new_privs);
	fact("fs.aio-nr", in->aio_max_nr >= 0,
	     "unknown (no /proc/sys/fs/aio-nr: no kernel AIO?)",
	     "%lld of fs.aio-max-nr %lld", in->aio_nr, in->aio_max_nr);
	fact("io_setup(1)", true, NULL, "%s", info_result(in->sys_io_setup));
	fact("io_uring_setup(1)", true, NULL, "%s",
	     info_result(in->sys_io_uring_setup));
	fact("liburing", in->liburing[0], "not built in", "built in (%.400s)",
	     in->liburing);
}

/* What is to be said of bit b beyond "accepted", or false. */
static bool rwf_remark(const struct info *in, unsigned b, char *msg, size_t len)
{
	const char *pf = rwf_per_file(1u << b);

	switch (in->verdict[b]) {
	case RWF_PER_FILE:
		snprintf(msg, len,
			 "EOPNOTSUPP from every file tried; the kernel may "
			 "still support it: %s",
			 pf ? pf : "?");
		return true;
	case RWF_UNPROBED:
		snprintf(msg, len, "not probed: the calls failed with %s",
			 errno_name(in->blocked[b]));
		return true;
	case RWF_UNKNOWN:
		snprintf(msg, len, "EOPNOTSUPP: not supported by this kernel");
		return rwf_name(1u << b) != NULL;
	default:
		return false;
	}
}

static void rwf_bits(const struct info *in)
{
	char acc[512] = "", msg[512], lab[16];
	unsigned other = 0;
	size_t n = 0;

	for (unsigned b = 0; b < 32; b++) {
		const char *nm = rwf_name(1u << b);

		snprintf(lab, sizeof(lab), "0x%x", 1u << b);
		if (in->verdict[b] == RWF_ACCEPTED)
			n += (size_t)snprintf(acc + n, sizeof(acc) - n, "%s ",
					      nm ? nm : lab);
	}
	text_labelled("accepted", acc[0] ? acc : "none");
	if (in->none_probed) {
		/* One line, not 32 alike. */
		snprintf(msg, sizeof(msg),
			 "preadv2 and pwritev2 fail with %s here: nothing "
			 "could be probed",
			 errno_name(in->blocked[31]));
		text_labelled("not probed", msg);
		return;
	}
	for (unsigned b = 0; b < 32; b++) {
		const char *nm = rwf_name(1u << b);

		snprintf(lab, sizeof(lab), "0x%x", 1u << b);
		if (rwf_remark(in, b, msg, sizeof(msg)))
			text_labelled(nm ? nm : lab, msg);
		else if (in->verdict[b] == RWF_UNKNOWN)
			other |= 1u << b;
	}
	if (other) {
		snprintf(msg, sizeof(msg),
			 "0x%08x: EOPNOTSUPP (unknown to this kernel)", other);
		text_labelled("other bits", msg);
	}
}

static void text_rwf(const struct info *in)
{
	char msg[1024];
	size_t n = 0;

	rwf_bits(in);
	for (int k = 0; k < NPROBES; k++) {
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, "%s%s",
				      k ? "; " : "", in->tgt[k].desc);
		if (in->tgt[k].err)
			n += (size_t)snprintf(msg + n, sizeof(msg) - n,
					      " (could not be made: %s)",
					      errno_name(in->tgt[k].err));
	}
	text_labelled("tried on", msg);
}

static void text_engines(const struct info *in)
{
	char msg[UAIO_REASON_MAX + 320];

	for (int e = 0; e < NENGINES; e++) {
		int err = -in->eng[e].ret;

		if (!err) {
			text_labelled(info_engines[e], "usable");
			continue;
		}
		snprintf(msg, sizeof(msg), "NOT usable: %s (%s)",
			 in->eng[e].why[0] ? in->eng[e].why : strerror(err),
			 errno_name(err));
		text_labelled(info_engines[e], msg);
		if (in->eng[e].cause[0]) {
			snprintf(msg, sizeof(msg), "likely cause: %s",
				 in->eng[e].cause);
			text_labelled("", msg);
		}
	}
}

static void text_choices(const struct info *in)
{
	const char *list = getenv("UAIO_ENGINE");
	char label[64], msg[UAIO_REASON_MAX + 64];

	for (int i = 0; i < 2; i++) {
		int r = in->choice[i].ret;

		if (i == 1)
			snprintf(label, sizeof(label), "with auto");
		else if (list && *list)
			snprintf(label, sizeof(label), "UAIO_ENGINE=%.40s",
				 list);
		else
			snprintf(label, sizeof(label), "UAIO_ENGINE unset");
		if (r < 0)
			snprintf(msg, sizeof(msg), "io_setup fails with %s%s",
				 errno_name(-r),
				 r == -EINVAL	? " (an unknown engine name)"
				 : r == -ENOSYS ? " (no engine in the list is "
						  "usable)"
						: "");
		else if (in->choice[i].runs_on)
			snprintf(msg, sizeof(msg),
				 "auto: O_DIRECT on %s, the rest on %s "
				 "(cached reads inside io_submit)%s%s",
				 strcmp(in->choice[i].direct_on, "kernel")
				     ? in->choice[i].direct_on
				     : "kernel AIO",
				 in->choice[i].runs_on,
				 in->choice[i].reason[0] ? ", because " : "",
				 in->choice[i].reason);
		else
			snprintf(msg, sizeof(msg), "%s%s%s",
				 in->choice[i].engine,
				 in->choice[i].reason[0] ? ", because " : "",
				 in->choice[i].reason);
		text_labelled(label, msg);
	}
}

void info_print_text(const struct info *in)
{
	printf("uaio %s, libaio.so.1 from %s\n", uaio_version(), in->lib);
	printf("\nhost\n");
	text_host(in);
	printf("\nRWF flags (preadv2/pwritev2)\n");
	text_rwf(in);
	printf("\nengines\n");
	text_engines(in);
	printf("\nio_setup() chooses\n");
	text_choices(in);
}
