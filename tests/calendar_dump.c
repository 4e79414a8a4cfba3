/* For tests/calendar_check.py: reads lines "zone unit t_ms" (unit: day,
 * week, month, quarter or year) and prints, per line, "start end
 * offset_ms" of cxm__calendar_bucket() and cxm__zone_offset_ms(), or
 * "error <status> <message>". A context keeps CXM__ZONES_MAX zones: at
 * that limit the next one gets a fresh context. */
#include "cxm_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static cxm_context *fresh(void)
{
	cxm_context *ctx = NULL;
	cxm_config cfg = CXM_CONFIG_INIT;
	if (cxm_context_new(&ctx, &cfg)) {
		fprintf(stderr, "calendar_dump: cxm_context_new failed\n");
		return NULL;
	}
	return ctx;
}

int main(void)
{
	static const char *const units[] = {"day", "week", "month", "quarter", "year"};
	cxm_context *ctx = fresh();
	char line[512], zone[300], unit[16];
	long long t;
	if (!ctx)
		return 1;
	while (fgets(line, sizeof line, stdin)) {
		if (sscanf(line, "%299s %15s %lld", zone, unit, &t) != 3) {
			fprintf(stderr, "calendar_dump: bad line: %s", line);
			return 1;
		}
		int u = 0;
		for (int i = 0; i < 5; i++)
			if (!strcmp(unit, units[i]))
				u = i + 1;
		if (!u) {
			fprintf(stderr, "calendar_dump: bad unit %s\n", unit);
			return 1;
		}
		const cxm__zone *z;
		cxm_status st = cxm__zone_get(ctx, zone, &z);
		if (st == CXM_ERR_LIMIT) {
			cxm_context_free(ctx);
			if (!(ctx = fresh()))
				return 1;
			st = cxm__zone_get(ctx, zone, &z);
		}
		if (st) {
			printf("error %d %s\n", (int)st, cxm_errmsg(ctx));
			continue;
		}
		int64_t s, e;
		cxm__calendar_bucket(z, (cxm_calendar_unit)u, t, &s, &e);
		printf("%" PRId64 " %" PRId64 " %" PRId64 "\n", s, e, cxm__zone_offset_ms(z, t));
	}
	cxm_context_free(ctx);
	return 0;
}
