/*
 * bench-cells.c - uaio bench's cells: the engines this host can run, then
 * each mode, depth and engine in turn, each measured in a child.
 */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "tool.h"

void ubench_choose(struct ubench *r)
{
	struct bench_why why = {0};
	int ret = uaio_lib_path(r->uaio_lib, sizeof(r->uaio_lib));

	if (ret)
		ubench_fail(r, "cannot tell where uaio's libaio.so.1 is: %s",
			    strerror(-ret));
	for (int i = 0; i < NIMPLS; i++) {
		if (!ubench_wanted(r, i))
			continue;
		if (i == IMPL_AUTO) {
			ret = 0; /* runs on whatever the host allows */
		} else if (i == IMPL_LIBAIO) {
			ret = bench_find_system_libaio(r->o.syslib, r->syslib,
						       sizeof(r->syslib), &why);
			snprintf(r->impl_why[i], sizeof(r->impl_why[i]),
				 "%.230s%s", why.msg,
				 ret && !r->o.syslib ? "; see --system-libaio"
						     : "");
		} else {
			ret = uaio_probe(ubench_impl_name[i], r->impl_why[i],
					 sizeof(r->impl_why[i]));
			if (ret && !r->impl_why[i][0])
				snprintf(r->impl_why[i], sizeof(r->impl_why[i]),
					 "%s", strerror(-ret));
		}
		r->impl_ok[i] = ret == 0;
	}
	r->auto_base = uaio_probe("uring", NULL, 0) ? "threads" : "uring";
}

static void spec_of(const struct ubench *r, unsigned m, unsigned d, unsigned i,
		    struct bench_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->api = BENCH_LIBAIO;
	s->lib = i == IMPL_LIBAIO ? r->syslib : r->uaio_lib;
	s->engine = i == IMPL_LIBAIO ? NULL : ubench_impl_name[i];
	s->threads = r->o.threads;
	s->fd = r->fd;
	s->direct = m == MODE_DIRECT;
	s->latency = true;
	s->rw = r->o.rw;
	s->rwmix = r->o.rwmix;
	s->depth = r->o.depth[d];
	s->bs = r->o.bs;
	s->size = r->o.size;
	s->seconds = r->o.duration;
	/* Offsets repeat only after every block: an uncached cell ends there
	 * at the latest, before its reads could find the cache it filled. */
	if (m == MODE_UNCACHED && r->o.rw == BENCH_READ)
		s->ops = r->o.size / r->o.bs;
	s->seed = 1000003u * (r->cell + 1);
}

struct where {
	const struct ubench *r;
	unsigned m, d, i;
	char run[24]; /* " run 2/3", when there are runs */
};

static void show_progress(void *arg, uint64_t ops, uint64_t ns)
{
	const struct where *w = arg;
	char iops[32];

	fmt_count(iops, sizeof(iops), ns ? (double)ops * 1e9 / (double)ns : 0);
	tool_status("[%u/%u]%s %s, depth %u, %s: %.1f/%.1f s, %s IOPS",
		    w->r->cell, w->r->ncells, w->run, ubench_mode_label[w->m],
		    w->r->o.depth[w->d], ubench_impl_label[w->i],
		    (double)ns / 1e9, w->r->o.duration, iops);
}

/* A line per cell where no terminal shows the progress; failures always. */
static void note_cell(const struct where *w, const struct ubench_cell *c)
{
	const struct bench_outcome *out = &c->out;
	char what[128], iops[32], lat[32];

	snprintf(what, sizeof(what), "%s, depth %u, %s",
		 ubench_mode_label[w->m], w->r->o.depth[w->d],
		 ubench_impl_label[w->i]);
	if (out->state == BENCH_FAILED)
		tool_err("%s failed: %s", what, out->reason);
	if (tool_tty() || out->state == BENCH_FAILED)
		return;
	fmt_count(iops, sizeof(iops), c->iops);
	fmt_ns(lat, sizeof(lat), out->r.mean);
	if (out->state != BENCH_OK)
		tool_err("[%u/%u]%s %s: n/a (%s)", w->r->cell, w->r->ncells,
			 w->run, what, out->reason);
	else
		tool_err("[%u/%u]%s %s: %s IOPS, mean %s", w->r->cell,
			 w->r->ncells, w->run, what, iops, lat);
}

/* Adds the paths of the UAIO_STATS lines in file f to paths. */
static void read_paths(FILE *f, unsigned long long *paths)
{
	static const char *const key[NPATHS] = {"engine", "inline",
						"kernel_aio"};
	char line[4096], err[128];

	while (fgets(line, sizeof(line), f)) {
		struct json *j = json_parse(line, err, sizeof(err));
		const struct json *p = j ? json_get(j, "paths") : NULL;

		for (int k = 0; p && k < NPATHS; k++)
			paths[k] += (unsigned long long)json_num(p, key[k], 0);
		json_free(j);
	}
}

/* Where auto's requests went in a cell like s: a short run of its own,
 * with UAIO_STATS, which would slow the measured one. */
static void auto_paths(struct ubench *r, unsigned m, const struct bench_spec *s,
		       struct ubench_cell *c)
{
	static const char *const prefix[] = {"uaio", "bench", NULL};
	char path[] = "/tmp/uaio-bench-stats-XXXXXX";
	struct bench_spec probe = *s;
	struct bench_outcome out;
	int fd = mkstemp(path);
	FILE *f;

