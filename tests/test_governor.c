/* The survey governor: hand-worked timelines for every rule (boundaries,
 * the order of the reasons, the time each skip ends), caps per survey and
 * across surveys, sampling (its rate within 3 sigma over 100 000
 * customers, the same decisions in two contexts with the same key),
 * erasure, the customer limit, pruning, several threads (suite stress),
 * and every bad argument. */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t KEY[16] = "governor-key-16b";

typedef struct fx {
	test_clock clk;
	cxm_context *ctx;
	cxm_id journey, ivr, agent, web;
} fx;

static void fx_make(fx *f, uint32_t max_customers, const uint8_t *key)
{
	memset(f, 0, sizeof *f);
	f->clk.now = T0;
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.max_customers = max_customers;
	if (key)
		memcpy(cfg.customer_key, key, 16);
	f->ctx = test_ctx_cfg(&f->clk, &cfg);
	const char *steps[] = {"contact", "resolution"};
	assert_int_equal(cxm_journey_define(&f->journey, f->ctx, "support", steps, 2), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&f->ivr, f->ctx, "ivr", CXM_CHANNEL_PHONE, f->journey, 0),
			 CXM_OK);
	assert_int_equal(
		cxm_touchpoint_define(&f->agent, f->ctx, "agent", CXM_CHANNEL_PHONE, f->journey, 1), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&f->web, f->ctx, "web", CXM_CHANNEL_WEB, CXM_NONE, 0), CXM_OK);
}

static cxm_id survey(fx *f, const char *name, const cxm_survey_def *d)
{
	cxm_id id = 999;
	cxm_status st = cxm_survey_define(&id, f->ctx, name, d);
	if (st)
		fail_msg("survey_define: %s: %s", cxm_strerror(st), cxm_errmsg(f->ctx));
	return id;
}

/* The answer for customer `who` at touchpoint tp and time t; *until too. */
static cxm_ask ask(fx *f, cxm_id s, const char *who, cxm_id tp, int64_t t, int64_t *until)
{
	cxm_ask a = (cxm_ask)99;
	int64_t u = -99;
	cxm_status st = cxm_survey_should_ask(&a, &u, f->ctx, s, who, strlen(who), tp, t);
	if (st)
		fail_msg("should_ask: %s: %s", cxm_strerror(st), cxm_errmsg(f->ctx));
	if (until)
		*until = u;
	else if (a == CXM_ASK)
		assert_int_equal(u, -1);
	return a;
}

static void record(fx *f, cxm_id s, const char *who, cxm_survey_event what, int64_t t)
{
	cxm_status st = cxm_survey_record(f->ctx, s, who, strlen(who), what, t);
	if (st)
		fail_msg("record: %s: %s", cxm_strerror(st), cxm_errmsg(f->ctx));
}

#define WEEK (7 * DAY)

/* A post-call survey (agent calls only; 7 days after an invitation, 30
 * after a response) and an e-mail survey without rules of its own, under
 * rules across surveys of 1 day after any invitation and 7 after any
 * response. */
static void test_cool_downs(void **state)
{
	(void)state;
	fx f;
	fx_make(&f, 0, NULL);
	cxm_survey_def d = CXM_SURVEY_DEF_INIT;
	d.min_since_invite_ms = WEEK;
	d.min_since_response_ms = 30 * DAY;
	d.scope = CXM_SCOPE_TOUCHPOINT;
	d.id = f.agent;
	cxm_id post = survey(&f, "post-call", &d);
	cxm_survey_def none = CXM_SURVEY_DEF_INIT;
	cxm_id mail = survey(&f, "e-mail", &none);
	cxm_governor_rules g = CXM_GOVERNOR_RULES_INIT;
	g.min_since_invite_ms = DAY;
	g.min_since_response_ms = WEEK;
	assert_int_equal(cxm_governor_set(f.ctx, &g), CXM_OK);

	int64_t u;
	assert_int_equal(ask(&f, post, "alice", f.agent, T0, NULL), CXM_ASK);
	assert_int_equal(ask(&f, post, "alice", f.ivr, T0, &u), CXM_SKIP_NOT_ELIGIBLE);
	assert_int_equal(u, -1);
	record(&f, post, "alice", CXM_SURVEY_INVITED, T0 + 500); /* kept as T0's second */

	/* the survey's 7 days first (its own rules before those across surveys) */
	assert_int_equal(ask(&f, post, "alice", f.agent, T0 + HOUR, &u), CXM_SKIP_SURVEY_INVITED);
	assert_int_equal(u, T0 + WEEK);
	assert_int_equal(ask(&f, post, "alice", f.agent, T0 + WEEK - 1, &u), CXM_SKIP_SURVEY_INVITED);
	assert_int_equal(ask(&f, post, "alice", f.agent, T0 + WEEK, NULL), CXM_ASK); /* inclusive */
	/* the other survey meets the 1 day across surveys */
	assert_int_equal(ask(&f, mail, "alice", f.web, T0 + HOUR, &u), CXM_SKIP_INVITED);
	assert_int_equal(u, T0 + DAY);
	assert_int_equal(ask(&f, mail, "alice", f.web, T0 + DAY - 1000, NULL), CXM_SKIP_INVITED);
	assert_int_equal(ask(&f, mail, "alice", f.web, T0 + DAY, NULL), CXM_ASK);
	/* another customer is untouched */
	assert_int_equal(ask(&f, post, "bob", f.agent, T0 + HOUR, NULL), CXM_ASK);

	/* alice answers 2 hours later: 30 days for post-call, 7 for any */
	record(&f, post, "alice", CXM_SURVEY_RESPONDED, T0 + 2 * HOUR);
	assert_int_equal(ask(&f, post, "alice", f.agent, T0 + WEEK, &u), CXM_SKIP_SURVEY_RESPONDED);
	assert_int_equal(u, T0 + 2 * HOUR + 30 * DAY);
	assert_int_equal(ask(&f, mail, "alice", f.web, T0 + 3 * DAY, &u), CXM_SKIP_RESPONDED);
	assert_int_equal(u, T0 + 2 * HOUR + WEEK);
	assert_int_equal(ask(&f, mail, "alice", f.web, T0 + 2 * HOUR + WEEK, NULL), CXM_ASK);
	assert_int_equal(ask(&f, post, "alice", f.agent, T0 + 2 * HOUR + 30 * DAY, NULL), CXM_ASK);

	/* an interval of 1.5 s is 2 whole seconds */
	cxm_survey_def quick = CXM_SURVEY_DEF_INIT;
	quick.min_since_invite_ms = 1500;
	cxm_id q = survey(&f, "quick", &quick);
	record(&f, q, "carol", CXM_SURVEY_INVITED, T0 + 999);
	assert_int_equal(ask(&f, q, "carol", f.web, T0 + 1999, &u), CXM_SKIP_SURVEY_INVITED);
	assert_int_equal(u, T0 + 2000);
	/* the 1 day across surveys says no too, later: it is the survey's answer first */
	assert_int_equal(ask(&f, q, "carol", f.web, T0 + 2000, &u), CXM_SKIP_INVITED);
	assert_int_equal(u, T0 + DAY);
	cxm_context_free(f.ctx);
}

