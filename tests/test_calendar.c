/* Time zones and calendar buckets (lib/calendar.c): hand-checked buckets
 * in real zones (the expected values are Python zoneinfo's over the same
 * /usr/share/zoneinfo, and checked by hand), synthetic zones for what
 * tzdata lacks, bad names, hostile files, the zone limit, threads and out
 * of memory. tests/calendar_check.py compares thousands more with
 * zoneinfo. */
#include "testutil.h"

#include "cxm_internal.h"

#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SYS_DIR "/usr/share/zoneinfo"
#define S(x) ((int64_t)(x) * 1000) /* seconds to ms */

static char tmpdir[64]; /* synthetic zones: TZDIR for the tests that use them */

static cxm_context *ctx_new(void)
{
	cxm_context *ctx = NULL;
	cxm_config cfg = CXM_CONFIG_INIT;
	assert_int_equal(cxm_context_new(&ctx, &cfg), CXM_OK);
	return ctx;
}

static const cxm__zone *zone(cxm_context *ctx, const char *name)
{
	const cxm__zone *z = NULL;
	cxm_status st = cxm__zone_get(ctx, name, &z);
	if (st)
		fail_msg("zone %s: %s: %s", name, cxm_strerror(st), cxm_errmsg(ctx));
	assert_non_null(z);
	return z;
}

static void use_dir(const char *dir)
{
	assert_int_equal(setenv("TZDIR", dir, 1), 0);
}

static bool have_tzdata(void)
{
	return access(SYS_DIR "/America/New_York", R_OK) == 0;
}

/* ---- writing TZif files ------------------------------------------------------------ */

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void put64(unsigned char *p, int64_t v)
{
	put32(p, (uint32_t)((uint64_t)v >> 32));
	put32(p + 4, (uint32_t)v);
}

typedef struct tzspec {
	char ver; /* 0, '2', '3', '4' */
	uint32_t n, ntypes;
	const int64_t *at;
	const uint8_t *idx;
	const int32_t *utoff;
	const char *footer; /* v2+; NULL: "" */
} tzspec;

/* Where header 2's counts lie in what tzif_build writes for v2+ (after a
 * minimal version 1 block: one type, one designation byte). */
#define H2 (44 + 7)
#define H2_TIME (H2 + 32)
#define H2_TYPE (H2 + 36)
#define DATA2 (H2 + 44)

static void header(unsigned char *p, char ver, uint32_t n, uint32_t ntypes)
{
	memset(p, 0, 44);
	memcpy(p, "TZif", 4);
	p[4] = (unsigned char)ver;
	put32(p + 32, n);
	put32(p + 36, ntypes);
	put32(p + 40, 1); /* one designation: "" */
}

static size_t tzif_build(unsigned char *p, const tzspec *s)
{
	size_t at = 0;
	const unsigned tsize = s->ver ? 8 : 4;
	if (s->ver) {
		header(p, s->ver, 0, 1);
		memset(p + 44, 0, 7);
		at = H2;
	}
	header(p + at, s->ver, s->n, s->ntypes);
	at += 44;
	for (uint32_t i = 0; i < s->n; i++, at += tsize)
		if (tsize == 8)
			put64(p + at, s->at[i]);
		else
			put32(p + at, (uint32_t)s->at[i]);
	for (uint32_t i = 0; i < s->n; i++)
		p[at++] = s->idx[i];
	for (uint32_t i = 0; i < s->ntypes; i++, at += 6) {
		put32(p + at, (uint32_t)s->utoff[i]);
		p[at + 4] = i > 0; /* type 0 standard, the others DST: only flags */
		p[at + 5] = 0;
	}
	p[at++] = 0;
	if (s->ver)
		at += (size_t)sprintf((char *)p + at, "\n%s\n", s->footer ? s->footer : "");
	return at;
}

static void write_file(const char *name, const void *p, size_t len)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	char *slash = strrchr(path, '/');
	*slash = 0;
	mkdir(path, 0755); /* one level of directory is enough here */
	*slash = '/';
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void write_zone(const char *name, const tzspec *s)
{
	unsigned char buf[4096];
	write_file(name, buf, tzif_build(buf, s));
}

/* A plain zone: +1 h, then +2 h from 2021-01-01T00:00Z, footer CET-style. */
static const int64_t plain_at[] = {1609459200};
static const uint8_t plain_idx[] = {1};
static const int32_t plain_off[] = {3600, 7200};
static const tzspec plain = {'2', 1, 2, plain_at, plain_idx, plain_off, "<+02>-2"};

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup_dir(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/cxm-tz-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	return 0;
}

