/*
 * uaio.c - the uaio command: info, run and bench over uaio's libaio.so.1.
 */
#include "tool.h"

#include <stdlib.h>
#include <string.h>
#include <uaio.h>

static const char help[] =
    "Usage: uaio COMMAND [OPTION]... [ARG]...\n"
    "       uaio --version\n"
    "       uaio --help\n"
    "\n"
    "Tools for uaio, the libaio.so.1 that runs the libaio API on "
    "the kernel's AIO,\n"
    "on io_uring or on a thread pool.\n"
    "\n"
    "Commands:\n"
    "  info    which engines this host can run, and why not the "
    "others\n"
    "  run     run a program on uaio's libaio.so.1 with a chosen "
    "engine\n"
    "  bench   random I/O on every engine this host can run, and "
    "on the\n"
    "          system libaio, compared in one run\n"
    "\n"
    "'uaio COMMAND --help' describes each command.\n"
    "\n"
    "Options:\n"
    "  --version  print uaio's version (the library's) and exit\n"
    "  --help     print this help and exit\n"
    "\n"
    "Exit status: 0 success, 1 failure, 2 usage error; 'uaio run' "
    "exits with the\n"
    "program's status.\n";

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
	    {"info", cmd_info},
	    {"run", cmd_run},
	    {"bench", cmd_bench},
	};
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd)
		usage_error("no command given (info, run or bench)");
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
		if (argc > 2)
			usage_error("--version takes no arguments");
		printf("uaio %s\n", uaio_version());
		if (strcmp(uaio_version(), UAIO_TOOL_VERSION))
			tool_err("warning: this command was built with uaio "
				 "%s but runs on libaio.so.1 from uaio %s",
				 UAIO_TOOL_VERSION, uaio_version());
		return 0;
	}
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") ||
	    !strcmp(cmd, "help")) {
		if (argc > 2 && strcmp(cmd, "help") == 0) {
			/* "uaio help run" is "uaio run --help". */
			char *av[] = {argv[2], "--help", NULL};

			for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]);
			     i++)
				if (!strcmp(argv[2], cmds[i].name)) {
					tool_sub = cmds[i].name;
					return cmds[i].fn(2, av);
				}
			usage_error("no command '%s'", argv[2]);
		}
		fputs(help, stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmd, cmds[i].name)) {
			tool_sub = cmds[i].name;
			return cmds[i].fn(argc - 1, argv + 1);
		}
	if (cmd[0] == '-')
		usage_error("unknown option '%s'", cmd);
	usage_error("unknown command '%s' (info, run or bench)", cmd);
}