/* At most 2 invitations of a survey in 10 days; at most 3 of all surveys
 * in 30 days. */
static void test_caps(void **state)
{
	(void)state;
	fx f;
	fx_make(&f, 0, NULL);
	cxm_survey_def d = CXM_SURVEY_DEF_INIT;
	d.max_invites = 2;
	d.invites_window_ms = 10 * DAY;
	cxm_id pulse = survey(&f, "pulse", &d);
	cxm_survey_def none = CXM_SURVEY_DEF_INIT;
	cxm_id other = survey(&f, "other", &none);
	/* across surveys: 3 in 30 days (set first: history older than every
	 * rule's reach at the time it is recorded is dropped) */
	cxm_governor_rules g = CXM_GOVERNOR_RULES_INIT;
	g.max_invites = 3;
	g.invites_window_ms = 30 * DAY;
	assert_int_equal(cxm_governor_set(f.ctx, &g), CXM_OK);
	int64_t u;
	record(&f, pulse, "dan", CXM_SURVEY_INVITED, T0);
	assert_int_equal(ask(&f, pulse, "dan", f.web, T0 + DAY, NULL), CXM_ASK);
	record(&f, pulse, "dan", CXM_SURVEY_INVITED, T0 + DAY);
	assert_int_equal(ask(&f, pulse, "dan", f.web, T0 + 2 * DAY, &u), CXM_SKIP_SURVEY_CAP);
	assert_int_equal(u, T0 + 10 * DAY); /* when T0's leaves (now - 10 d, now] */
	assert_int_equal(ask(&f, pulse, "dan", f.web, T0 + 10 * DAY - 1000, NULL), CXM_SKIP_SURVEY_CAP);
	assert_int_equal(ask(&f, pulse, "dan", f.web, T0 + 10 * DAY, NULL), CXM_ASK);
	/* responses count against no cap; another survey's invitation counts
	 * against the cap across surveys only: dan has T0, T0 + 1 d (pulse)
	 * and T0 + 10 d (other) in 30 days */
	record(&f, pulse, "dan", CXM_SURVEY_RESPONDED, T0 + 10 * DAY);
	record(&f, other, "dan", CXM_SURVEY_INVITED, T0 + 10 * DAY);
	assert_int_equal(ask(&f, pulse, "dan", f.web, T0 + 10 * DAY, &u), CXM_SKIP_CAP);
	assert_int_equal(u, T0 + 30 * DAY);
	assert_int_equal(ask(&f, other, "dan", f.web, T0 + 11 * DAY, &u), CXM_SKIP_CAP);
	assert_int_equal(u, T0 + 30 * DAY);
	assert_int_equal(ask(&f, other, "dan", f.web, T0 + 30 * DAY - 1000, NULL), CXM_SKIP_CAP);
	assert_int_equal(ask(&f, other, "dan", f.web, T0 + 30 * DAY, NULL), CXM_ASK);
	/* rules back to none */
	g = (cxm_governor_rules)CXM_GOVERNOR_RULES_INIT;
	assert_int_equal(cxm_governor_set(f.ctx, &g), CXM_OK);
	assert_int_equal(ask(&f, other, "dan", f.web, T0 + 11 * DAY, NULL), CXM_ASK);
	cxm_context_free(f.ctx);
}

