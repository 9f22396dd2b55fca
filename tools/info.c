/*
 * info.c - uaio info: which engines this host can run, and why not the
 * others (info.h: what it finds and how it prints it).
 */
#include "info.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const char help[] =
    "Usage: uaio info [--json]\n"
    "       uaio info --check ENGINE\n"
    "\n"
    "Tell which uaio engines this host can run, and why not the "
    "others.\n"
    "\n"
    "Each engine's verdict is uaio_probe()'s, taken in this "
    "process, so it holds for\n"
    "programs started the same way (same seccomp filters, same "
    "limits).  Beside it:\n"
    "  - the kernel's release (uname);\n"
    "  - kernel.io_uring_disabled (0 allowed, 1 only for "
    "io_uring_group and\n"
    "    CAP_SYS_ADMIN, 2 disabled) and kernel.io_uring_group;\n"
    "  - the seccomp state of this process (Seccomp:, "
    "Seccomp_filters: and\n"
    "    NoNewPrivs: of /proc/self/status);\n"
    "  - fs.aio-nr and fs.aio-max-nr (events held system-wide, and "
    "the limit);\n"
    "  - what raw io_setup(1) and io_uring_setup(1) calls return "
    "here;\n"
    "  - whether liburing is built in (loaded with libaio.so.1);\n"
    "  - the RWF_* flags the kernel accepts: each of the 32 bits is "
    "tried with\n"
    "    preadv2 and pwritev2 on a pipe, a memfd and an unnamed file "
    "in $TMPDIR\n"
    "    (buffered and O_DIRECT), all made for the purpose.  A bit "
    "is accepted when\n"
    "    any of them takes it; NOWAIT, ATOMIC and DONTCACHE can be "
    "refused by a\n"
    "    file (EOPNOTSUPP) although the kernel knows them, so for "
    "those a refusal\n"
    "    everywhere is reported as such, with the files tried;\n"
    "  - the engine io_setup() picks with UAIO_ENGINE as set, and "
    "with \"auto\"\n"
    "    (kernel, then uring, then threads), with the recorded "
    "fallback reason.\n"
    "\n"
    "Options:\n"
    "  --json          print a JSON object instead of text\n"
    "  --check ENGINE  print nothing and exit 0 if ENGINE (kernel, "
    "uring or\n"
    "                  threads) is usable here, else print why on "
    "stderr and exit 1\n"
    "  --help          print this help and exit\n"
    "\n"
    "Exit status: 0 success (whatever the engines' verdicts, "
    "unless --check), 1\n"
    "failure, 2 usage error.\n";

/* --check ENGINE: the exit status. */
static int check(const char *engine)
{
	char why[UAIO_REASON_MAX] = "";
	int r = uaio_probe(engine, why, sizeof(why));

	if (r == -EINVAL)
		usage_error("--check: unknown engine '%s' (kernel, uring or "
			    "threads)",
			    engine);
	if (r < 0) {
		tool_err("%s is not usable: %s (%s)", engine,
			 why[0] ? why : strerror(-r), errno_name(-r));
		return 1;
	}
	return 0;
}

int cmd_info(int argc, char **argv)
{
	const char *engine = NULL;
	bool json = false;
	const struct opt opts[] = {
	    {"json", 0, OPT_FLAG, &json},
	    {"check", 0, OPT_STR, &engine},
	    {NULL},
	};
	struct info *in;

	args_parse(argc, argv, opts, help, 0);
	if (engine && json)
		usage_error("--check and --json do not go together");
	if (engine)
		return check(engine);
	in = malloc(sizeof(*in));
	if (!in)
		die("out of memory");
	info_gather(in);
	if (json)
		info_print_json(in);
	else
		info_print_text(in);
	free(in);
	if (fflush(stdout) || ferror(stdout))
		die("writing the output: %s", strerror(errno));
	return 0;
}
