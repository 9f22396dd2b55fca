/*
 * bench-opts.c - uaio bench's command line.
 */
#include "bench.h"

#include <inttypes.h>
#include <string.h>

#include "args.h"

static const char help[] =
    "Usage: uaio bench [OPTION]...\n"
    "\n"
    "Random I/O through the libaio API on every uaio engine this "
    "host can run and,\n"
    "when it is installed, on the system libaio, in one run, so "
    "that the figures can\n"
    "be compared as ratios.\n"
    "\n"
    "Without options: a 1 GiB scratch file in $TMPDIR (default "
    "/tmp), random 4 KiB\n"
    "reads for 3 seconds per cell, at depths 1 and 32, in three "
    "modes:\n"
    "  uncached  buffered I/O, the file's page cache dropped "
    "before each cell\n"
    "            (fsync, then posix_fadvise(POSIX_FADV_DONTNEED): "
    "no root needed);\n"
    "            a read cell ends early if it has read every block "
    "of the file\n"
    "  cached    buffered I/O, the file read into the page cache "
    "first\n"
    "  direct    O_DIRECT\n"
    "Each cell (mode, depth, engine) runs in a child process of "
    "its own that keeps\n"
    "DEPTH requests in flight, submitting every free slot in one "
    "io_submit and\n"
    "reaping with io_getevents.  As with fio's defaults, offsets "
    "do not repeat\n"
    "until every block of the file has been used, and buffered "
    "cells advise\n"
    "POSIX_FADV_RANDOM.  Latency runs from before the io_submit "
    "that carried a\n"
    "request to after the io_getevents that returned it.  The "
    "scratch file has no\n"
    "name and vanishes however the run ends.\n"
    "\n"
    "A progress line is shown on stderr (one line per cell when "
    "stderr is not a\n"
    "terminal); at the end, a table on stdout: IOPS, mean and 99th "
    "percentile\n"
    "latency, the mean time spent inside io_submit per request, "
    "and IOPS as a ratio\n"
    "of the system libaio's in the same mode and depth.\n"
    "\n"
    "Options:\n"
    "  --engines LIST   comma-separated: libaio (the system's; also "
    "'system'),\n"
    "                   kernel, uring, threads, auto (default: the "
    "system libaio\n"
    "                   when installed, every engine uaio_probe() "
    "finds usable,\n"
    "                   and auto, whose row names the path its "
    "requests took)\n"
    "  --modes LIST     comma-separated: uncached, cached, direct "
    "(default: all)\n"
    "  --depth LIST     comma-separated queue depths, 1 to 4096 "
    "(default 1,32)\n"
    "  --bs SIZE        request size, a multiple of 512 (default "
    "4K)\n"
    "  --rw RW          read, write or randrw (also randread, "
    "randwrite); offsets\n"
    "                   are always random (default read)\n"
    "  --rwmix PCT      with --rw randrw: percentage of reads "
    "(default 50)\n"
    "  --size SIZE      file size: of the scratch file, or of a new "
    "--file (default\n"
    "                   1G); with an existing --file, how much of "
    "it to use\n"
    "                   (default all, never more than it has)\n"
    "  --duration SECS  length of each cell (default 3)\n"
    "  --file PATH      use PATH (a file or a block device) instead "
    "of a scratch\n"
    "                   file; if it does not exist it is made, "
    "filled, and removed\n"
    "                   at the end.  An existing one is only read, "
    "unless --force\n"
    "  --force          allow --rw write or randrw on an existing "
    "--file: its data\n"
    "                   are overwritten.  Without it such a run "
    "stops before\n"
    "                   touching the file\n"
    "  --runs N         measure every cell N times, 1 to 15 (default 1): "
    "each run\n"
    "                   goes through every mode, depth and engine; the "
    "table gives\n"
    "                   medians, and each ratio is the median of the "
    "runs' ratios\n"
    "                   (each run's cells of a depth run back to back)\n"
    "  --threads N      worker threads per context for the threads "
    "engine\n"
    "                   (UAIO_THREADS)\n"
    "  --system-libaio PATH\n"
    "                   the system libaio.so.1 to compare with "
    "(default: found in\n"
    "                   the usual library directories)\n"
    "  --quick          a short run: --size 64M --duration 0.5 "
    "(explicit options\n"
    "                   still win)\n"
    "  --json           print the results as JSON on stdout instead "
    "of the table\n"
    "  --help           print this help and exit\n"
    "\n"
    "SIZE takes a K, M, G or T suffix (powers of 1024).  Sizes "
    "and offsets must suit\n"
    "O_DIRECT on the device (a multiple of its logical block "
    "size).  On tmpfs the\n"
    "page cache cannot be dropped and O_DIRECT measures memory, "
    "not a disk.\n"
    "\n"
    "Exit status: 0 when every cell that could run on this host "
    "ran (an engine or\n"
    "mode the host cannot run is reported, not a failure), 1 when "
    "a cell failed\n"
    "(a request error, a crash, a timeout) or the file could not "
    "be prepared or was\n"
    "refused, 2 on a usage error.  Interrupted, it removes what it "
    "made and dies of\n"
    "the same signal.\n";

