/* The exposition's options (cxm_export_options): their defaults and their
 * checks, before anything is written. */
#include "cxm_internal.h"

#include <math.h>
#include <string.h>

static const double default_bounds[] = {0.1, 0.5, 1,   2,    5,    10,    30,   60,
					120, 300, 600, 1800, 3600, 14400, 86400};

cxm_status cxm_export_options_init(cxm_export_options *opts, size_t size)
{
	return cxm__init_struct(opts, size, sizeof(cxm_export_options), "cxm_export_options", "opts");
}

/* names a caller's constant label may not take: ours, and the samples' */
static const char *const taken_names[] = {"metric", "touchpoint", "channel", "journey", "step",
					  "segment", "segment_value", "question", "point",
					  "outcome", "le", "reason", "quantile"};

static bool label_name_ok(const char *n)
{
	if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') || *n == '_'))
		return false;
	if (n[0] == '_' && n[1] == '_')
		return false; /* reserved to Prometheus */
	for (const char *p = n + 1; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '_'))
			return false;
	return true;
}

/* The caller's constant labels: names Prometheus takes, none of ours or
 * given twice, values that are names. */
static cxm_status check_labels(cxm_context *ctx, const cxm_export_options *o)
{
	if (o->n_labels > CXM_EXPORT_MAX_LABELS)
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "%u labels; at most %u", o->n_labels,
				 CXM_EXPORT_MAX_LABELS);
	if (o->n_labels && (!o->label_names || !o->label_values))
		return cxm__fail(ctx, CXM_ERR_INVALID, "label_%s is NULL with n_labels %u",
				 !o->label_names ? "names" : "values", o->n_labels);
	for (uint32_t i = 0; i < o->n_labels; i++) {
		const char *n = o->label_names[i], *v = o->label_values[i];
		if (!n || !v)
			return cxm__fail(ctx, CXM_ERR_INVALID, "label %s %u is NULL", !n ? "name" : "value", i);
		if (!label_name_ok(n))
			return cxm__fail(ctx, CXM_ERR_INVALID,
					 "label name %u is not [a-zA-Z_][a-zA-Z0-9_]* or starts with __", i);
		for (size_t j = 0; j < sizeof taken_names / sizeof taken_names[0]; j++)
			if (!strcmp(n, taken_names[j]))
				return cxm__fail(ctx, CXM_ERR_INVALID,
						 "label name '%s' is one the exposition sets itself", n);
		for (uint32_t j = 0; j < i; j++)
			if (!strcmp(n, o->label_names[j]))
				return cxm__fail(ctx, CXM_ERR_INVALID, "label name '%s' is given twice", n);
		cxm_status st = cxm__check_name(ctx, v, "label value");
		if (st)
			return st;
	}
	return CXM_OK;
}

cxm_status cxm__export_options_check(cxm_context *ctx, const cxm_export_options *o, export_opts *x)
{
	x->n_labels = 0;
	x->label_names = x->label_values = NULL;
	x->om = true;
	x->no_segs = false;
	x->no_points = false;
	x->bounds = default_bounds;
	x->nb = sizeof default_bounds / sizeof default_bounds[0];
	if (o) {
		cxm_status st = cxm__check_struct(ctx, o, sizeof(cxm_export_options),
						  sizeof(cxm_export_options), "cxm_export_options");
		if (st)
			return st;
		if (o->reserved[0] || o->reserved[1] || o->reserved[2] || o->reserved[3] ||
		    o->reserved[4] || o->reserved[5])
			return cxm__fail(ctx, CXM_ERR_UNSUPPORTED,
					 "cxm_export_options reserved fields must be zero");
		if (o->format != CXM_FORMAT_OPENMETRICS && o->format != CXM_FORMAT_PROMETHEUS)
			return cxm__fail(ctx, CXM_ERR_INVALID, "format %d is not a cxm_export_format",
					 (int)o->format);
		if (o->flags & ~(CXM_EXPORT_NO_SEGMENTS | CXM_EXPORT_NO_POINTS))
			return cxm__fail(ctx, CXM_ERR_INVALID, "flags 0x%x has unknown bits", o->flags);
		if (o->n_buckets > CXM_EXPORT_MAX_BUCKETS)
			return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "%u buckets; at most %u", o->n_buckets,
					 CXM_EXPORT_MAX_BUCKETS);
		if (o->n_buckets && !o->buckets)
			return cxm__fail(ctx, CXM_ERR_INVALID, "buckets is NULL with n_buckets %u",
					 o->n_buckets);
		for (uint32_t j = 0; j < o->n_buckets; j++) {
			double b = o->buckets[j];
			if (!isfinite(b))
				return cxm__fail(ctx, CXM_ERR_NOT_FINITE, "bucket bound %u is not finite", j);
			if (b < 0 || (j && !(b > o->buckets[j - 1])))
				return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE,
						 "bucket bound %u (%g) is negative or not above the one before",
						 j, b);
		}
		if ((st = check_labels(ctx, o)))
			return st;
		x->n_labels = o->n_labels;
		x->label_names = o->label_names;
		x->label_values = o->label_values;
		x->om = o->format == CXM_FORMAT_OPENMETRICS;
		x->no_segs = (o->flags & CXM_EXPORT_NO_SEGMENTS) != 0;
		x->no_points = (o->flags & CXM_EXPORT_NO_POINTS) != 0;
		if (o->n_buckets) {
			x->bounds = o->buckets;
			x->nb = o->n_buckets;
		}
	}
	return CXM_OK;
}
