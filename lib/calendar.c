/* Time zones and calendar buckets.
 *
 * A zone is read once per context from a TZif file (RFC 8536) under $TZDIR
 * or /usr/share/zoneinfo: its transitions, and the POSIX TZ rule of its
 * footer for instants after the last of them. It is immutable after that,
 * so lookups take no lock: the zones a context loaded are published in a
 * table whose count is stored with release order after each entry.
 *
 * Everything is integer arithmetic on days since 1970-01-01 (days from
 * civil): no libc time function, no TZ variable, no global state, so that
 * many contexts and threads use zones at once. */
#include "cxm_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define DAY_MS INT64_C(86400000)
#define ZONE_FILE_MAX (1u << 20)
#define ZONE_DIR "/usr/share/zoneinfo"
/* The widest offset from UTC a zone may have (RFC 8536 advises -24:59:59
 * to +25:59:59); from_local's search window relies on the bound. */
#define UTOFF_MAX (26 * 3600)
/* Transition instants are kept within +-2^40 s (+-34,000 years) so that
 * milliseconds cannot overflow. Clamping keeps the order (not strictness),
 * and no instant a caller can give lies beyond the clamp, so which type is
 * in force at any of them is unchanged. */
#define AT_CLAMP (INT64_C(1) << 40)

/* A date of a POSIX rule: Jn (1-365, never Feb 29), n (0-365) or Mm.w.d,
 * and the local time of day the change happens at (-167 h to 167 h). */
typedef struct rule_date {
	char kind; /* 'J', 'n' or 'M' */
	uint8_t m, w, d;
	int16_t n;
	int32_t secs;
} rule_date;

typedef struct posix_rule {
	int32_t std, dst; /* offsets (local - UTC, s), the opposite of POSIX's sign */
	bool has_dst;
	rule_date start, end; /* DST starts at start (standard time), ends at end (DST) */
} posix_rule;

struct cxm__zone {
	size_t size;        /* bytes of this block; 0: the built-in UTC */
	const int64_t *at;  /* n transition instants (ms), ascending */
	const int32_t *off; /* the offset (s) in force from at[i] on */
	const char *name;
	uint32_t n;
	int32_t off0;       /* before at[0]: time type 0 (RFC 8536 3.2) */
	int64_t max_off_ms; /* the largest offset the zone has at any time */
	bool has_rule;      /* after at[n - 1] (or always, n == 0), rule holds */
	posix_rule rule;
};

struct zone_mod {
	pthread_mutex_t lock; /* serialises loads */
	_Atomic uint32_t n;   /* entries of z published */
	cxm__zone *z[CXM__ZONES_MAX];
};

/* A machine without tzdata still has UTC: these names need no file. */
static const cxm__zone utc_zone = {.name = "UTC"};
static const char *const utc_names[] = {"UTC", "Etc/UTC", "UCT", "Etc/UCT", "Zulu", "Etc/Zulu",
					"Universal", "Etc/Universal", "GMT", "Etc/GMT"};

/* ---- days ------------------------------------------------------------------------ */

static int64_t floormod64(int64_t a, int64_t b)
{
	return a - floordiv64(a, b) * b;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	const int64_t era = floordiv64(y, 400);
	const int64_t yoe = y - era * 400;
	const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	const int64_t era = floordiv64(z, 146097);
	const int64_t doe = z - era * 146097;
	const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
	static const uint8_t len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return len[m - 1] + (m == 2 && is_leap(y));
}

/* ---- offsets ----------------------------------------------------------------------- */

/* The instant (ms) rule date r falls on in year y, its time read on a
 * clock at offset utoff. */
static int64_t rule_at(const rule_date *r, int64_t y, int32_t utoff)
{
	int64_t day;
	if (r->kind == 'J') {
		day = days_from_civil(y, 1, 1) + r->n - 1 + (r->n >= 60 && is_leap(y));
	} else if (r->kind == 'n') {
		day = days_from_civil(y, 1, 1) + r->n;
	} else {
		const int64_t first = days_from_civil(y, r->m, 1);
		const int wd = (int)floormod64(first + 4, 7); /* 1970-01-01 was a Thursday */
		day = first + (r->d - wd + 7) % 7 + 7 * (r->w - 1);
		if (day >= first + month_days(y, r->m))
			day -= 7; /* w = 5: the last such weekday */
	}
	return (day * 86400 + r->secs - utoff) * 1000;
}

