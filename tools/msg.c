/*
 * msg.c - messages on stderr and the status line.
 */
#include "msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const char *tool_name = "uaio";
const char *tool_sub;

static void vmsg(const char *fmt, va_list ap)
{
	/* What stdout holds comes first, and a status line must not stay
	 * under the message. */
	fflush(stdout);
	tool_status_clear();
	fprintf(stderr, "%s%s%s: ", tool_name, tool_sub ? " " : "",
		tool_sub ? tool_sub : "");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void tool_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s%s%s --help'.\n", tool_name,
		tool_sub ? " " : "", tool_sub ? tool_sub : "");
	exit(EXIT_USAGE);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	exit(1);
}

bool tool_tty(void)
{
	static int tty = -1;

	if (tty < 0)
		tty = isatty(STDERR_FILENO);
	return tty;
}

static bool status_shown;

void tool_status(const char *fmt, ...)
{
	va_list ap;

	if (!tool_tty())
		return;
	fputs("\r\033[K", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	status_shown = true;
}

void tool_status_clear(void)
{
	if (status_shown)
		fputs("\r\033[K", stderr);
	status_shown = false;
}