static int teardown_dir(void **state)
{
	(void)state;
	unsetenv("TZDIR");
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- buckets in real zones ------------------------------------------------------------ */

typedef struct bcase {
	const char *zone;
	cxm_calendar_unit u;
	int64_t t, start, end;
} bcase;

/* From Python zoneinfo (tests/calendar_check.py's definition); the local
 * bounds and lengths are in the comments. */
static const bcase real_cases[] = {
	/* New York, the day of DST start (23 h) and end (25 h) */
	{"America/New_York", CXM_CALENDAR_DAY, 1615737600000, 1615698000000, 1615780800000},
	{"America/New_York", CXM_CALENDAR_DAY, 1636304400000, 1636257600000, 1636347600000},
	/* March 2021 (743 h), 2020-12-28 .. 2021-01-04 (a week across the year),
	 * 2021-01-03T23:59:59.999 still in it, 2021-01-04T00:00 the next one's */
	{"America/New_York", CXM_CALENDAR_MONTH, 1616256000000, 1614574800000, 1617249600000},
	{"America/New_York", CXM_CALENDAR_WEEK, 1609434000000, 1609131600000, 1609736400000},
	{"America/New_York", CXM_CALENDAR_WEEK, 1609736399999, 1609131600000, 1609736400000},
	{"America/New_York", CXM_CALENDAR_WEEK, 1609736400000, 1609736400000, 1610341200000},
	/* Q2 2021 (from EDT to EDT), 2021 (EST to EST) */
	{"America/New_York", CXM_CALENDAR_QUARTER, 1621094400000, 1617249600000, 1625112000000},
	{"America/New_York", CXM_CALENDAR_YEAR, 1621094400000, 1609477200000, 1641013200000},
	/* +5:30 and +5:45 */
	{"Asia/Kolkata", CXM_CALENDAR_DAY, 1623715200000, 1623695400000, 1623781800000},
	{"Asia/Kathmandu", CXM_CALENDAR_DAY, 1623715200000, 1623694500000, 1623780900000},
	{"Asia/Kathmandu", CXM_CALENDAR_MONTH, 1623715200000, 1622484900000, 1625076900000},
	/* Lord Howe's 30-minute DST: 23.5 h and 24.5 h days */
	{"Australia/Lord_Howe", CXM_CALENDAR_DAY, 1633222800000, 1633181400000, 1633266000000},
	{"Australia/Lord_Howe", CXM_CALENDAR_DAY, 1648949400000, 1648904400000, 1648992600000},
	{"Europe/London", CXM_CALENDAR_DAY, 1616929200000, 1616889600000, 1616972400000},
	{"Europe/London", CXM_CALENDAR_DAY, 1635681600000, 1635634800000, 1635724800000},
	/* Santiago skips 2021-09-05T00:00-04: the 4th runs to 01:00-03 (24 h),
	 * where the 5th (23 h) and September begin */
	{"America/Santiago", CXM_CALENDAR_DAY, 1630771200000, 1630728000000, 1630814400000},
	{"America/Santiago", CXM_CALENDAR_DAY, 1630854000000, 1630814400000, 1630897200000},
	{"America/Santiago", CXM_CALENDAR_DAY, 1630814400000, 1630814400000, 1630897200000},
	{"America/Santiago", CXM_CALENDAR_MONTH, 1630854000000, 1630468800000, 1633057200000},
	/* Havana skips 2021-03-14T00:00-05 (the day begins 01:00-04) and
	 * repeats 2021-11-07T00:00-04 .. 01:00 (from the first: 25 h) */
	{"America/Havana", CXM_CALENDAR_DAY, 1615737600000, 1615698000000, 1615780800000},
	{"America/Havana", CXM_CALENDAR_DAY, 1636304400000, 1636257600000, 1636347600000},
	/* Apia skipped 2011-12-30: the 29th (-10) runs to the 31st (+14); the
	 * week of Monday the 26th has 144 h, December 720 h */
	{"Pacific/Apia", CXM_CALENDAR_DAY, 1325196000000, 1325152800000, 1325239200000},
	{"Pacific/Apia", CXM_CALENDAR_DAY, 1325239199999, 1325152800000, 1325239200000},
	{"Pacific/Apia", CXM_CALENDAR_DAY, 1325239200000, 1325239200000, 1325325600000},
	{"Pacific/Apia", CXM_CALENDAR_DAY, 1325282400000, 1325239200000, 1325325600000},
	{"Pacific/Apia", CXM_CALENDAR_WEEK, 1325196000000, 1324893600000, 1325412000000},
	{"Pacific/Apia", CXM_CALENDAR_MONTH, 1325196000000, 1322733600000, 1325325600000},
	/* 2100, past the files' tables (2037): the footer's rule */
	{"America/New_York", CXM_CALENDAR_DAY, 4108723200000, 4108683600000, 4108766400000},
	{"America/New_York", CXM_CALENDAR_DAY, 4129290000000, 4129243200000, 4129333200000},
	{"Europe/Berlin", CXM_CALENDAR_DAY, 4109911200000, 4109871600000, 4109954400000},
	{"Europe/Berlin", CXM_CALENDAR_DAY, 4128663600000, 4128616800000, 4128706800000},
	{"Europe/Berlin", CXM_CALENDAR_YEAR, 4128663600000, 4102441200000, 4133977200000},
	/* the rule before, between and after a year's changes, north and south:
	 * 2100-01-15 and 2100-12-15 in New York (EST) and Sydney (AEDT); April
	 * 2100 in Sydney (721 h), the week of Monday 2100-09-27 (167 h) */
	{"America/New_York", CXM_CALENDAR_DAY, 4103715600000, 4103672400000, 4103758800000},
	{"America/New_York", CXM_CALENDAR_DAY, 4132573200000, 4132530000000, 4132616400000},
	{"Australia/Sydney", CXM_CALENDAR_DAY, 4103658000000, 4103614800000, 4103701200000},
	{"Australia/Sydney", CXM_CALENDAR_MONTH, 4111437600000, 4110181200000, 4112776800000},
	{"Australia/Sydney", CXM_CALENDAR_DAY, 4132515600000, 4132472400000, 4132558800000},
	{"Australia/Sydney", CXM_CALENDAR_WEEK, 4126208400000, 4125650400000, 4126251600000},
	/* CXM_TIME_MAX (9999-12-31T23:59:59.999Z) is in 10000 east of UTC:
	 * 10000-01-01T00:00+09 = 253402300800000 - 9 h; 10000 is a leap year */
	{"Asia/Tokyo", CXM_CALENDAR_DAY, CXM_TIME_MAX, 253402268400000, 253402354800000},
	{"Asia/Tokyo", CXM_CALENDAR_YEAR, CXM_TIME_MAX, 253402268400000,
	 253402268400000 + 366 * DAY},
	{"Pacific/Kiritimati", CXM_CALENDAR_MONTH, CXM_TIME_MAX, 253402250400000,
	 253402250400000 + 31 * DAY},
	{"Europe/Berlin", CXM_CALENDAR_DAY, CXM_TIME_MAX, 253402297200000, 253402383600000},
	/* t = 0 is 1969-12-31T16:00-08: December 1969 .. 1970-01-01T08:00Z */
	{"America/Los_Angeles", CXM_CALENDAR_MONTH, 0, -2649600000, 28800000},
	{"America/Los_Angeles", CXM_CALENDAR_YEAR, 0, -31507200000, 28800000},
	{"America/Los_Angeles", CXM_CALENDAR_DAY, 0, -57600000, 28800000},
};

static void check(const cxm__zone *z, const char *name, cxm_calendar_unit u, int64_t t,
		  int64_t start, int64_t end)
{
	int64_t s = 0, e = 0;
	cxm__calendar_bucket(z, u, t, &s, &e);
	if (s != start || e != end)
		fail_msg("%s unit %d t=%lld: got [%lld, %lld), want [%lld, %lld)", name, (int)u,
			 (long long)t, (long long)s, (long long)e, (long long)start, (long long)end);
}

static void real_zones(void **state)
{
	(void)state;
	if (!have_tzdata())
		skip();
	unsetenv("TZDIR"); /* the default directory */
	cxm_context *ctx = ctx_new();
	for (size_t i = 0; i < sizeof real_cases / sizeof *real_cases; i++) {
		const bcase *c = &real_cases[i];
		check(zone(ctx, c->zone), c->zone, c->u, c->t, c->start, c->end);
	}
	const cxm__zone *ny = zone(ctx, "America/New_York");
	assert_int_equal(cxm__zone_offset_ms(ny, 1615705200000 - 1), -5 * HOUR); /* 01:59:59.999 EST */
	assert_int_equal(cxm__zone_offset_ms(ny, 1615705200000), -4 * HOUR);
	assert_int_equal(cxm__zone_offset_ms(zone(ctx, "Asia/Kathmandu"), 0), 19800000); /* +5:30 then */
	assert_int_equal(cxm__zone_offset_ms(zone(ctx, "Asia/Kathmandu"), T0), 20700000);
	/* a name loaded twice is the same zone */
	assert_ptr_equal(zone(ctx, "America/New_York"), ny);
	/* leap-second zones are refused, not read 27 s off */
	const cxm__zone *z;
	if (access(SYS_DIR "/right/UTC", R_OK) == 0)
		assert_int_equal(cxm__zone_get(ctx, "right/UTC", &z), CXM_ERR_CORRUPT);
	cxm_context_free(ctx);
}

/* Buckets tile time: each starts where the one before ended, holds every
 * instant in it, and the same bucket comes back for any of them. */
static void tile(const cxm__zone *z, const char *name, cxm_calendar_unit u, int64_t t, int n)
{
	int64_t s, e, s2, e2;
	cxm__calendar_bucket(z, u, t, &s, &e);
	for (int i = 0; i < n; i++) {
		if (!(s <= t && t < e))
			fail_msg("%s unit %d: t=%lld outside [%lld, %lld)", name, (int)u, (long long)t,
				 (long long)s, (long long)e);
		const int64_t probe[] = {s, e - 1, s + (e - s) / 2, s + (e - s) / 3};
		for (int k = 0; k < 4; k++) {
			cxm__calendar_bucket(z, u, probe[k], &s2, &e2);
			if (s2 != s || e2 != e)
				fail_msg("%s unit %d: t=%lld in [%lld, %lld) got [%lld, %lld)", name, (int)u,
					 (long long)probe[k], (long long)s, (long long)e, (long long)s2,
					 (long long)e2);
		}
		cxm__calendar_bucket(z, u, e, &s2, &e2);
		assert_true(s2 == e && e2 > e);
		t = s = e;
		e = e2;
	}
}

static void tiling(void **state)
{
	(void)state;
	if (!have_tzdata())
		skip();
	use_dir(SYS_DIR);
	cxm_context *ctx = ctx_new();
	static const struct {
		const char *zone;
		int64_t from;
	} walks[] = {
		{"America/New_York", 1609459200000},   {"America/Santiago", 1609459200000},
		{"America/Havana", 1609459200000},     {"Pacific/Apia", 1322697600000},
		{"Australia/Lord_Howe", 1609459200000}, {"Asia/Beirut", 1609459200000},
		{"Europe/Dublin", 4102444800000},      {"America/Nuuk", 4102444800000},
		{"Asia/Gaza", 4102444800000},           {"Africa/Casablanca", 1609459200000},
	};
	for (size_t i = 0; i < sizeof walks / sizeof *walks; i++) {
		const cxm__zone *z = zone(ctx, walks[i].zone);
		tile(z, walks[i].zone, CXM_CALENDAR_DAY, walks[i].from, 800);
		tile(z, walks[i].zone, CXM_CALENDAR_WEEK, walks[i].from, 120);
		tile(z, walks[i].zone, CXM_CALENDAR_MONTH, walks[i].from, 30);
		tile(z, walks[i].zone, CXM_CALENDAR_QUARTER, walks[i].from, 10);
		tile(z, walks[i].zone, CXM_CALENDAR_YEAR, walks[i].from, 3);
	}
	/* up to the end of time in a zone east and one west of UTC */
	tile(zone(ctx, "Pacific/Kiritimati"), "Kiritimati", CXM_CALENDAR_DAY, CXM_TIME_MAX - 30 * DAY, 29);
	tile(zone(ctx, "America/New_York"), "New_York", CXM_CALENDAR_YEAR, S(253086768000), 9);
	cxm_context_free(ctx);
}

/* ---- synthetic zones ----------------------------------------------------------------- */

/* What tzdata does not have: a change back over midnight (00:30 +1 to
 * 23:30 +0 on 2021-01-10), footers of every date form, a rule that is DST
 * all year, negative times, and a version 1 file. */
static void synthetic(void **state)
{
	(void)state;
	use_dir(tmpdir);
	const int64_t T = 18638 * 86400 - 1800; /* 2021-01-10T23:30Z */
	/* +0 before 1970 (type 0), +1 from 1970, +0 again from T */
	const int64_t back_at[] = {0, T};
	const uint8_t back_idx[] = {1, 0};
	const int32_t back_off[] = {0, 3600};
	write_zone("Test/Back", &(tzspec){'2', 2, 2, back_at, back_idx, back_off, ""});
	write_zone("Test/Perm", &(tzspec){'3', 0, 1, NULL, NULL, (const int32_t[]){-18000},
					  "EST5EDT,0/0,J365/25"});
	write_zone("Test/Julian", &(tzspec){'2', 0, 1, NULL, NULL, (const int32_t[]){-10800},
					    "<-03>3<-02>,J60/0,J300/0"});
	write_zone("Test/Zero", &(tzspec){'2', 0, 1, NULL, NULL, (const int32_t[]){-10800},
					  "<-03>3<-02>,59/0,300/0"});
	write_zone("Test/Neg", &(tzspec){'3', 0, 1, NULL, NULL, (const int32_t[]){-10800},
					 "<-03>3<-02>,M3.5.0/-2,M10.5.0/-1"});
	write_zone("Test/Long", &(tzspec){'3', 0, 1, NULL, NULL, (const int32_t[]){7200},
					  "EET-2EEST,M3.4.4/50,M10.4.4/50"});
	write_zone("Test/Edge", &(tzspec){'2', 0, 1, NULL, NULL, (const int32_t[]){3600},
					  "<+01>-1<+02>,J2/0,J364/0"});
	const int64_t v1_at[] = {1000000000};
	write_zone("Test/V1", &(tzspec){0, 1, 2, v1_at, (const uint8_t[]){1}, (const int32_t[]){0, 3600},
					NULL});
	write_zone("Test/Plain", &plain);
	cxm_context *ctx = ctx_new();

	/* 2021-01-10 (+1) begins 2021-01-09T23:00Z; the 11th's midnight first
	 * comes at 2021-01-10T23:00Z (+1), then 23:30Z shows the 10th's 23:30
	 * again (+0): those instants are the 11th's, which runs 25 h */
	const cxm__zone *z = zone(ctx, "Test/Back");
	const int64_t mid11 = S(18638 * 86400 - 3600);
	check(z, "Back", CXM_CALENDAR_DAY, mid11 - 1, S(18637 * 86400 - 3600), mid11);
	check(z, "Back", CXM_CALENDAR_DAY, mid11, mid11, S(18639 * 86400));
	check(z, "Back", CXM_CALENDAR_DAY, S(T) + 600000, mid11, S(18639 * 86400));
	check(z, "Back", CXM_CALENDAR_WEEK, S(T) + 600000, mid11, S(18645 * 86400)); /* the 11th: a Monday */
	tile(z, "Back", CXM_CALENDAR_DAY, mid11 - 3 * DAY, 10);

	/* DST all year: -4 h at every instant, midnights included */
	z = zone(ctx, "Test/Perm");
	for (int64_t t = S(1609459200) - 2 * DAY; t < S(1609459200) + 2 * DAY; t += 15 * MIN)
		assert_int_equal(cxm__zone_offset_ms(z, t), -4 * HOUR);
	assert_int_equal(cxm__zone_offset_ms(z, S(4102444800) + 4 * HOUR), -4 * HOUR);
	check(z, "Perm", CXM_CALENDAR_YEAR, S(1609459200) + 4 * HOUR, S(1609459200) + 4 * HOUR,
	      S(1640995200) + 4 * HOUR);

	/* J60 is 1 March in every year; zero-based 59 is 29 February in a
	 * leap year. DST from 00:00-03, that is 03:00Z. */
	z = zone(ctx, "Test/Julian");
	assert_int_equal(cxm__zone_offset_ms(z, S(1709262000) - 1), -3 * HOUR);
	assert_int_equal(cxm__zone_offset_ms(z, S(1709262000)), -2 * HOUR);
	assert_int_equal(cxm__zone_offset_ms(z, S(1677639600) - 1), -3 * HOUR);
	assert_int_equal(cxm__zone_offset_ms(z, S(1677639600)), -2 * HOUR);
	z = zone(ctx, "Test/Zero");
	assert_int_equal(cxm__zone_offset_ms(z, S(1709175600) - 1), -3 * HOUR);
	assert_int_equal(cxm__zone_offset_ms(z, S(1709175600)), -2 * HOUR);
	assert_int_equal(cxm__zone_offset_ms(z, S(1677639600) - 1), -3 * HOUR);
	assert_int_equal(cxm__zone_offset_ms(z, S(1677639600)), -2 * HOUR);

	/* "/-2" on Sunday 2030-03-31 is Saturday 22:00-03 = 01:00Z; "/-1" on
	 * Sunday 2030-10-27 is Saturday 23:00-02 = 01:00Z */
	z = zone(ctx, "Test/Neg");
	assert_int_equal(cxm__zone_offset_ms(z, S(1901149200) - 1), -3 * HOUR);
	assert_int_equal(cxm__zone_offset_ms(z, S(1901149200)), -2 * HOUR);
	assert_int_equal(cxm__zone_offset_ms(z, S(1919293200) - 1), -2 * HOUR);
	assert_int_equal(cxm__zone_offset_ms(z, S(1919293200)), -3 * HOUR);
	/* the change is on Saturday's clock: Saturday runs 23 h, from
	 * 00:00-03 (03:00Z) to Sunday 00:00-02 (02:00Z) */
	check(z, "Neg", CXM_CALENDAR_DAY, S(1901149200), S(1901149200) - 22 * HOUR,
	      S(1901149200) + HOUR);

	/* "M3.4.4/50": Thursday 2030-03-28 + 50 h = Saturday 02:00+02 = 00:00Z */
	z = zone(ctx, "Test/Long");
	assert_int_equal(cxm__zone_offset_ms(z, S(1901059200) - 1), 2 * HOUR);
	assert_int_equal(cxm__zone_offset_ms(z, S(1901059200)), 3 * HOUR);

	/* changes near 1 January (the general path of rule evaluation): DST
	 * from 2 January 00:00+01 (2025-01-01T23:00Z, which skips the 2nd's
	 * midnight) to 30 December 00:00+02 (2025-12-29T22:00Z) */
	z = zone(ctx, "Test/Edge");
	assert_int_equal(cxm__zone_offset_ms(z, S(1735772400) - 1), HOUR);
	assert_int_equal(cxm__zone_offset_ms(z, S(1735772400)), 2 * HOUR);
	assert_int_equal(cxm__zone_offset_ms(z, S(1767045600) - 1), 2 * HOUR);
	assert_int_equal(cxm__zone_offset_ms(z, S(1767045600)), HOUR);
	check(z, "Edge", CXM_CALENDAR_DAY, S(1735772400) - 1, S(1735686000), S(1735772400));
	check(z, "Edge", CXM_CALENDAR_DAY, S(1735772400), S(1735772400), S(1735855200));
	check(z, "Edge", CXM_CALENDAR_YEAR, S(1735772400), S(1735686000), S(1767222000));
	tile(z, "Edge", CXM_CALENDAR_DAY, S(1735686000) - 5 * DAY, 15);

	z = zone(ctx, "Test/V1");
	assert_int_equal(cxm__zone_offset_ms(z, S(1000000000) - 1), 0);
	assert_int_equal(cxm__zone_offset_ms(z, S(1000000000)), HOUR);
	assert_int_equal(cxm__zone_offset_ms(z, CXM_TIME_MAX), HOUR);

	z = zone(ctx, "Test/Plain");
	assert_int_equal(cxm__zone_offset_ms(z, 0), HOUR);
	assert_int_equal(cxm__zone_offset_ms(z, CXM_TIME_MAX), 2 * HOUR);
	cxm_context_free(ctx);
}

/* ---- UTC, names, limits ------------------------------------------------------------- */

static void utc_without_files(void **state)
{
	(void)state;
	char empty[96];
	snprintf(empty, sizeof empty, "%s/empty", tmpdir);
	mkdir(empty, 0755);
	use_dir(empty);
	cxm_context *ctx = ctx_new();
	const char *names[] = {"UTC", "Etc/UTC", "GMT", "Etc/GMT", "Zulu"};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		const cxm__zone *z = zone(ctx, names[i]);
		assert_int_equal(cxm__zone_offset_ms(z, T0), 0);
		check(z, names[i], CXM_CALENDAR_DAY, T0 + 5 * HOUR, T0, T0 + DAY);
		check(z, names[i], CXM_CALENDAR_WEEK, T0 + 5 * HOUR, T0, T0 + 7 * DAY); /* T0: a Monday */
		check(z, names[i], CXM_CALENDAR_MONTH, 0, 0, 31 * DAY);
		check(z, names[i], CXM_CALENDAR_YEAR, CXM_TIME_MAX, S(253370764800), CXM_TIME_MAX + 1);
	}
	const cxm__zone *z;
	assert_int_equal(cxm__zone_get(ctx, "Europe/Paris", &z), CXM_ERR_UNKNOWN_ID);
	assert_non_null(strstr(cxm_errmsg(ctx), "Europe/Paris"));
	cxm_context_free(ctx);
}