/* Scopes: a step, a journey, a channel. */
static void test_eligibility(void **state)
{
	(void)state;
	fx f;
	fx_make(&f, 0, NULL);
	cxm_survey_def d = CXM_SURVEY_DEF_INIT;
	d.scope = CXM_SCOPE_STEP;
	d.id = f.journey;
	d.step = 0;
	cxm_id s0 = survey(&f, "step 0", &d);
	d.scope = CXM_SCOPE_JOURNEY;
	d.step = 0;
	cxm_id j = survey(&f, "journey", &d);
	d.scope = CXM_SCOPE_CHANNEL;
	d.id = CXM_CHANNEL_WEB;
	cxm_id web = survey(&f, "web", &d);
	const struct {
		cxm_id s, tp;
		cxm_ask want;
	} c[] = {
		{s0, f.ivr, CXM_ASK},	  {s0, f.agent, CXM_SKIP_NOT_ELIGIBLE}, {s0, f.web, CXM_SKIP_NOT_ELIGIBLE},
		{j, f.ivr, CXM_ASK},	  {j, f.agent, CXM_ASK},		 {j, f.web, CXM_SKIP_NOT_ELIGIBLE},
		{web, f.web, CXM_ASK}, {web, f.ivr, CXM_SKIP_NOT_ELIGIBLE},
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
		if (ask(&f, c[i].s, "erin", c[i].tp, T0, NULL) != c[i].want)
			fail_msg("case %zu", i);
	cxm_context_free(f.ctx);
}

/* A sample rate of 0.3 over 100 000 customers: within 3 sigma, the same
 * customers in a second context with the same key and survey name (its
 * id differs), others under another key. */
static void test_sampling(void **state)
{
	(void)state;
	fx a, b, c;
	fx_make(&a, 0, KEY);
	fx_make(&b, 0, KEY);
	uint8_t other[16];
	memcpy(other, KEY, 16);
	other[0] ^= 1;
	fx_make(&c, 0, other);
	cxm_survey_def d = CXM_SURVEY_DEF_INIT;
	d.sample_rate = 0.3;
	cxm_id sa = survey(&a, "nps relationship", &d);
	cxm_survey_def none = CXM_SURVEY_DEF_INIT;
	survey(&b, "first", &none);
	cxm_id sb = survey(&b, "nps relationship", &d);
	cxm_id sc = survey(&c, "nps relationship", &d);
	assert_int_not_equal(sa, sb);
	const int n = 100000;
	int asked = 0, same = 0, same_other = 0;
	char who[32];
	for (int i = 0; i < n; i++) {
		snprintf(who, sizeof who, "customer-%d", i);
		cxm_ask x = ask(&a, sa, who, a.web, T0, NULL), y = ask(&b, sb, who, b.web, T0, NULL);
		cxm_ask z = ask(&c, sc, who, c.web, T0, NULL);
		assert_true(x == CXM_ASK || x == CXM_SKIP_SAMPLED_OUT);
		asked += x == CXM_ASK;
		same += x == y;
		same_other += x == z;
	}
	const double sigma = sqrt(n * 0.3 * 0.7);
	print_message("sampling: %d of %d asked at 0.3 (3 sigma = %.0f); other key agrees on %d\n", asked,
		      n, 3 * sigma, same_other);
	assert_true(fabs(asked - 0.3 * n) <= 3 * sigma);
	assert_int_equal(same, n);
	/* under another key the draws are independent: agreement near
	 * 0.3^2 + 0.7^2 = 58 %, far from 100 % */
	assert_true(same_other < n * 0.62 && same_other > n * 0.54);
	cxm_context_free(a.ctx);
	cxm_context_free(b.ctx);
	cxm_context_free(c.ctx);
}

/* Forgetting erases the history; the limit of customers kept; what no
 * rule reaches is dropped, so memory stays flat. */
static void test_forget_limit_prune(void **state)
{
	(void)state;
	fx f;
	fx_make(&f, 2, NULL);
	cxm_survey_def d = CXM_SURVEY_DEF_INIT;
	d.min_since_invite_ms = 90 * DAY;
	cxm_id s = survey(&f, "quarterly", &d);
	record(&f, s, "frank", CXM_SURVEY_INVITED, T0);
	record(&f, s, "gina", CXM_SURVEY_INVITED, T0);
	assert_int_equal(cxm_survey_record(f.ctx, s, "hal", 3, CXM_SURVEY_INVITED, T0), CXM_ERR_LIMIT);
	assert_int_equal(ask(&f, s, "hal", f.web, T0 + 1000, NULL), CXM_ASK); /* nothing recorded */
	assert_int_equal(ask(&f, s, "frank", f.web, T0 + DAY, NULL), CXM_SKIP_SURVEY_INVITED);
	/* frank was never fed: the governor alone knows him, and forgets him */
	assert_int_equal(cxm_customer_forget(f.ctx, "frank", 5), CXM_OK);
	assert_int_equal(ask(&f, s, "frank", f.web, T0 + DAY, NULL), CXM_ASK);
	assert_int_equal(cxm_customer_forget(f.ctx, "frank", 5), CXM_ERR_UNKNOWN_ID);
	record(&f, s, "hal", CXM_SURVEY_INVITED, T0 + DAY); /* room again */

	/* gina, fed and recorded: forgotten from both */
	cxm_metric_def md = {.size = sizeof md};
	cxm_id vol;
	assert_int_equal(cxm_metric_preset(&md, CXM_PRESET_VOLUME), CXM_OK);
	assert_int_equal(cxm_metric_define(&vol, f.ctx, "calls", &md), CXM_OK);
	cxm_interaction ix = CXM_INTERACTION_INIT;
	ix.time_ms = T0;
	ix.touchpoint = f.web;
	ix.customer = "gina";
	ix.customer_len = 4;
	assert_int_equal(cxm_feed(f.ctx, &ix), CXM_OK);
	assert_int_equal(cxm_customer_forget(f.ctx, "gina", 4), CXM_OK);
	int64_t seen;
	assert_int_equal(cxm_customer_last_seen(&seen, f.ctx, "gina", 4), CXM_ERR_UNKNOWN_ID);
	assert_int_equal(ask(&f, s, "gina", f.web, T0 + DAY, NULL), CXM_ASK);

	/* 3000 customers, every other one forgotten in a scrambled order: the
	 * others are all still found (entries moved back over the gaps) */
	fx big;
	fx_make(&big, 0, NULL);
	cxm_id bs = survey(&big, "quarterly", &d);
	char who[32];
	for (int i = 0; i < 3000; i++) {
		snprintf(who, sizeof who, "m%d", i);
		record(&big, bs, who, CXM_SURVEY_INVITED, T0);
	}
	for (int k = 0; k < 1500; k++) {
		snprintf(who, sizeof who, "m%d", (k * 7919) % 1500 * 2);
		assert_int_equal(cxm_customer_forget(big.ctx, who, strlen(who)), CXM_OK);
	}
	for (int i = 0; i < 3000; i++) {
		snprintf(who, sizeof who, "m%d", i);
		assert_int_equal(ask(&big, bs, who, big.web, T0 + DAY, NULL),
				 i % 2 ? CXM_SKIP_SURVEY_INVITED : CXM_ASK);
	}
	cxm_context_free(big.ctx);

	/* an invitation a day for 3 years: only the last 90 days are kept */
	cxm_stats st = {.size = sizeof st};
	uint64_t mem[2];
	for (int i = 0; i < 3 * 365; i++) {
		record(&f, s, "hal", CXM_SURVEY_INVITED, T0 + (int64_t)i * DAY);
		if (i == 200 || i == 3 * 365 - 1) {
			assert_int_equal(cxm_stats_get(&st, f.ctx), CXM_OK);
			mem[i == 200 ? 0 : 1] = st.memory_bytes;
		}
	}
	assert_int_equal(mem[0], mem[1]);
	cxm_context_free(f.ctx);
}

/* ---- snapshots and merge ------------------------------------------------------ */

/* A load brings back the surveys, the rules across surveys and the
 * history (inline and in arrays); answers are the same after it. */
static void test_snapshot(void **state)
{
	(void)state;
	fx a;
	fx_make(&a, 0, KEY);
	cxm_survey_def d = CXM_SURVEY_DEF_INIT;
	d.min_since_invite_ms = WEEK;
	d.max_invites = 3;
	d.invites_window_ms = 30 * DAY;
	d.sample_rate = 0.5;
	d.scope = CXM_SCOPE_JOURNEY;
	d.id = a.journey;
	cxm_id post = survey(&a, "post-call", &d);
	cxm_survey_def none = CXM_SURVEY_DEF_INIT;
	cxm_id mail = survey(&a, "e-mail", &none);
	cxm_governor_rules g = CXM_GOVERNOR_RULES_INIT;
	g.min_since_response_ms = 14 * DAY;
	assert_int_equal(cxm_governor_set(a.ctx, &g), CXM_OK);
	char who[32];
	for (int i = 0; i < 200; i++) {
		snprintf(who, sizeof who, "k%d", i);
		for (int r = 0; r <= i % 4; r++) /* 1 to 4 records: inline and arrays */
			record(&a, r % 2 ? mail : post, who, r == 3 ? CXM_SURVEY_RESPONDED : CXM_SURVEY_INVITED,
			       T0 + (int64_t)r * DAY);
	}
	membuf mb = {0};
	assert_int_equal(cxm_snapshot_write(a.ctx, membuf_write, &mb), CXM_OK);
	fx b;
	memset(&b, 0, sizeof b);
	b.clk.now = T0;
	cxm_config cfg = CXM_CONFIG_INIT;
	memcpy(cfg.customer_key, KEY, 16);
	b.ctx = test_ctx_cfg(&b.clk, &cfg);
	assert_int_equal(cxm_snapshot_load_mem(b.ctx, mb.p, mb.len), CXM_OK);
	b.journey = a.journey;
	b.ivr = a.ivr;
	b.agent = a.agent;
	b.web = a.web;
	const int64_t at[] = {T0 + DAY, T0 + 5 * DAY, T0 + 10 * DAY, T0 + 40 * DAY};
	int differ = 0, asked = 0;
	for (int i = 0; i < 200; i++) {
		snprintf(who, sizeof who, "k%d", i);
		for (size_t t = 0; t < sizeof at / sizeof at[0]; t++)
			for (cxm_id tp = 0; tp < 3; tp++)
				for (cxm_id s = 0; s < 2; s++) {
					int64_t ua, ub;
					cxm_ask x = ask(&a, s, who, tp, at[t], &ua), y = ask(&b, s, who, tp, at[t], &ub);
					differ += x != y || ua != ub;
					asked += x == CXM_ASK;
				}
	}
	assert_int_equal(differ, 0);
	assert_true(asked > 0);
	cxm_id back;
	assert_int_equal(cxm_survey_find(&back, b.ctx, "e-mail"), CXM_OK);
	assert_int_equal(back, mail);
	/* a record in the loaded context prunes and answers as in the saved */
	record(&b, post, "k3", CXM_SURVEY_INVITED, T0 + 60 * DAY);
	record(&a, post, "k3", CXM_SURVEY_INVITED, T0 + 60 * DAY);
	assert_int_equal(ask(&b, post, "k3", b.agent, T0 + 61 * DAY, NULL),
			 ask(&a, post, "k3", a.agent, T0 + 61 * DAY, NULL));

	/* a merge adds the history of the surveys the target has (by name),
	 * each record once: merging the same file twice changes nothing */
	fx c;
	fx_make(&c, 0, KEY);
	cxm_id c_mail = survey(&c, "e-mail", &none); /* id 0 here, 1 in the file */
	record(&c, c_mail, "k1", CXM_SURVEY_INVITED, T0 + 20 * DAY);
	assert_int_equal(cxm_snapshot_merge_mem(c.ctx, mb.p, mb.len), CXM_OK);
	cxm_stats s1 = {.size = sizeof s1}, s2 = {.size = sizeof s2};
	assert_int_equal(cxm_stats_get(&s1, c.ctx), CXM_OK);
	assert_int_equal(cxm_snapshot_merge_mem(c.ctx, mb.p, mb.len), CXM_OK);
	assert_int_equal(cxm_stats_get(&s2, c.ctx), CXM_OK);
	assert_int_equal(s1.memory_bytes, s2.memory_bytes);
	int64_t u;
	/* k1 was invited to e-mail at T0 + 1 d in the file: c's rules are
	 * none, so ask; with a 30-day cool-down the file's record counts */
	assert_int_equal(ask(&c, c_mail, "k1", c.web, T0 + 2 * DAY, NULL), CXM_ASK);
	cxm_governor_rules cg = CXM_GOVERNOR_RULES_INIT;
	cg.max_invites = 2;
	cg.invites_window_ms = 30 * DAY;
	assert_int_equal(cxm_governor_set(c.ctx, &cg), CXM_OK);
	assert_int_equal(ask(&c, c_mail, "k1", c.web, T0 + 21 * DAY, &u), CXM_SKIP_CAP);
	assert_int_equal(u, T0 + 31 * DAY); /* T0 + 1 d (the file's) and T0 + 20 d (c's) */
	/* k2 had post-call and e-mail in the file: only e-mail came over */
	assert_int_equal(ask(&c, c_mail, "k2", c.web, T0 + 2 * DAY, NULL), CXM_ASK);
	assert_int_equal(cxm_customer_forget(c.ctx, "k0", 2), CXM_ERR_UNKNOWN_ID); /* post-call only */
	assert_int_equal(cxm_customer_forget(c.ctx, "k1", 2), CXM_OK);
	cxm_context_free(c.ctx);

	/* a merge into a context without surveys takes no history */
	fx e;
	fx_make(&e, 0, KEY);
	assert_int_equal(cxm_snapshot_merge_mem(e.ctx, mb.p, mb.len), CXM_OK);
	assert_int_equal(cxm_customer_forget(e.ctx, "k1", 2), CXM_ERR_UNKNOWN_ID);
	cxm_context_free(e.ctx);
	free(mb.p);
	cxm_context_free(a.ctx);
	cxm_context_free(b.ctx);
}

/* Every allocation of a load and a merge failing in turn: NO_MEMORY, and
 * the target as it was (its memory, its blocks, its answers). */
typedef struct hook {
	long count, fail_at, live;
} hook;

static void *h_alloc(void *o, size_t n)
{
	hook *h = o;
	if (++h->count == h->fail_at)
		return NULL;
	void *p = malloc(n);
	if (p)
		h->live++;
	return p;
}

static void h_free(void *o, void *p)
{
	((hook *)o)->live--;
	free(p);
}

static void test_snapshot_oom(void **state)
{
	(void)state;
	fx a;
	fx_make(&a, 0, KEY);
	cxm_survey_def none = CXM_SURVEY_DEF_INIT;
	cxm_id mail = survey(&a, "e-mail", &none);
	char who[32];
	for (int i = 0; i < 300; i++) {
		snprintf(who, sizeof who, "k%d", i);
		for (int r = 0; r <= i % 4; r++)
			record(&a, mail, who, CXM_SURVEY_INVITED, T0 + (int64_t)r * DAY + i);
	}
	membuf mb = {0};
	assert_int_equal(cxm_snapshot_write(a.ctx, membuf_write, &mb), CXM_OK);
	hook h = {0};
	for (int merge = 0; merge < 2; merge++) {
		fx c;
		memset(&c, 0, sizeof c);
		c.clk.now = T0;
		cxm_config cfg = CXM_CONFIG_INIT;
		memcpy(cfg.customer_key, KEY, 16);
		cfg.allocator = (cxm_allocator){h_alloc, h_free, &h};
		c.ctx = test_ctx_cfg(&c.clk, &cfg);
		if (merge) {
			const char *steps[] = {"contact", "resolution"};
			cxm_id id;
			assert_int_equal(cxm_journey_define(&id, c.ctx, "support", steps, 2), CXM_OK);
			assert_int_equal(cxm_touchpoint_define(&id, c.ctx, "ivr", CXM_CHANNEL_PHONE, 0, 0), CXM_OK);
			assert_int_equal(cxm_touchpoint_define(&id, c.ctx, "agent", CXM_CHANNEL_PHONE, 0, 1), CXM_OK);
			assert_int_equal(cxm_touchpoint_define(&id, c.ctx, "web", CXM_CHANNEL_WEB, CXM_NONE, 0),
					 CXM_OK);
			c.web = id;
			survey(&c, "e-mail", &none);
			for (int i = 0; i < 50; i++) {
				snprintf(who, sizeof who, "k%d", i * 7);
				record(&c, 0, who, CXM_SURVEY_RESPONDED, T0 + 3 * DAY);
			}
		}
		cxm_stats s0 = {.size = sizeof s0}, s = {.size = sizeof s};
		assert_int_equal(cxm_stats_get(&s0, c.ctx), CXM_OK);
		long live = h.live, n;
		for (n = 1;; n++) {
			h.count = 0;
			h.fail_at = n;
			cxm_status st = merge ? cxm_snapshot_merge_mem(c.ctx, mb.p, mb.len)
					      : cxm_snapshot_load_mem(c.ctx, mb.p, mb.len);
			h.fail_at = 0;
			if (st == CXM_OK)
				break;
			assert_int_equal(st, CXM_ERR_NO_MEMORY);
			if (h.live != live)
				fail_msg("%s, allocation %ld failed: %ld blocks left", merge ? "merge" : "load", n, h.live - live);
			assert_int_equal(cxm_stats_get(&s, c.ctx), CXM_OK);
			assert_int_equal(s.memory_bytes, s0.memory_bytes);
			if (merge) /* k7 answered at T0 + 3 d, and nothing else came */
				assert_int_equal(cxm_customer_forget(c.ctx, "k1", 2), CXM_ERR_UNKNOWN_ID);
		}
		assert_true(n > 3);
		if (merge) {
			c.web = 2;
			assert_int_equal(cxm_customer_forget(c.ctx, "k1", 2), CXM_OK);
		}
		cxm_context_free(c.ctx);
	}
	free(mb.p);
	cxm_context_free(a.ctx);
}

/* ---- threads: answers and records for shared customers --------------------- */

typedef struct targ {
	fx *f;
	cxm_id s;
	int id;
} targ;

static void *worker(void *p)
{
	targ *a = p;
	char who[32];
	for (int i = 0; i < 20000; i++) {
		snprintf(who, sizeof who, "c%d", (i * 7 + a->id) % 500);
		int64_t t = T0 + (int64_t)i * 1000;
		cxm_ask x;
		if (cxm_survey_should_ask(&x, NULL, a->f->ctx, a->s, who, strlen(who), a->f->web, t))
			fail_msg("should_ask");
		if (x == CXM_ASK &&
		    cxm_survey_record(a->f->ctx, a->s, who, strlen(who), CXM_SURVEY_INVITED, t))
			fail_msg("record");
		if (i % 1000 == 0)
			cxm_customer_forget(a->f->ctx, who, strlen(who));
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	fx f;
	fx_make(&f, 0, NULL);
	cxm_survey_def d = CXM_SURVEY_DEF_INIT;
	d.min_since_invite_ms = 60000;
	d.max_invites = 3;
	d.invites_window_ms = HOUR;
	cxm_id s = survey(&f, "threads", &d);
	pthread_t th[4];
	targ a[4];
	for (int i = 0; i < 4; i++) {
		a[i] = (targ){&f, s, i};
		assert_int_equal(pthread_create(&th[i], NULL, worker, &a[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	cxm_context_free(f.ctx);
}

/* ---- bad arguments ------------------------------------------------------------ */

static void test_bad_arguments(void **state)
{
	(void)state;
	fx f;
	fx_make(&f, 0, NULL);
	cxm_context *c = f.ctx;
	cxm_survey_def d;
	assert_int_equal(cxm_survey_def_init(NULL, sizeof d), CXM_ERR_INVALID);
	assert_int_equal(cxm_survey_def_init(&d, 8), CXM_ERR_VERSION);
	assert_int_equal(cxm_survey_def_init(&d, sizeof d), CXM_OK);
	cxm_id out = 77;
	assert_int_equal(cxm_survey_define(NULL, c, "s", &d), CXM_ERR_INVALID);
	assert_int_equal(cxm_survey_define(&out, NULL, "s", &d), CXM_ERR_INVALID);
	assert_int_equal(cxm_survey_define(&out, c, "s", NULL), CXM_ERR_INVALID);
	assert_int_equal(cxm_survey_define(&out, c, NULL, &d), CXM_ERR_INVALID);
	assert_int_equal(cxm_survey_define(&out, c, "", &d), CXM_ERR_ENCODING);
	assert_int_equal(cxm_survey_define(&out, c, "a\nb", &d), CXM_ERR_ENCODING);
	size_t nb = 0;
#define BAD(code, stmt)                                                                            \
	do {                                                                                       \
		cxm_survey_def b = d;                                                              \
		stmt;                                                                              \
		cxm_status st_ = cxm_survey_define(&out, c, "bad", &b);                            \
		if (st_ != (code))                                                                 \
			fail_msg("%s: %s, expected %s", #stmt, cxm_strerror(st_), cxm_strerror(code)); \
		assert_int_equal(out, 77);                                                         \
		nb++;                                                                              \
	} while (0)
	BAD(CXM_ERR_VERSION, b.size = 16);
	BAD(CXM_ERR_UNSUPPORTED, b.reserved[1] = 1);
	BAD(CXM_ERR_UNSUPPORTED, b.reserved0 = 1);
	BAD(CXM_ERR_OUT_OF_RANGE, b.min_since_invite_ms = -1);
	BAD(CXM_ERR_OUT_OF_RANGE, b.min_since_response_ms = INT64_MAX);
	BAD(CXM_ERR_OUT_OF_RANGE, (b.max_invites = 33, b.invites_window_ms = DAY));
	BAD(CXM_ERR_OUT_OF_RANGE, b.max_invites = 2);
	BAD(CXM_ERR_OUT_OF_RANGE, b.invites_window_ms = DAY);
	BAD(CXM_ERR_OUT_OF_RANGE, (b.max_invites = 2, b.invites_window_ms = -DAY));
	BAD(CXM_ERR_NOT_FINITE, b.sample_rate = NAN);
	BAD(CXM_ERR_OUT_OF_RANGE, b.sample_rate = 1.5);
	BAD(CXM_ERR_OUT_OF_RANGE, b.sample_rate = -0.1);
	BAD(CXM_ERR_INVALID, b.scope = (cxm_scope)7);
	BAD(CXM_ERR_UNKNOWN_ID, (b.scope = CXM_SCOPE_TOUCHPOINT, b.id = 9));
	BAD(CXM_ERR_UNKNOWN_ID, (b.scope = CXM_SCOPE_STEP, b.id = f.journey, b.step = 2));
	BAD(CXM_ERR_UNKNOWN_ID, (b.scope = CXM_SCOPE_JOURNEY, b.id = 4));
	BAD(CXM_ERR_UNKNOWN_ID, (b.scope = CXM_SCOPE_CHANNEL, b.id = 0));
	assert_int_equal(nb, 17);
#undef BAD
	cxm_id s = survey(&f, "ok", &d);
	assert_int_equal(cxm_survey_define(&out, c, "ok", &d), CXM_ERR_EXISTS);
	assert_int_equal(out, 77);

	cxm_governor_rules g;
	assert_int_equal(cxm_governor_rules_init(NULL, sizeof g), CXM_ERR_INVALID);
	assert_int_equal(cxm_governor_rules_init(&g, 8), CXM_ERR_VERSION);
	assert_int_equal(cxm_governor_rules_init(&g, sizeof g), CXM_OK);
	assert_int_equal(cxm_governor_set(NULL, &g), CXM_ERR_INVALID);
	assert_int_equal(cxm_governor_set(c, NULL), CXM_ERR_INVALID);
	g.reserved[0] = 1;
	assert_int_equal(cxm_governor_set(c, &g), CXM_ERR_UNSUPPORTED);
	g.reserved[0] = 0;
	g.max_invites = 1;
	assert_int_equal(cxm_governor_set(c, &g), CXM_ERR_OUT_OF_RANGE);
	g.max_invites = 0;
	g.size = 8;
	assert_int_equal(cxm_governor_set(c, &g), CXM_ERR_VERSION);

	cxm_ask a = (cxm_ask)42;
	int64_t u = 42;
	assert_int_equal(cxm_survey_should_ask(NULL, &u, c, s, "x", 1, f.web, T0), CXM_ERR_INVALID);
	assert_int_equal(cxm_survey_should_ask(&a, &u, NULL, s, "x", 1, f.web, T0), CXM_ERR_INVALID);
	assert_int_equal(cxm_survey_should_ask(&a, &u, c, s, NULL, 1, f.web, T0), CXM_ERR_INVALID);
	assert_int_equal(cxm_survey_should_ask(&a, &u, c, s, "x", 0, f.web, T0), CXM_ERR_INVALID);
	char longid[300];
	memset(longid, 'y', sizeof longid);
	assert_int_equal(cxm_survey_should_ask(&a, &u, c, s, longid, sizeof longid, f.web, T0),
			 CXM_ERR_TOO_LONG);
	assert_int_equal(cxm_survey_should_ask(&a, &u, c, 5, "x", 1, f.web, T0), CXM_ERR_UNKNOWN_ID);
	assert_int_equal(cxm_survey_should_ask(&a, &u, c, s, "x", 1, 40, T0), CXM_ERR_UNKNOWN_ID);
	assert_int_equal(cxm_survey_should_ask(&a, &u, c, s, "x", 1, f.web, -1), CXM_ERR_OUT_OF_RANGE);
	assert_int_equal(cxm_survey_should_ask(&a, &u, c, s, "x", 1, f.web, CXM_TIME_MAX + 1),
			 CXM_ERR_OUT_OF_RANGE);
	assert_int_equal(a, 42);
	assert_int_equal(u, 42);

	assert_int_equal(cxm_survey_record(NULL, s, "x", 1, CXM_SURVEY_INVITED, T0), CXM_ERR_INVALID);
	assert_int_equal(cxm_survey_record(c, s, NULL, 1, CXM_SURVEY_INVITED, T0), CXM_ERR_INVALID);
	assert_int_equal(cxm_survey_record(c, s, "x", 0, CXM_SURVEY_INVITED, T0), CXM_ERR_INVALID);
	assert_int_equal(cxm_survey_record(c, s, longid, sizeof longid, CXM_SURVEY_INVITED, T0),
			 CXM_ERR_TOO_LONG);
	assert_int_equal(cxm_survey_record(c, 9, "x", 1, CXM_SURVEY_INVITED, T0), CXM_ERR_UNKNOWN_ID);
	assert_int_equal(cxm_survey_record(c, s, "x", 1, (cxm_survey_event)3, T0), CXM_ERR_INVALID);
	assert_int_equal(cxm_survey_record(c, s, "x", 1, CXM_SURVEY_INVITED, -5), CXM_ERR_OUT_OF_RANGE);
	/* none of them recorded anything */
	assert_int_equal(cxm_customer_forget(c, "x", 1), CXM_ERR_UNKNOWN_ID);

	/* look-ups by name and id */
	cxm_id found = 77;
	const char *nm = NULL;
	assert_int_equal(cxm_survey_find(&found, c, "ok"), CXM_OK);
	assert_int_equal(found, s);
	assert_int_equal(cxm_survey_name(&nm, c, s), CXM_OK);
	assert_string_equal(nm, "ok");
	found = 77;
	assert_int_equal(cxm_survey_find(&found, c, "nope"), CXM_ERR_UNKNOWN_ID);
	assert_int_equal(cxm_survey_find(NULL, c, "ok"), CXM_ERR_INVALID);
	assert_int_equal(cxm_survey_find(&found, NULL, "ok"), CXM_ERR_INVALID);
	assert_int_equal(cxm_survey_find(&found, c, NULL), CXM_ERR_INVALID);
	assert_int_equal(found, 77);
	nm = NULL;
	assert_int_equal(cxm_survey_name(&nm, c, 9), CXM_ERR_UNKNOWN_ID);
	assert_int_equal(cxm_survey_name(NULL, c, s), CXM_ERR_INVALID);
	assert_int_equal(cxm_survey_name(&nm, NULL, s), CXM_ERR_INVALID);
	assert_null(nm);

	/* a context without surveys knows none */
	test_clock clk = {T0};
	cxm_context *e = test_ctx(&clk);
	cxm_id tp;
	assert_int_equal(cxm_touchpoint_define(&tp, e, "t", CXM_CHANNEL_WEB, CXM_NONE, 0), CXM_OK);
	assert_int_equal(cxm_survey_should_ask(&a, NULL, e, 0, "x", 1, tp, T0), CXM_ERR_UNKNOWN_ID);
	assert_int_equal(cxm_survey_find(&found, e, "ok"), CXM_ERR_UNKNOWN_ID);
	assert_int_equal(cxm_survey_name(&nm, e, 0), CXM_ERR_UNKNOWN_ID);
	assert_int_equal(cxm_survey_record(e, 0, "x", 1, CXM_SURVEY_INVITED, T0), CXM_ERR_UNKNOWN_ID);
	cxm_context_free(e);

	/* the limit of surveys */
	char name[32];
	for (int i = 1; i < CXM_MAX_SURVEYS; i++) {
		snprintf(name, sizeof name, "s%d", i);
		assert_int_equal(cxm_survey_define(&out, c, name, &d), CXM_OK);
	}
	assert_int_equal(cxm_survey_define(&out, c, "one too many", &d), CXM_ERR_LIMIT);
	cxm_context_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cool_downs),	    cmocka_unit_test(test_caps),
		cmocka_unit_test(test_eligibility),	    cmocka_unit_test(test_sampling),
		cmocka_unit_test(test_forget_limit_prune), cmocka_unit_test(test_threads),
		cmocka_unit_test(test_bad_arguments),	    cmocka_unit_test(test_snapshot),
		cmocka_unit_test(test_snapshot_oom),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
