#include "testutil.h"

#include <math.h>
#include <string.h>

static void smoke_nps(void **state)
{
	(void)state;
	test_clock clk = {T0};
	cxm_context *ctx = test_ctx(&clk);
	cxm_metric_def d;
	cxm_metric_def_init(&d, sizeof d);
	assert_int_equal(cxm_metric_preset(&d, CXM_PRESET_NPS), CXM_OK);
	cxm_id nps, tp;
	assert_int_equal(cxm_metric_define(&nps, ctx, "nps", &d), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&tp, ctx, "ivr", CXM_CHANNEL_PHONE, CXM_NONE, 0), CXM_OK);
	int scores[] = {10, 9, 8, 7, 6, 0};
	for (int i = 0; i < 6; i++)
		assert_int_equal(feed1(ctx, T0 - i * 1000, tp, nps, scores[i]), CXM_OK);
	cxm_result r = query_tp(ctx, nps, tp, CXM_NOW, DAY);
	assert_int_equal(r.n, 6);
	assert_int_equal(r.top, 2);
	assert_int_equal(r.bottom, 2);
	assert_true(fabs(r.value) < 1e-9);
	cxm_context_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(smoke_nps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
