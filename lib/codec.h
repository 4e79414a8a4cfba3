/* The byte codec of snapshots (codec.c): little-endian fields, a growing
 * buffer of the context's memory to write into, a section being read, and
 * the encoding of cells and series, which every owner of state writes its
 * snapshot section with (snapshot.c and the files of its layer, model_io.c,
 * customers_io.c and cohorts.c through this header; journeys_io.c,
 * governor_io.c and the other owners through cxm_internal.h's cxm__snap_*).
 * docs/snapshot.md describes the bytes. */
#ifndef CXM_CODEC_H
#define CXM_CODEC_H

#include "cxm_internal.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SNAP_LE 1
#else
#define SNAP_LE 0
#endif

/* ---- little-endian fields ----------------------------------------------------------- */

static inline void st16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}
static inline void st32(unsigned char *p, uint32_t v)
{
#if SNAP_LE
	memcpy(p, &v, 4);
#else
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
#endif
}
static inline void st64(unsigned char *p, uint64_t v)
{
#if SNAP_LE
	memcpy(p, &v, 8);
#else
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
#endif
}
static inline void stf64(unsigned char *p, double d)
{
	uint64_t v;
	memcpy(&v, &d, 8);
	st64(p, v);
}
static inline uint16_t ld16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t ld32(const unsigned char *p)
{
#if SNAP_LE
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
#else
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
#endif
}
static inline uint64_t ld64(const unsigned char *p)
{
#if SNAP_LE
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
#else
	return (uint64_t)ld32(p) | (uint64_t)ld32(p + 4) << 32;
#endif
}
static inline double ldf64(const unsigned char *p)
{
	uint64_t v = ld64(p);
	double d;
	memcpy(&d, &v, 8);
	return d;
}

/* ---- a growing buffer of the context's memory ---------------------------------------- */

typedef struct wbuf {
	cxm_context *ctx;
	unsigned char *p;
	size_t len, cap;
	bool oom; /* a growth failed: every later write is dropped, the writer checks */
} wbuf;

/* n more bytes at the end (NULL, and oom set, when no memory). */
CXM_INTERNAL unsigned char *cxm__wb_take(wbuf *b, size_t n);
CXM_INTERNAL void cxm__wb_free(wbuf *b);
CXM_INTERNAL void cxm__wb_put32(wbuf *b, uint32_t v);
CXM_INTERNAL void cxm__wb_put64(wbuf *b, uint64_t v);
CXM_INTERNAL void cxm__wb_putstr(wbuf *b, const char *s);

/* ---- a section being read -------------------------------------------------------------- */

typedef struct rbuf {
	const unsigned char *p;
	size_t left;
} rbuf;

static inline const unsigned char *take(rbuf *r, size_t n)
{
	if (r->left < n)
		return NULL;
	const unsigned char *q = r->p;
	r->p += n;
	r->left -= n;
	return q;
}

/* A section being read; its messages go to ctx (the caller's context). */
struct snap_in {
	cxm_context *ctx;
	const char *what; /* the section, for messages */
	rbuf r;
	uint32_t version; /* the snapshot's format version */
};

#define CORRUPT(ctx, ...) cxm__fail((ctx), CXM_ERR_CORRUPT, "snapshot: " __VA_ARGS__)
/* x: anything with the fields ctx and what */
#define TRUNC(x) CORRUPT((x)->ctx, "%s section is truncated", (x)->what)

/* ---- cells and series ---------------------------------------------------------------------- */

#define SKETCH_HEAD 96u /* 11 eight-byte fields, lo_bin, hi_bin */
#define HLL_HEAD 24u    /* n, dn, has_regs, 0 */

/* One cell of m, of tier form `full` (a DURATION's or DISTINCT's
 * distribution is written only there). */
CXM_INTERNAL void cxm__cell_write(wbuf *b, const metric *m, const void *cell, bool full);
/* Read one cell into `cell`, every field checked against what feeding
 * can make; a ring cell of owner_s (in owner) gets the store its bins
 * need. */
CXM_INTERNAL cxm_status cxm__cell_read(struct snap_in *in, const metric *m, void *cell, bool full,
				       cxm_context *owner, series *owner_s);
/* A series' epochs and cells: everything of a SERIES record after its ids. */
CXM_INTERNAL void cxm__series_body_write(wbuf *b, cxm_context *ctx, const series *s);
/* Read them into s (of `into`), given the newest epochs the record names. */
CXM_INTERNAL cxm_status cxm__series_cells_read(struct snap_in *in, cxm_context *into, series *s,
					       int64_t hot, const int64_t *top);

#endif