/* Year k's changes: DST starts at *a, ends at *b. Whether both lie 10
 * days or more inside the year, where no other year's change can come
 * between or beside them: a change lies at most 167 h (its time), 26 h
 * (an offset) and a day (day 365 of a common year) from 1 January. */
static bool year_changes(const posix_rule *r, int64_t k, int64_t *a, int64_t *b)
{
	*a = rule_at(&r->start, k, r->std);
	*b = rule_at(&r->end, k, r->dst);
	const int64_t lo = (days_from_civil(k, 1, 1) + 10) * DAY_MS;
	const int64_t hi = (days_from_civil(k + 1, 1, 1) - 10) * DAY_MS;
	return *a != *b && *a >= lo && *b >= lo && *a <= hi && *b <= hi;
}

/* The offset (s) the rule gives at t, and in *next the next change after
 * t. Rules of tzdata change well inside the UTC year y of t: the changes
 * of y, and of y - 1 or y + 1 for t before or after both, decide. Any
 * other rule takes the changes of years y - 2 .. y + 1, which are enough;
 * on equal instants the later year's wins (a rule that ends DST at the
 * instant the next year's begins is DST all year), and the start of year
 * y + 1 bounds *next (no later change is computed, none comes before). */
static int32_t rule_seg(const posix_rule *r, int64_t t, int64_t *next)
{
	if (!r->has_dst) {
		*next = INT64_MAX;
		return r->std;
	}
	int64_t y, a, b, a2, b2;
	int m, d;
	civil_from_days(floordiv64(t, DAY_MS), &y, &m, &d);
	if (year_changes(r, y, &a, &b)) {
		const int64_t lo = a < b ? a : b, hi = a < b ? b : a;
		if (lo <= t && t < hi) {
			*next = hi;
			return a < b ? r->dst : r->std;
		}
		if (t < lo && year_changes(r, y - 1, &a2, &b2)) {
			*next = lo;
			return a2 > b2 ? r->dst : r->std;
		}
		if (t >= hi && year_changes(r, y + 1, &a2, &b2)) {
			*next = a2 < b2 ? a2 : b2;
			return a > b ? r->dst : r->std;
		}
	}
	int64_t best = INT64_MIN, nx = days_from_civil(y + 1, 1, 1) * DAY_MS;
	int32_t off = r->std;
	for (int64_t k = y - 2; k <= y + 1; k++) {
		const int64_t ev[2] = {rule_at(&r->start, k, r->std), rule_at(&r->end, k, r->dst)};
		for (int i = 0; i < 2; i++) {
			if (ev[i] <= t && ev[i] >= best) {
				best = ev[i];
				off = i ? r->std : r->dst;
			} else if (ev[i] > t && ev[i] < nx) {
				nx = ev[i];
			}
		}
	}
	*next = nx;
	return off;
}

/* The offset (s) in force at t, and in *next the instant of the next
 * change after t (INT64_MAX: none). A change need not change the offset. */
