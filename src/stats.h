/*
 * stats.h - per-context statistics, on when UAIO_STATS names a file.
 */
#ifndef UAIO_STATS_H
#define UAIO_STATS_H

#include "internal.h"

uint64_t uaio__now_ns(void);
/* At setup (after the engine is chosen) and at destroy. */
void uaio__stats_attach(struct uaio_ctx *c, unsigned nr);
void uaio__stats_detach(struct uaio_ctx *c);
/* Append the context's JSON line to $UAIO_STATS. */
void uaio__stats_report(struct uaio_ctx *c);
/* n iocbs accepted by io_submit. */
void uaio__stats_submitted(struct uaio_ctx *c, struct iocb **iocbs, int n);
/* Requests in flight now, for the deepest queue seen. */
void uaio__stats_depth(struct uaio_ctx *c, long depth);
/* One completion; t_submit 0 when unknown; path an enum emu_path. */
void uaio__stats_completed(struct uaio_ctx *c, uint64_t t_submit, long res,
			   unsigned path);
/* Events reaped from the kernel engine. */
void uaio__stats_reaped(struct uaio_ctx *c, const struct io_event *ev, int n);

#endif
