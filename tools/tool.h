/*
 * tool.h - shared by the subcommands of the uaio command.
 *
 * Exit statuses are part of the interface: 0 success, 1 failure, 2 usage
 * error ('uaio run' returns the program's own status instead).
 */
#ifndef UAIO_TOOL_H
#define UAIO_TOOL_H

#include "args.h"
#include "fmt.h"
#include "host.h"
#include "json-write.h"
#include "msg.h"
#include "text.h"

int cmd_info(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_bench(int argc, char **argv);

#endif /* UAIO_TOOL_H */