static int32_t seg(const cxm__zone *z, int64_t t, int64_t *next)
{
	uint32_t lo = 0, hi = z->n;
	while (lo < hi) {
		const uint32_t mid = lo + (hi - lo) / 2;
		if (z->at[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < z->n) {
		*next = z->at[lo];
		return lo ? z->off[lo - 1] : z->off0;
	}
	if (z->has_rule)
		return rule_seg(&z->rule, t, next);
	*next = INT64_MAX;
	return z->n ? z->off[z->n - 1] : z->off0;
}

int64_t cxm__zone_offset_ms(const cxm__zone *z, int64_t t_ms)
{
	int64_t next;
	return (int64_t)seg(z, t_ms, &next) * 1000;
}

/* The earliest instant whose local time is at or after local time L: the
 * change itself where a change skips L, the first occurrence where one
 * repeats it. No instant before L - max_off has a local time of L or
 * later, so the walk over the segments starts there; it ends by L + 26 h,
 * in practice in the first or second segment. */
static int64_t from_local(const cxm__zone *z, int64_t L)
{
	int64_t t = L - z->max_off_ms;
	for (;;) {
		int64_t next;
		const int64_t off = (int64_t)seg(z, t, &next) * 1000;
		const int64_t c = L - off > t ? L - off : t;
		if (c < next)
			return c;
		t = next;
	}
}

/* ---- calendar buckets ---------------------------------------------------------------- */

/* The first local day of the bucket of unit u that holds local day `day`,
 * and that of the next bucket. u is one of cxm_calendar_unit (the caller
 * checked it); another value is taken as a day. */
static void bucket_days(cxm_calendar_unit u, int64_t day, int64_t *d0, int64_t *d1)
{
	int months;
	switch (u) {
	case CXM_CALENDAR_WEEK:
		*d0 = day - floormod64(day + 3, 7); /* ISO: Monday is 0, day 0 a Thursday */
		*d1 = *d0 + 7;
		return;
	case CXM_CALENDAR_MONTH: months = 1; break;
	case CXM_CALENDAR_QUARTER: months = 3; break;
	case CXM_CALENDAR_YEAR: months = 12; break;
	default:
		*d0 = day;
		*d1 = day + 1;
		return;
	}
	int64_t y;
	int m, d;
	civil_from_days(day, &y, &m, &d);
	const int m0 = (m - 1) / months * months, m1 = m0 + months;
	*d0 = days_from_civil(y, m0 + 1, 1);
	*d1 = days_from_civil(y + m1 / 12, m1 % 12 + 1, 1);
}

void cxm__calendar_bucket(const cxm__zone *z, cxm_calendar_unit u, int64_t t_ms, int64_t *start,
			  int64_t *end)
{
	const int64_t local = t_ms + cxm__zone_offset_ms(z, t_ms);
	int64_t d0, d1;
	bucket_days(u, floordiv64(local, DAY_MS), &d0, &d1);
	int64_t s = from_local(z, d0 * DAY_MS), e = from_local(z, d1 * DAY_MS);
	/* s <= t always (t's own local time is at or after d0's midnight). Where
	 * a change goes back over midnight, t may still show the earlier date
	 * after the later date's midnight first occurred: it belongs to the
	 * later bucket, which began then, so that buckets tile time. (The
	 * bucket of a date a change skipped is empty: no t falls in it.) */
	while (e <= t_ms) {
		s = e;
		bucket_days(u, d1, &d0, &d1);
		e = from_local(z, d1 * DAY_MS);
	}
	*start = s;
	*end = e;
}

/* ---- the footer's POSIX TZ string ------------------------------------------------------ */

typedef struct scan {
	const char *p, *e;
} scan;

static bool num(scan *s, int max_digits, int32_t max, int32_t *out)
{
	int32_t v = 0;
	int n = 0;
	while (s->p < s->e && *s->p >= '0' && *s->p <= '9' && n < max_digits) {
		v = v * 10 + (*s->p++ - '0');
		n++;
	}
	*out = v;
	return n > 0 && v <= max;
}

/* A zone abbreviation: <[A-Za-z0-9+-]+> or [A-Za-z]+. Only its syntax
 * matters here. */
static bool abbr(scan *s)
{
	const char *b = s->p;
	if (s->p < s->e && *s->p == '<') {
		for (b = ++s->p; s->p < s->e && *s->p != '>'; s->p++)
			if (!((*s->p >= 'A' && *s->p <= 'Z') || (*s->p >= 'a' && *s->p <= 'z') ||
			      (*s->p >= '0' && *s->p <= '9') || *s->p == '+' || *s->p == '-'))
				return false;
		if (s->p == s->e || s->p == b)
			return false;
		s->p++;
		return true;
	}
	while (s->p < s->e && ((*s->p >= 'A' && *s->p <= 'Z') || (*s->p >= 'a' && *s->p <= 'z')))
		s->p++;
	return s->p > b;
}

/* [+-]h[h[h]][:mm[:ss]], hours up to 167 (RFC 8536 allows that much for
 * times of day; offsets are bounded by UTOFF_MAX after). */
static bool hms(scan *s, int32_t *out)
{
	int32_t sign = 1, h, m = 0, sec = 0;
	if (s->p < s->e && (*s->p == '+' || *s->p == '-'))
		sign = *s->p++ == '-' ? -1 : 1;
	if (!num(s, 3, 167, &h))
		return false;
	if (s->p < s->e && *s->p == ':') {
		s->p++;
		if (!num(s, 2, 59, &m))
			return false;
		if (s->p < s->e && *s->p == ':') {
			s->p++;
			if (!num(s, 2, 59, &sec))
				return false;
		}
	}
	*out = sign * (h * 3600 + m * 60 + sec);
	return true;
}

static bool rule_date_parse(scan *s, rule_date *r)
{
	int32_t a, b, c;
	memset(r, 0, sizeof *r);
	if (s->p < s->e && *s->p == 'M') {
		s->p++;
		if (!num(s, 2, 12, &a) || a < 1 || s->p == s->e || *s->p++ != '.' || !num(s, 1, 5, &b) ||
		    b < 1 || s->p == s->e || *s->p++ != '.' || !num(s, 1, 6, &c))
			return false;
		r->kind = 'M';
		r->m = (uint8_t)a;
		r->w = (uint8_t)b;
		r->d = (uint8_t)c;
	} else {
		r->kind = 'n';
		if (s->p < s->e && *s->p == 'J') {
			s->p++;
			r->kind = 'J';
		}
		if (!num(s, 3, 365, &a) || (r->kind == 'J' && a < 1))
			return false;
		r->n = (int16_t)a;
	}
	r->secs = 7200; /* POSIX's default: 02:00 */
	if (s->p < s->e && *s->p == '/') {
		s->p++;
		return hms(s, &r->secs);
	}
	return true;
}

/* std offset [dst [offset] ,start[/time],end[/time]]. A DST name without a
 * rule is refused: POSIX leaves its dates to the implementation. */
static bool rule_parse(const char *p, size_t len, posix_rule *r)
{
	scan s = {p, p + len};
	int32_t off;
	memset(r, 0, sizeof *r);
	if (!abbr(&s) || !hms(&s, &off))
		return false;
	r->std = r->dst = -off;
	if (s.p == s.e)
		return r->std >= -UTOFF_MAX && r->std <= UTOFF_MAX;
	if (!abbr(&s))
		return false;
	r->has_dst = true;
	r->dst = r->std + 3600;
	if (s.p < s.e && *s.p != ',') {
		if (!hms(&s, &off))
			return false;
		r->dst = -off;
	}
	if (s.p == s.e || *s.p++ != ',' || !rule_date_parse(&s, &r->start) || s.p == s.e ||
	    *s.p++ != ',' || !rule_date_parse(&s, &r->end) || s.p != s.e)
		return false;
	return r->std >= -UTOFF_MAX && r->std <= UTOFF_MAX && r->dst >= -UTOFF_MAX &&
	       r->dst <= UTOFF_MAX;
}

/* ---- TZif ------------------------------------------------------------------------------ */

typedef struct tzhead {
	uint32_t isut, isstd, leap, time, type, chars;
} tzhead;

/* What tzif_check found: the data block to read, with times of tsize bytes. */
typedef struct tzif {
	tzhead h;
	const unsigned char *times, *idx, *types;
	unsigned tsize;
	posix_rule rule;
	bool has_rule;
} tzif;

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t tz_time(const tzif *f, uint32_t i)
{
	const unsigned char *p = f->times + (size_t)i * f->tsize;
	if (f->tsize == 4)
		return (int32_t)be32(p);
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static int32_t tz_utoff(const tzif *f, uint32_t type)
{
	return (int32_t)be32(f->types + 6 * (size_t)type);
}

/* A header at p + at (within len), its version in *ver. */
static bool tz_head(const unsigned char *p, size_t len, size_t at, tzhead *h, unsigned char *ver)
{
	if (at > len || len - at < 44 || memcmp(p + at, "TZif", 4))
		return false;
	*ver = p[at + 4];
	uint32_t c[6];
	for (int i = 0; i < 6; i++)
		c[i] = be32(p + at + 20 + 4 * i);
	*h = (tzhead){c[0], c[1], c[2], c[3], c[4], c[5]};
	return true;
}

/* The bytes of a data block (cannot overflow: each count is below 2^32). */
static uint64_t tz_block(const tzhead *h, unsigned tsize)
{
	return (uint64_t)h->time * (tsize + 1) + (uint64_t)h->type * 6 + h->chars +
	       (uint64_t)h->leap * (tsize + 4) + h->isstd + h->isut;
}

/* Validate the file p[0, len) and say where its data lies; NULL or what is
 * wrong. Every count and index is checked against the file's length, so
 * that no file makes the reader read out of bounds or loop. */
static const char *tzif_check(const unsigned char *p, size_t len, tzif *f)
{
	tzhead h;
	unsigned char ver, ver2;
	memset(f, 0, sizeof *f);
	if (!tz_head(p, len, 0, &h, &ver))
		return len < 44 ? "shorter than a TZif header" : "no TZif magic";
	if (ver != 0 && ver != '2' && ver != '3' && ver != '4')
		return "unknown TZif version";
	uint64_t end = 44 + tz_block(&h, 4);
	if (end > len)
		return "the version 1 counts run past the end of the file";
	f->tsize = 4;
	if (ver != 0) {
		/* version 2+: the 64-bit block after the version 1 one, then the footer */
		if (!tz_head(p, len, (size_t)end, &h, &ver2))
			return "no second TZif header";
		if (ver2 != ver)
			return "the two headers differ in version";
		f->times = p + end + 44;
		end += 44 + tz_block(&h, 8);
		if (end >= len)
			return "the counts run past the end of the file";
		f->tsize = 8;
		const unsigned char *foot = p + end, *nl;
		if (*foot != '\n' || !(nl = memchr(foot + 1, '\n', len - end - 1)))
			return "the footer is not a newline-enclosed TZ string";
		f->has_rule = nl > foot + 1;
		if (f->has_rule && !rule_parse((const char *)foot + 1, (size_t)(nl - foot - 1), &f->rule))
			return "the footer TZ string is not a POSIX TZ rule this reader takes";
	} else {
		f->times = p + 44;
	}
	f->h = h;
	if (h.type < 1 || h.type > 256)
		return "the number of local time types is not 1 to 256";
	if (h.chars < 1)
		return "no time zone designations";
	if ((h.isstd && h.isstd != h.type) || (h.isut && h.isut != h.type))
		return "the standard/UT indicator counts differ from the type count";
	/* right/ zones count leap seconds in their transition times: taking
	 * them as POSIX seconds would be up to 27 s off, so they are refused */
	if (h.leap)
		return "it has leap-second records (right/ zones are not supported)";
	f->idx = f->times + (size_t)h.time * f->tsize;
	f->types = f->idx + h.time;
	const unsigned char *ind = f->types + 6 * (size_t)h.type + h.chars;
	for (uint32_t i = 0; i < h.type; i++) {
		const unsigned char *t = f->types + 6 * (size_t)i;
		const int32_t utoff = tz_utoff(f, i);
		if (utoff < -UTOFF_MAX || utoff > UTOFF_MAX)
			return "a UTC offset beyond 26 hours";
		if (t[4] > 1 || t[5] >= h.chars)
			return "a local time type with a bad DST flag or designation index";
	}
	for (uint32_t i = 0; i < h.isstd + h.isut; i++)
		if (ind[i] > 1)
			return "a standard/UT indicator that is neither 0 nor 1";
	for (uint32_t i = 0; i < h.time; i++) {
		if (i && tz_time(f, i) <= tz_time(f, i - 1))
			return "transition times not in strictly ascending order";
		if (f->idx[i] >= h.type)
			return "a transition to a local time type that does not exist";
	}
	return NULL;
}

/* The zone block for a checked file: the struct, then n instants, n
 * offsets and the name. */
static cxm__zone *zone_make(cxm_context *ctx, const tzif *f, const char *name)
{
	const uint32_t n = f->h.time;
	const size_t nlen = strlen(name) + 1;
	const size_t size = sizeof(cxm__zone) + (size_t)n * (sizeof(int64_t) + sizeof(int32_t)) + nlen;
	cxm__zone *z = cxm__alloc(ctx, size);
	if (!z)
		return NULL;
	memset(z, 0, sizeof *z);
	int64_t *at = (int64_t *)(z + 1);
	int32_t *off = (int32_t *)(at + n);
	char *nm = (char *)(off + n);
	memcpy(nm, name, nlen);
	z->size = size;
	z->at = at;
	z->off = off;
	z->name = nm;
	z->n = n;
	z->off0 = tz_utoff(f, 0);
	int32_t max = z->off0;
	for (uint32_t i = 0; i < f->h.type; i++)
		if (tz_utoff(f, i) > max)
			max = tz_utoff(f, i);
	for (uint32_t i = 0; i < n; i++) {
		int64_t s = tz_time(f, i);
		s = s < -AT_CLAMP ? -AT_CLAMP : s > AT_CLAMP ? AT_CLAMP : s;
		at[i] = s * 1000;
		off[i] = tz_utoff(f, f->idx[i]);
	}
	z->has_rule = f->has_rule;
	z->rule = f->rule;
	if (f->has_rule) {
		max = f->rule.std > max ? f->rule.std : max;
		max = f->rule.dst > max ? f->rule.dst : max;
	}
	z->max_off_ms = (int64_t)max * 1000;
	return z;
}

/* ---- loading ---------------------------------------------------------------------------- */

static cxm_status io_fail(cxm_context *ctx, const char *what, const char *path, int err)
{
	char buf[128];
	const char *text = strerror_r(err, buf, sizeof buf);
	return cxm__fail(ctx, CXM_ERR_IO, "time zone file %s: %s: %s (errno %d)", path, what, text, err);
}

/* Read path whole into a buffer of the context's (*cap bytes, *len used). */
static cxm_status zone_read(cxm_context *ctx, const char *name, const char *path,
			    unsigned char **buf, size_t *len, size_t *cap)
{
	int fd;
	*buf = NULL;
	*len = *cap = 0;
	/* O_NONBLOCK: a FIFO put where a zone should be must not block */
	do
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "no time zone '%s' (no file %s)", name,
					 path);
		return io_fail(ctx, "open", path, errno);
	}
	cxm_status st = CXM_OK;
	struct stat sb;
	ssize_t r = 0;
	if (fstat(fd, &sb) < 0) {
		st = io_fail(ctx, "fstat", path, errno);
	} else if (S_ISDIR(sb.st_mode)) {
		/* "America" names a directory of zones, not a zone: unknown, like a
		 * name with no file */
		st = cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "no time zone '%s' (%s is a directory)", name,
			       path);
	} else if (!S_ISREG(sb.st_mode)) {
		st = cxm__fail(ctx, CXM_ERR_IO, "time zone file %s is not a regular file", path);
	} else if (sb.st_size > (off_t)ZONE_FILE_MAX) {
		st = cxm__fail(ctx, CXM_ERR_CORRUPT, "time zone file %s has %lld bytes, over %u",
			       path, (long long)sb.st_size, ZONE_FILE_MAX);
	} else if (!(*buf = cxm__alloc(ctx, *cap = (size_t)sb.st_size + 1))) {
		st = cxm__fail(ctx, CXM_ERR_NO_MEMORY, "allocating %zu bytes for time zone '%s' failed",
			       *cap, name);
	} else {
		/* one byte more than fstat said: a file that grew shows it */
		while (*len < *cap && (r = read(fd, *buf + *len, *cap - *len)) != 0) {
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				st = io_fail(ctx, "read", path, errno);
				break;
			}
			*len += (size_t)r;
		}
		if (!st && *len == *cap)
			st = cxm__fail(ctx, CXM_ERR_IO, "time zone file %s grew while it was read", path);
	}
	close(fd);
	if (st) {
		cxm__free(ctx, *buf, *cap);
		*buf = NULL;
	}
	return st;
}