static void bad_names(void **state)
{
	(void)state;
	use_dir(tmpdir);
	write_zone("Test/Plain", &plain);
	char dots[300];
	memset(dots, 'a', sizeof dots);
	dots[CXM_TZ_NAME_MAX] = 0; /* 255 bytes: not too long, no such file */
	char longer[300];
	memset(longer, 'a', sizeof longer);
	longer[CXM_TZ_NAME_MAX + 1] = 0;
	static const struct {
		const char *name;
		cxm_status st;
	} cases[] = {
		{"", CXM_ERR_ENCODING},
		{"/etc/passwd", CXM_ERR_ENCODING},
		{"../etc/passwd", CXM_ERR_ENCODING},
		{"Test/../Test/Plain", CXM_ERR_ENCODING},
		{"./Test/Plain", CXM_ERR_ENCODING},
		{"Test/.", CXM_ERR_ENCODING},
		{"Test//Plain", CXM_ERR_ENCODING},
		{"Test/", CXM_ERR_ENCODING},
		{"Test/Pl ain", CXM_ERR_ENCODING},
		{"Test\\Plain", CXM_ERR_ENCODING},
		{"Test/Pl\xc3\xa9", CXM_ERR_ENCODING},
		{"Test/Plain\n", CXM_ERR_ENCODING},
		{"Test/Plai*", CXM_ERR_ENCODING},
		{"Nowhere/Land", CXM_ERR_UNKNOWN_ID},
		{"Test/Plain/x", CXM_ERR_UNKNOWN_ID}, /* ENOTDIR */
		{"Test", CXM_ERR_UNKNOWN_ID},         /* a directory */
		{"Test/.hidden-ok_+1", CXM_ERR_UNKNOWN_ID},
	};
	cxm_context *ctx = ctx_new();
	const cxm__zone *z = NULL;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		cxm_status st = cxm__zone_get(ctx, cases[i].name, &z);
		if (st != cases[i].st)
			fail_msg("'%s': got %s (%s), want %s", cases[i].name, cxm_strerror(st),
				 cxm_errmsg(ctx), cxm_strerror(cases[i].st));
		assert_true(cxm_errmsg(ctx)[0] != '\0');
	}
	assert_int_equal(cxm__zone_get(ctx, NULL, &z), CXM_ERR_INVALID);
	assert_true(cxm_errmsg(ctx)[0] != '\0');
	assert_int_equal(cxm__zone_get(ctx, "UTC", NULL), CXM_ERR_INVALID);
	assert_int_equal(cxm__zone_get(ctx, longer, &z), CXM_ERR_TOO_LONG);
	assert_true(cxm_errmsg(ctx)[0] != '\0');
	assert_int_equal(cxm__zone_get(ctx, dots, &z), CXM_ERR_UNKNOWN_ID);
	/* none of them took a place: a good name still loads */
	assert_ptr_equal(zone(ctx, "Test/Plain"), zone(ctx, "Test/Plain"));
	cxm_context_free(ctx);
}

