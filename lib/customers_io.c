/* The customer table in snapshots (the CUSTOMERS section,
 * docs/snapshot.md), through customers.c's accessors: the table's
 * counters, then each entry as a record of CUST_REC bytes, written a
 * stripe at a time under its lock; read back into a load's private
 * context or added into a merge's target as the merge rules say (see
 * cxm.h). Written and read through the codec (codec.c). */
#include "codec.h"

#include <stdio.h>

#define CUST_REC 32u

/* ---- writing ---------------------------------------------------------------------------- */

typedef struct cust_out {
	wbuf *b;
	uint32_t n_journeys; /* in the MODEL section written */
	unsigned char *p, *end; /* the current stripe's reserved records */
	uint64_t count;
} cust_out;

/* Give back what a stripe reserved and did not use (none, unless its
 * count and its entries disagree). */
static void cust_trim(cust_out *o)
{
	if (o->p)
		o->b->len -= (size_t)(o->end - o->p);
	o->p = o->end = NULL;
}

static bool cust_visit(const cust_entry *e, uint32_t entries, void *payload)
{
	cust_out *o = payload;
	if (!e) {
		cust_trim(o);
		o->p = cxm__wb_take(o->b, (size_t)entries * CUST_REC);
		o->end = o->p ? o->p + (size_t)entries * CUST_REC : NULL;
		return o->p != NULL;
	}
	if (!o->p || o->p == o->end)
		return false;
	unsigned char *p = o->p;
	st64(p, e->k0);
	st64(p + 8, e->k1);
	st32(p + 16, e->last_s);
	st16(p + 20, e->journey);
	p[22] = e->step;
	p[23] = e->flags;
	st32(p + 24, e->inst_start_s);
	st32(p + 28, e->step_off);
	/* journey state of a journey newer than the model written: none */
	if (e->journey > o->n_journeys)
		memset(p + 20, 0, 12);
	o->p += CUST_REC;
	o->count++;
	return true;
}

void cxm__customers_write(cxm_context *ctx, wbuf *b, uint32_t n_journeys)
{
	size_t at = b->len;
	cxm__wb_put64(b, 0);
	cxm__wb_put64(b, 0);
	cxm__wb_put64(b, 0);
	cxm__wb_put64(b, 0);
	cust_out o = {b, n_journeys, NULL, NULL, 0};
	uint64_t counters[3];
	cxm__customers_each(ctx, cust_visit, &o, counters);
	cust_trim(&o);
	if (b->oom)
		return;
	st64(b->p + at, counters[0]);
	st64(b->p + at + 8, counters[1]);
	st64(b->p + at + 16, counters[2]);
	st64(b->p + at + 24, o.count);
}

/* ---- reading ---------------------------------------------------------------------------- */

/* Add the customers of a CUSTOMERS section to c, as the merge rules say
 * (see cxm.h), checked against snap (the private context with the
 * snapshot's model). With `fresh`, c is the private context of a load:
 * every entry must be new and fit, or the snapshot is refused. jmap maps
 * the snapshot's journey ids to c's (NULL: the same). Every entry is
 * checked before any is added, and the table is allocated before the
 * first, so nothing fails once something was added. */