/* Load zone name from its file. */
static cxm_status zone_load(cxm_context *ctx, const char *name, cxm__zone **out)
{
	const char *dir = secure_getenv("TZDIR");
	char path[PATH_MAX];
	if (!dir || !*dir)
		dir = ZONE_DIR;
	int w = snprintf(path, sizeof path, "%s/%s", dir, name);
	if (w < 0 || (size_t)w >= sizeof path)
		return cxm__fail(ctx, CXM_ERR_IO, "time zone '%s': the path under %.64s is too long",
				 name, dir);
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0;
	cxm_status st = zone_read(ctx, name, path, &buf, &len, &cap);
	if (st)
		return st;
	tzif f;
	const char *bad = tzif_check(buf, len, &f);
	if (bad)
		st = cxm__fail(ctx, CXM_ERR_CORRUPT, "time zone file %s is not valid TZif: %s", path, bad);
	else if (!(*out = zone_make(ctx, &f, name)))
		st = cxm__fail(ctx, CXM_ERR_NO_MEMORY, "allocating time zone '%s' failed", name);
	cxm__free(ctx, buf, cap);
	return st;
}

/* A name reaches the file system only as a relative path of plain parts. */
static cxm_status check_zone_name(const cxm_context *ctx, const char *name)
{
	if (!name)
		return cxm__fail(ctx, CXM_ERR_INVALID, "the time zone name is NULL");
	const size_t len = strnlen(name, CXM_TZ_NAME_MAX + 1);
	if (len > CXM_TZ_NAME_MAX)
		return cxm__fail(ctx, CXM_ERR_TOO_LONG,
				 "time zone name '%.40s...' is longer than %d bytes", name,
				 CXM_TZ_NAME_MAX);
	if (!len)
		return cxm__fail(ctx, CXM_ERR_ENCODING, "the time zone name is empty");
	for (size_t i = 0; i < len; i++) {
		const unsigned char c = (unsigned char)name[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '/' || c == '_' || c == '+' || c == '-' || c == '.'))
			return cxm__fail(ctx, CXM_ERR_ENCODING,
					 "time zone name has byte 0x%02x at %zu: only A-Z a-z 0-9 / _ + - . may be used",
					 c, i);
	}
	if (name[0] == '/')
		return cxm__fail(ctx, CXM_ERR_ENCODING, "time zone name '%s' is an absolute path",
				 name);
	for (const char *p = name;; p++) {
		const size_t n = strcspn(p, "/");
		if (!n || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return cxm__fail(ctx, CXM_ERR_ENCODING,
					 "time zone name '%s' has an empty, '.' or '..' part", name);
		p += n;
		if (!*p)
			break;
	}
	return CXM_OK;
}