static void zone_limit(void **state)
{
	(void)state;
	use_dir(tmpdir);
	char name[32];
	for (int i = 0; i <= CXM__ZONES_MAX; i++) {
		snprintf(name, sizeof name, "Lim/Z%02d", i);
		write_zone(name, &plain);
	}
	cxm_context *ctx = ctx_new();
	const cxm__zone *first = zone(ctx, "Lim/Z00"), *z;
	for (int i = 1; i < CXM__ZONES_MAX; i++) {
		snprintf(name, sizeof name, "Lim/Z%02d", i);
		zone(ctx, name);
	}
	snprintf(name, sizeof name, "Lim/Z%02d", CXM__ZONES_MAX);
	assert_int_equal(cxm__zone_get(ctx, name, &z), CXM_ERR_LIMIT);
	assert_non_null(strstr(cxm_errmsg(ctx), name));
	/* loaded ones and UTC still come */
	assert_ptr_equal(zone(ctx, "Lim/Z00"), first);
	zone(ctx, "UTC");
	assert_int_equal(cxm__zone_get(ctx, "Test/Missing", &z), CXM_ERR_LIMIT);
	cxm_context_free(ctx);
}

/* ---- hostile files ------------------------------------------------------------------- */

static cxm_status load_bytes(const char *name, const void *p, size_t len)
{
	write_file(name, p, len);
	cxm_context *ctx = ctx_new();
	const cxm__zone *z;
	cxm_status st = cxm__zone_get(ctx, name, &z);
	if (st)
		assert_true(cxm_errmsg(ctx)[0] != '\0');
	if (!st) {
		/* whatever loaded answers sanely everywhere */
		for (int64_t t = 0; t < CXM_TIME_MAX; t += CXM_TIME_MAX / 97) {
			int64_t s, e;
			cxm__calendar_bucket(z, CXM_CALENDAR_DAY, t, &s, &e);
			assert_true(s <= t && t < e);
		}
	}
	cxm_context_free(ctx);
	return st;
}