cxm_status cxm__customers_read(cxm_context *c, struct snap_in *in, const cxm_context *snap,
			       bool fresh, const cxm_id *jmap)
{
	cxm_context *ctx = in->ctx;
	rbuf *r = &in->r;
	const unsigned char *p = take(r, 32);
	if (!p)
		return TRUNC(in);
	uint64_t evicted = ld64(p), refused = ld64(p + 8), forgotten = ld64(p + 16), n = ld64(p + 24);
	if (n > (uint64_t)ctx->max_customers)
		return cxm__fail(ctx, CXM_ERR_LIMIT, "snapshot: %llu customers; max_customers is %u",
				 (unsigned long long)n, ctx->max_customers);
	if (r->left != n * CUST_REC)
		return CORRUPT(ctx, "%llu customers in %zu bytes", (unsigned long long)n, r->left);
	uint32_t nj = atomic_load(&snap->model.n_journeys);
	for (uint64_t i = 0; i < n; i++) {
		p = r->p + i * CUST_REC;
		if (!ld64(p) && !ld64(p + 8))
			return CORRUPT(ctx, "customer %llu has an empty hash", (unsigned long long)i);
		if (ld16(p + 20) > nj)
			return CORRUPT(ctx, "customer %llu is on journey %u, not defined",
				       (unsigned long long)i, ld16(p + 20) - 1u);
		if (ld16(p + 20) && p[22] >= snap->model.journeys[ld16(p + 20) - 1].n_steps)
			return CORRUPT(ctx, "customer %llu is at a step its journey does not have",
				       (unsigned long long)i);
		/* the flags index the funnels by channel and say which journey
		 * instance is open: every bit must mean what the saver meant */
		uint8_t f = p[23];
		if (f & ~(JF_CHAN | JF_OPEN | JF_DONE | JF_CHURNED))
			return CORRUPT(ctx, "customer %llu has unknown flags 0x%02x",
				       (unsigned long long)i, f);
		if ((f & JF_CHAN) > CXM_CHANNEL_OTHER)
			return CORRUPT(ctx, "customer %llu names channel %u, not a channel",
				       (unsigned long long)i, f & JF_CHAN);
		if ((f & JF_OPEN) && (f & JF_DONE))
			return CORRUPT(ctx, "customer %llu's journey is both open and done",
				       (unsigned long long)i);
		if (!ld16(p + 20) && (f & (JF_CHAN | JF_OPEN | JF_DONE)))
			return CORRUPT(ctx, "customer %llu has a journey instance but no journey",
				       (unsigned long long)i);
		if ((f & JF_OPEN) && !(f & JF_CHAN))
			return CORRUPT(ctx, "customer %llu's open journey has no channel",
				       (unsigned long long)i);
	}
	if (!n && !evicted && !refused && !forgotten)
		return CXM_OK;
	if (cxm__customers_ensure(c) || cxm__customers_reserve(c, r->p, (size_t)n, CUST_REC, 8))
		return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "snapshot: no memory for the customer table");
	for (uint64_t i = 0; i < n; i++) {
		p = take(r, CUST_REC);
		cust_entry e;
		memset(&e, 0, sizeof e);
		e.k0 = ld64(p);
		e.k1 = ld64(p + 8);
		e.last_s = ld32(p + 16);
		e.journey = ld16(p + 20);
		if (e.journey && jmap)
			e.journey = (uint16_t)(jmap[e.journey - 1] + 1);
		e.step = p[22];
		e.flags = p[23];
		e.inst_start_s = ld32(p + 24);
		e.step_off = cxm__snap_offset(in, ld32(p + 28));
		int rc = cxm__customer_put(c, &e);
		cxm__wipe(&e, sizeof e);
		if (fresh && rc == CUST_COMBINED)
			return CORRUPT(ctx, "customer %llu appears twice", (unsigned long long)i);
		if (fresh && rc == CUST_NO_ROOM)
			return cxm__fail(ctx, CXM_ERR_LIMIT,
					 "snapshot: its customers do not fit max_customers %u",
					 ctx->max_customers);
	}
	cxm__customers_add_counters(c, evicted, refused, forgotten);
	return CXM_OK;
}

/* The funnels an open journey instance of the CUSTOMERS section folds
 * into when it moves on or is swept, made in the private context snap
 * (the snapshot's side, for a load and for a merge alike, so that a merge
 * plans them for its destination and can give them back). They exist
 * unless the optional JOURNEYS section was left out. Entries
 * cxm__customers_read() will refuse are skipped here; the section is not
 * consumed. */
cxm_status cxm__customers_open_funnels(cxm_context *snap, const struct snap_in *in)
{
	if (in->r.left < 32)
		return CXM_OK;
	const uint32_t nj = atomic_load(&snap->model.n_journeys);
	for (size_t at = 32; at + CUST_REC <= in->r.left; at += CUST_REC) {
		const unsigned char *p = in->r.p + at;
		uint32_t j = ld16(p + 20), f = p[23];
		if (!(f & JF_OPEN) || !j || j > nj || (f & JF_CHAN) > CXM_CHANNEL_OTHER)
			continue;
		cxm_status st = cxm__journey_ensure_open(snap, j - 1, f & JF_CHAN);
		if (st) {
			char msg[256];
			snprintf(msg, sizeof msg, "%s", cxm_errmsg(snap));
			return cxm__fail(in->ctx, st, "%s", msg);
		}
	}
	return CXM_OK;
}