	if (fd < 0)
		return;
	if (m == MODE_UNCACHED)
		bench_drop_cache(r->fd);
	probe.stats = path;
	probe.latency = false;
	probe.seconds = s->seconds < 0.3 ? s->seconds : 0.3;
	tool_status("[%u/%u] %s, uaio auto: which path", r->cell, r->ncells,
		    ubench_mode_label[m]);
	if (bench_spawn(prefix, &probe, 20, NULL, NULL, &out) == 0 &&
	    out.state == BENCH_OK && (f = fdopen(fd, "r"))) {
		read_paths(f, c->paths);
		fclose(f);
		fd = -1;
	}
	if (fd >= 0)
		close(fd);
	unlink(path);
	ubench_check_signal(r);
}

/* One cell; false when it failed. */
static bool run_cell(struct ubench *r, unsigned m, unsigned d, unsigned i,
		     struct ubench_cell *c)
{
	static const char *const prefix[] = {"uaio", "bench", NULL};
	struct where w = {r, m, d, i, ""};
	struct bench_spec s;
	int ret;

	if (r->o.runs > 1)
		snprintf(w.run, sizeof(w.run), " run %u/%u", r->run + 1,
			 r->o.runs);
	if (m == MODE_UNCACHED)
		bench_drop_cache(r->fd);
	c->resident = bench_resident(r->fd, r->o.size);
	show_progress(&w, 0, 0);
	spec_of(r, m, d, i, &s);
	ret = bench_spawn(prefix, &s, 20 + 4 * r->o.duration, show_progress, &w,
			  &c->out);
	ubench_check_signal(r);
	if (ret)
		ubench_fail(r, "cannot start a cell: %s", strerror(-ret));
	if (c->out.state == BENCH_OK) {
		c->iops = (double)c->out.r.ops * 1e9 / (double)c->out.r.ns;
		c->run_iops[c->nruns] = c->iops;
		c->run_res[c->nruns++] = c->out.r;
	}
	/* Where auto's requests go does not change from run to run. */
	if (c->out.state == BENCH_OK && i == IMPL_AUTO && !r->run)
		auto_paths(r, m, &s, c);
	note_cell(&w, c);
	return c->out.state != BENCH_FAILED;
}

static void warming(void *arg, uint64_t done, uint64_t total)
{
	ubench_check_signal(arg);
	tool_status("reading the file into the cache: %d%%",
		    (int)(done * 100 / total));
}

/* Before the cells of mode m: the cache as the mode wants it. */
static void prepare_mode(struct ubench *r, unsigned m)
{
	double pct;
	int ret;

	if (m != MODE_CACHED)
		return;
	ret = bench_warm(r->fd, r->o.size, warming, r);
	tool_status_clear();
	if (ret)
		ubench_fail(r, "reading %s: %s", r->where, strerror(-ret));
	pct = bench_resident(r->fd, r->o.size);
	if (pct >= 0 && pct < 95)
		snprintf(r->mode_note[m], sizeof(r->mode_note[m]),
			 "only %.0f%% of the file stayed in the page cache",
			 pct);
}

/* What a cell of mode m tells about the whole mode. */
static void notes(struct ubench *r, unsigned m, const struct ubench_cell *c)
{
	if (m == MODE_UNCACHED && c->resident > 5 && !r->mode_note[m][0])
		snprintf(r->mode_note[m], sizeof(r->mode_note[m]),
			 "the cache could not be dropped: %.0f%% of the file "
			 "stayed cached (tmpfs?)",
			 c->resident);
	if (m == MODE_UNCACHED && c->out.state == BENCH_OK &&
	    r->o.rw == BENCH_READ && c->out.r.ops >= r->o.size / r->o.bs)
		r->whole_note = true;
	if (m == MODE_UNCACHED && c->out.state == BENCH_OK &&
	    r->o.rw == BENCH_MIX && c->out.r.ops > r->o.size / r->o.bs)
		r->reread_note = true;
}

/* The cells of mode m: depth by depth, each group of engines starting
 * with another one, so that the noise of the machine is shared. */
static bool run_mode(struct ubench *r, unsigned m, const unsigned *ok,
		     unsigned nok, unsigned *group)
{
	/* Set when the file system refused O_DIRECT: once is enough. */
	const struct bench_outcome *refused = NULL;
	bool failed = false;

	prepare_mode(r, m);
	for (unsigned d = 0; d < r->o.ndepth; d++, ++*group)
		for (unsigned k = 0; k < nok; k++) {
			unsigned i = ok[(k + *group) % nok];
			struct ubench_cell *c = ubench_cell(r, m, d, i);

			r->cell++;
			/* Failed or could not run: not run again. */
			if (r->run && c->out.state != BENCH_OK)
				continue;
			c->resident = -1;
			if (refused) {
				c->out = *refused;
				continue;
			}
			failed |= !run_cell(r, m, d, i, c);
			notes(r, m, c);
			if (c->out.state == BENCH_NA && m == MODE_DIRECT &&
			    strstr(c->out.reason, "O_DIRECT"))
				refused = &c->out;
		}
	return failed;
}

bool ubench_run_all(struct ubench *r)
{
	unsigned ok[NIMPLS], nok = 0, group = 0;
	bool failed = false;

	for (unsigned i = 0; i < NIMPLS; i++)
		if (r->impl_ok[i])
			ok[nok++] = i;
	r->ncells = 0;
	for (unsigned m = 0; m < NMODES; m++)
		r->ncells += r->o.mode_on[m] ? r->o.ndepth * nok : 0;
	r->ncells *= r->o.runs;
	for (r->run = 0; r->run < r->o.runs; r->run++)
		for (unsigned m = 0; m < NMODES; m++)
			if (r->o.mode_on[m])
				failed |= run_mode(r, m, ok, nok, &group);
	tool_status_clear();
	ubench_summarize(r);
	return failed;
}