static void expect_corrupt(const char *what, const void *p, size_t len)
{
	cxm_status st = load_bytes("Bad/zone", p, len);
	if (st != CXM_ERR_CORRUPT)
		fail_msg("%s: got %s, want corrupt", what, cxm_strerror(st));
}

static void hostile(void **state)
{
	(void)state;
	use_dir(tmpdir);
	unsigned char good[4096], b[4096];
	const int64_t at[] = {0, 1000000000, 2000000000};
	const uint8_t idx[] = {1, 2, 1};
	const int32_t off[] = {0, 3600, 7200};
	const tzspec spec = {'2', 3, 3, at, idx, off, "<+01>-1<+02>,M3.5.0,M10.5.0/3"};
	const size_t n = tzif_build(good, &spec);
	assert_int_equal(load_bytes("Bad/zone", good, n), CXM_OK);

#define MUTATE(what, edit)                                                                     \
	do {                                                                                   \
		memcpy(b, good, n);                                                            \
		size_t len = n;                                                                \
		edit;                                                                          \
		expect_corrupt(what, b, len);                                                  \
	} while (0)
	MUTATE("empty", len = 0);
	MUTATE("truncated header", len = 20);
	MUTATE("truncated second header", len = H2 + 30);
	MUTATE("truncated data", len = DATA2 + 10);
	MUTATE("no footer", len = n - 2);
	MUTATE("footer without its newline", len = n - 1);
	MUTATE("magic", b[3] = 'g');
	MUTATE("version", b[4] = '9');
	MUTATE("versions differ", b[H2 + 4] = '3');
	MUTATE("v1 counts past the end", put32(b + 32, 0xffffffffu));
	MUTATE("v2 counts past the end", put32(b + H2_TIME, 0x7fffffffu));
	MUTATE("type count past the end", put32(b + H2_TYPE, 0xffffffffu));
	MUTATE("no types", put32(b + H2_TYPE, 0));
	MUTATE("no designations", put32(b + H2 + 40, 0));
	MUTATE("isstd count", put32(b + H2 + 24, 1));
	MUTATE("leap count past the end", put32(b + H2 + 28, 1));
	/* a well-formed leap-second record (right/ zones): refused */
	MUTATE("leap seconds", {
		const size_t foot = n - strlen(spec.footer) - 2;
		memmove(b + foot + 12, b + foot, n - foot);
		memset(b + foot, 0, 12);
		put64(b + foot, 78796800); /* 1972-06-30T23:59:60 */
		put32(b + foot + 8, 1);
		put32(b + H2 + 28, 1);
		len += 12;
	});
	MUTATE("unsorted", put64(b + DATA2 + 8, -5));
	MUTATE("equal times", put64(b + DATA2 + 8, 0));
	MUTATE("type index", b[DATA2 + 24 + 1] = 3);
	MUTATE("offset over 26 h", put32(b + DATA2 + 27 + 6, 26 * 3600 + 1));
	MUTATE("offset INT32_MIN", put32(b + DATA2 + 27 + 6, 0x80000000u));
	MUTATE("dst flag", b[DATA2 + 27 + 6 + 4] = 2);
	MUTATE("designation index", b[DATA2 + 27 + 6 + 5] = 1);
	static const char *const footers[] = {
		"EST5EDT",                  /* DST without a rule */
		"EST5EDT,M3.2.0",           /* one date */
		"EST",                      /* no offset */
		"5",                        /* no name */
		"<EST5",                    /* unclosed */
		"<>5",                      /* empty */
		"<E!T>5",                   /* a bad byte */
		"EST99",                    /* 99 h */
		"EST5EDT,M13.1.0,M11.1.0",  /* month 13 */
		"EST5EDT,M3.6.0,M11.1.0",   /* week 6 */
		"EST5EDT,M3.2.7,M11.1.0",   /* weekday 7 */
		"EST5EDT,J0,J100",          /* J0 */
		"EST5EDT,366,100",          /* day 366 */
		"EST5EDT,M3.2.0/168,M11.1.0", /* 168 h */
		"EST5EDT,M3.2.0/1:60,M11.1.0",
		"EST5EDT,M3.2.0,M11.1.0,",  /* trailing */
		"EST5:99",
		"EST99999999999999999999",
		"EST-25:59:59EDT,M3.2.0,M11.1.0", /* DST at +25:59:59 + 1 h */
	};
	for (size_t i = 0; i < sizeof footers / sizeof *footers; i++) {
		unsigned char fb[4096];
		const size_t fn = tzif_build(fb, &(tzspec){'2', 3, 3, at, idx, off, footers[i]});
		cxm_status st = load_bytes("Bad/zone", fb, fn);
		if (st != CXM_ERR_CORRUPT)
			fail_msg("footer '%s': got %s, want corrupt", footers[i], cxm_strerror(st));
	}

	/* over 1 MiB, sparse */
	char path[256];
	snprintf(path, sizeof path, "%s/Bad/huge", tmpdir);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(good, 1, n, f), n);
	assert_int_equal(ftruncate(fileno(f), (1 << 20) + 1), 0);
	fclose(f);
	cxm_context *ctx = ctx_new();
	const cxm__zone *z;
	assert_int_equal(cxm__zone_get(ctx, "Bad/huge", &z), CXM_ERR_CORRUPT);
	assert_non_null(strstr(cxm_errmsg(ctx), "Bad/huge"));
	/* a FIFO must not block; a symlink loop is an I/O error */
	snprintf(path, sizeof path, "%s/Bad/fifo", tmpdir);
	assert_int_equal(mkfifo(path, 0644), 0);
	assert_int_equal(cxm__zone_get(ctx, "Bad/fifo", &z), CXM_ERR_IO);
	snprintf(path, sizeof path, "%s/Bad/loop", tmpdir);
	assert_int_equal(symlink("loop", path), 0);
	assert_int_equal(cxm__zone_get(ctx, "Bad/loop", &z), CXM_ERR_IO);
	assert_true(cxm_errmsg(ctx)[0] != '\0');
	cxm_context_free(ctx);

	/* random damage: loads or is CORRUPT, and what loads answers sanely */
	srand(7);
	int loaded = 0;
	for (int i = 0; i < 400; i++) {
		memcpy(b, good, n);
		const int flips = 1 + rand() % 4;
		for (int k = 0; k < flips; k++)
			b[rand() % n] = (unsigned char)rand();
		cxm_status st = load_bytes("Bad/zone", b, n);
		if (st && st != CXM_ERR_CORRUPT)
			fail_msg("random damage %d: %s", i, cxm_strerror(st));
		loaded += !st;
	}
	assert_true(loaded > 0);