static void engine(const char *opt, const char *name, void *on)
{
	/* "system": the system's libaio, by what it is rather than its name. */
	if (!strcmp(name, "system"))
		name = "libaio";
	((bool *)on)[args_pick(opt, name, ubench_impl_name, NIMPLS)] = true;
}

static void engines(const char *opt, const char *list, void *on)
{
	memset(on, 0, NIMPLS * sizeof(bool));
	args_each(opt, list, engine, on);
}

static void mode(const char *opt, const char *name, void *on)
{
	((bool *)on)[args_pick(opt, name, ubench_mode_name, NMODES)] = true;
}

static void modes(const char *opt, const char *list, void *on)
{
	memset(on, 0, NMODES * sizeof(bool));
	args_each(opt, list, mode, on);
}

static void depth(const char *opt, const char *item, void *arg)
{
	struct ubench_opts *o = arg;

	if (o->ndepth == MAX_DEPTHS)
		usage_error("%s: at most %d depths", opt, MAX_DEPTHS);
	o->depth[o->ndepth++] = (unsigned)parse_uint(opt, item, 1, 4096);
}

static void depths(const char *opt, const char *list, void *o)
{
	((struct ubench_opts *)o)->ndepth = 0;
	args_each(opt, list, depth, o);
}

static void rw(const char *opt, const char *arg, void *dest)
{
	/* fio's names too: offsets are random whatever the name. */
	static const char *const names[] = {"read",	"write",     "randrw",
					    "randread", "randwrite", "rw"};
	unsigned i = args_pick(opt, arg, names, 6);

	*(enum bench_rw *)dest = (enum bench_rw)(i % 3);
}

static void defaults(struct ubench_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->size = 1ull << 30;
	o->bs = 4096;
	o->depth[0] = 1;
	o->depth[1] = 32;
	o->ndepth = 2;
	o->rw = BENCH_READ;
	o->rwmix = 50;
	o->duration = 3;
	o->runs = 1;
	for (int m = 0; m < NMODES; m++)
		o->mode_on[m] = true;
}

/* What the options mean together. */
static void reconcile(struct ubench_opts *o)
{
	if (o->bs < 512 || o->bs % 512 || o->bs > (64 << 20))
		usage_error("--bs: a multiple of 512 up to 64M, not %" PRIu64,
			    o->bs);
	if (o->rwmix_set && o->rw != BENCH_MIX)
		usage_error("--rwmix applies to --rw randrw only");
	if (o->force && !o->file)
		usage_error("--force applies to --file only");
	if (o->quick) {
		o->size = o->size_set ? o->size : 64ull << 20;
		o->duration = o->duration_set ? o->duration : 0.5;
	}
	if (!o->file || o->size_set) {
		o->size -= o->size % o->bs;
		if (o->size < o->bs)
			usage_error("--size must be at least one block (--bs "
				    "%" PRIu64 ")",
				    o->bs);
	}
}

void ubench_parse(int argc, char **argv, struct ubench_opts *o)
{
	const struct opt opts[] = {
	    {"engines", 0, OPT_FN, o->impl_on, &o->impls_set, .fn = engines},
	    {"modes", 0, OPT_FN, o->mode_on, .fn = modes},
	    {"depth", 0, OPT_FN, o, .fn = depths},
	    {"bs", 0, OPT_SIZE, &o->bs},
	    {"rw", 0, OPT_FN, &o->rw, .fn = rw},
	    {"rwmix", 0, OPT_UINT, &o->rwmix, &o->rwmix_set, 0, 100},
	    {"size", 0, OPT_SIZE, &o->size, &o->size_set},
	    {"duration", 0, OPT_SECONDS, &o->duration, &o->duration_set},
	    {"file", 0, OPT_STR, &o->file},
	    {"force", 0, OPT_FLAG, &o->force},
	    {"runs", 0, OPT_UINT, &o->runs, NULL, 1, MAX_RUNS},
	    {"threads", 0, OPT_UINT, &o->threads, NULL, 1, 4096},
	    {"system-libaio", 0, OPT_STR, &o->syslib},
	    {"quick", 0, OPT_FLAG, &o->quick},
	    {"json", 0, OPT_FLAG, &o->json},
	    {NULL},
	};

	defaults(o);
	args_parse(argc, argv, opts, help, 0);
	reconcile(o);
}
