/*
 * info-json.c - uaio info's report as JSON.
 */
#include "info.h"

#include <stdio.h>
#include <stdlib.h>

#include "fmt.h"
#include "json-write.h"

/* A number, or null when it is unknown (< 0). */
static void known(struct jw *w, const char *key, long long v)
{
	if (v < 0)
		jw_str(w, key, NULL);
	else
		jw_int(w, key, v);
}

static void errno_or_null(struct jw *w, const char *key, int err)
{
	jw_str(w, key, err ? errno_name(err) : NULL);
}

static void json_host(struct jw *w, const struct info *in)
{
	jw_object(w, "kernel", false);
	jw_str(w, "sysname", in->uts.sysname);
	jw_str(w, "release", in->uts.release);
	jw_str(w, "version", in->uts.version);
	jw_str(w, "machine", in->uts.machine);
	jw_end(w);
	known(w, "io_uring_disabled", in->uring_disabled);
	if (in->uring_disabled < 0)
		jw_str(w, "io_uring_group", NULL);
	else
		jw_int(w, "io_uring_group", in->uring_group);
	jw_object(w, "seccomp", false);
	jw_int(w, "mode", in->seccomp);
	jw_int(w, "filters", in->seccomp_filters);
	jw_int(w, "no_new_privs", in->no_new_privs);
	jw_end(w);
	jw_object(w, "aio", false);
	known(w, "nr", in->aio_max_nr < 0 ? -1 : in->aio_nr);
	known(w, "max_nr", in->aio_max_nr);
	jw_end(w);
	jw_object(w, "syscalls", false);
	jw_str(w, "io_setup", info_result(in->sys_io_setup));
	jw_str(w, "io_uring_setup", info_result(in->sys_io_uring_setup));
	jw_end(w);
	jw_object(w, "liburing", false);
	jw_bool(w, "built_in", in->liburing[0]);
	jw_str(w, "library", in->liburing[0] ? in->liburing : NULL);
	jw_end(w);
}

static void json_flag(struct jw *w, const struct info *in, unsigned b)
{
	static const char *const verdicts[] = {
	    "accepted", "refused by every file tried", "unknown to the kernel",
	    "not probed"};
	char key[48];

	jw_object(w, NULL, false);
	snprintf(key, sizeof(key), "0x%x", 1u << b);
	jw_str(w, "bit", key);
	jw_str(w, "name", rwf_name(1u << b));
	jw_str(w, "verdict", verdicts[in->verdict[b]]);
	jw_str(w, "per_file", rwf_per_file(1u << b));
	jw_object(w, "results", false);
	for (int k = 0; k < NPROBES; k++)
		for (int wr = 0; wr < 2; wr++) {
			int r = in->res[b][k][wr];

			snprintf(key, sizeof(key), "%s %s", in->tgt[k].name,
				 wr ? "write" : "read");
			jw_str(w, key, r < 0 ? NULL : info_result(r));
		}
	jw_end(w);
	jw_end(w);
}

static void json_rwf(struct jw *w, const struct info *in)
{
	unsigned acc = 0, unknown = 0;
	char mask[16];

	jw_object(w, "rwf", true);
	jw_array(w, "tried_on", true);
	for (int k = 0; k < NPROBES; k++) {
		jw_object(w, NULL, false);
		jw_str(w, "name", in->tgt[k].name);
		jw_str(w, "description", in->tgt[k].desc);
		errno_or_null(w, "error", in->tgt[k].err);
		jw_end(w);
	}
	jw_end(w);
	for (unsigned b = 0; b < 32; b++) {
		acc |= in->verdict[b] == RWF_ACCEPTED ? 1u << b : 0;
		unknown |= in->verdict[b] == RWF_UNKNOWN ? 1u << b : 0;
	}
	snprintf(mask, sizeof(mask), "0x%x", acc);
	jw_str(w, "accepted_mask", mask);
	snprintf(mask, sizeof(mask), "0x%x", unknown);
	jw_str(w, "unknown_mask", mask);
	jw_array(w, "flags", true);
	for (unsigned b = 0; b < 32; b++)
		/* Unnamed bits only when something about them is news. */
		if (rwf_name(1u << b) || in->verdict[b] != RWF_UNKNOWN)
			json_flag(w, in, b);
	jw_end(w);
	jw_end(w);
}

static void json_engines(struct jw *w, const struct info *in)
{
	jw_array(w, "engines", true);
	for (int e = 0; e < NENGINES; e++) {
		jw_object(w, NULL, false);
		jw_str(w, "name", info_engines[e]);
		jw_bool(w, "usable", !in->eng[e].ret);
		errno_or_null(w, "error", -in->eng[e].ret);
		jw_str(w, "reason", in->eng[e].why);
		jw_str(w, "cause",
		       in->eng[e].cause[0] ? in->eng[e].cause : NULL);
		jw_end(w);
	}
	jw_end(w);
	for (int i = 1; i >= 0; i--) {
		bool ok = in->choice[i].ret >= 0;

		jw_object(w, i ? "auto" : "default", false);
		jw_str(w, "engine", ok ? in->choice[i].engine : NULL);
		jw_str(w, "runs_on", in->choice[i].runs_on);
		jw_str(w, "o_direct_on", in->choice[i].direct_on);
		errno_or_null(w, "error", -in->choice[i].ret);
		jw_str(w, "fallback_reason", ok ? in->choice[i].reason : NULL);
		jw_end(w);
	}
}

void info_print_json(const struct info *in)
{
	static const char *const env[] = {"UAIO_ENGINE", "UAIO_THREADS",
					  "UAIO_DEBUG", "UAIO_STATS"};
	struct jw w;

	jw_begin(&w, stdout);
	jw_str(&w, "uaio_version", uaio_version());
	jw_str(&w, "library", in->lib);
	json_host(&w, in);
	json_rwf(&w, in);
	json_engines(&w, in);
	jw_object(&w, "env", false);
	for (size_t i = 0; i < sizeof(env) / sizeof(env[0]); i++)
		jw_str(&w, env[i], getenv(env[i]));
	jw_end(&w);
	jw_end(&w);
}