#undef MUTATE
}

/* ---- threads ------------------------------------------------------------------------- */

#define THREADS 6
#define TNAMES 12

typedef struct targ {
	cxm_context *ctx;
	const cxm__zone *got[TNAMES];
	cxm_status st;
} targ;

static void *loader(void *p)
{
	targ *a = p;
	char name[32];
	for (int round = 0; round < 50; round++)
		for (int i = 0; i < TNAMES; i++) {
			snprintf(name, sizeof name, "Lim/Z%02d", (i * 7 + round) % TNAMES);
			const cxm__zone *z;
			cxm_status st = cxm__zone_get(a->ctx, name, &z);
			if (st) {
				a->st = st;
				return NULL;
			}
			const int j = (i * 7 + round) % TNAMES;
			if (a->got[j] && a->got[j] != z)
				a->st = CXM_ERR_EXISTS;
			a->got[j] = z;
			int64_t s, e;
			cxm__calendar_bucket(z, CXM_CALENDAR_WEEK, T0, &s, &e);
		}
	return NULL;
}

static void threads(void **state)
{
	(void)state;
	use_dir(tmpdir);
	char name[32];
	for (int i = 0; i < TNAMES; i++) {
		snprintf(name, sizeof name, "Lim/Z%02d", i);
		write_zone(name, &plain);
	}
	cxm_context *ctx = ctx_new();
	pthread_t th[THREADS];
	targ a[THREADS];
	memset(a, 0, sizeof a);
	for (int i = 0; i < THREADS; i++) {
		a[i].ctx = ctx;
		assert_int_equal(pthread_create(&th[i], NULL, loader, &a[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(a[i].st, CXM_OK);
		assert_memory_equal(a[i].got, a[0].got, sizeof a[0].got);
	}
	cxm_context_free(ctx);
}

/* ---- out of memory ----------------------------------------------------------------------- */

typedef struct hook {
	long fail_at, count, live;
} hook;

static void *h_alloc(void *opaque, size_t n)
{
	hook *h = opaque;
	if (h->fail_at && ++h->count == h->fail_at)
		return NULL;
	void *p = malloc(n);
	h->live += p != NULL;
	return p;
}

static void h_free(void *opaque, void *p)
{
	((hook *)opaque)->live--;
	free(p);
}

/* Fail the 1st, 2nd, ... allocation of a first load: NO_MEMORY each time,
 * at most the (empty) zone table kept, nothing leaked, and the next call
 * succeeds. */
static void out_of_memory(void **state)
{
	(void)state;
	use_dir(tmpdir);
	write_zone("Test/Plain", &plain);
	long k;
	for (k = 1;; k++) {
		hook h = {0};
		cxm_config cfg = CXM_CONFIG_INIT;
		cfg.allocator = (cxm_allocator){h_alloc, h_free, &h};
		cxm_context *ctx = NULL;
		assert_int_equal(cxm_context_new(&ctx, &cfg), CXM_OK);
		const long base = h.live;
		h.fail_at = k;
		h.count = 0;
		const cxm__zone *z = NULL;
		cxm_status st = cxm__zone_get(ctx, "Test/Plain", &z);
		h.fail_at = 0;
		if (st == CXM_OK) {
			cxm_context_free(ctx);
			assert_int_equal(h.live, 0);
			break;
		}
		if (st != CXM_ERR_NO_MEMORY)
			fail_msg("allocation %ld: %s", k, cxm_strerror(st));
		assert_true(cxm_errmsg(ctx)[0] != '\0');
		assert_true(h.live - base <= 1);
		assert_int_equal(cxm__zone_get(ctx, "Test/Plain", &z), CXM_OK);
		assert_int_equal(cxm__zone_offset_ms(z, 0), HOUR);
		cxm_context_free(ctx);
		assert_int_equal(h.live, 0);
	}
	assert_true(k > 3); /* the table, the file's bytes, the zone */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(real_zones),     cmocka_unit_test(tiling),
		cmocka_unit_test(synthetic),      cmocka_unit_test(utc_without_files),
		cmocka_unit_test(bad_names),      cmocka_unit_test(zone_limit),
		cmocka_unit_test(hostile),        cmocka_unit_test(threads),
		cmocka_unit_test(out_of_memory),
	};
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