static const cxm__zone *zone_find(zone_mod *m, const char *name)
{
	const uint32_t n = atomic_load_explicit(&m->n, memory_order_acquire);
	for (uint32_t i = 0; i < n; i++)
		if (!strcmp(m->z[i]->name, name))
			return m->z[i];
	return NULL;
}

cxm_status cxm__zone_get(cxm_context *ctx, const char *name, const cxm__zone **out)
{
	if (!out)
		return cxm__fail(ctx, CXM_ERR_INVALID, "out is NULL");
	cxm_status st = check_zone_name(ctx, name);
	if (st)
		return st;
	for (size_t i = 0; i < sizeof utc_names / sizeof *utc_names; i++)
		if (!strcmp(name, utc_names[i])) {
			*out = &utc_zone;
			return CXM_OK;
		}
	zone_mod *m = atomic_load_explicit(&ctx->zones, memory_order_acquire);
	const cxm__zone *found;
	if (m && (found = zone_find(m, name))) {
		*out = found;
		return CXM_OK;
	}
	if (!m) {
		/* made once; a thread that loses the race frees its own. It stays
		 * (empty) if the load below fails, and goes with the context. */
		zone_mod *fresh = cxm__calloc(ctx, 1, sizeof *fresh);
		if (!fresh)
			return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "allocating the time zone table failed");
		if (cxm__mutex_init(&fresh->lock)) {
			cxm__free(ctx, fresh, sizeof *fresh);
			return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "initialising the time zone lock failed");
		}
		if (atomic_compare_exchange_strong_explicit(&ctx->zones, &m, fresh,
							    memory_order_acq_rel, memory_order_acquire)) {
			m = fresh;
		} else {
			pthread_mutex_destroy(&fresh->lock);
			cxm__free(ctx, fresh, sizeof *fresh);
		}
	}
	/* loads are rare (CXM__ZONES_MAX at most): one at a time, and a zone
	 * another thread loaded meanwhile is found again here */
	pthread_mutex_lock(&m->lock);
	if ((found = zone_find(m, name))) {
		*out = found;
	} else {
		const uint32_t n = atomic_load_explicit(&m->n, memory_order_relaxed);
		cxm__zone *z;
		if (n >= CXM__ZONES_MAX) {
			st = cxm__fail(ctx, CXM_ERR_LIMIT,
				       "time zone '%s': %d zones are loaded, the most one context keeps",
				       name, CXM__ZONES_MAX);
		} else if (!(st = zone_load(ctx, name, &z))) {
			m->z[n] = z;
			atomic_store_explicit(&m->n, n + 1, memory_order_release);
			*out = z;
		}
	}
	pthread_mutex_unlock(&m->lock);
	return st;
}

void cxm__zones_free(cxm_context *ctx)
{
	zone_mod *m = atomic_load_explicit(&ctx->zones, memory_order_acquire);
	if (!m)
		return;
	const uint32_t n = atomic_load_explicit(&m->n, memory_order_acquire);
	for (uint32_t i = 0; i < n; i++)
		cxm__free(ctx, m->z[i], m->z[i]->size);
	pthread_mutex_destroy(&m->lock);
	cxm__free(ctx, m, sizeof *m);
	atomic_store_explicit(&ctx->zones, NULL, memory_order_release);
}
