/*
 * _cxm: the CPython binding of libcxm.
 * SPDX-License-Identifier: MIT
 *
 * Built once against the limited API of CPython 3.8 (abi3), it imports in
 * every CPython from 3.8 on. Each Python call is one call into libcxm; the
 * pure-Python package `cxm` around it only turns datetimes, timedeltas and
 * names into the integers this module takes.
 *
 * Three things the stable ABI gained after 3.8 are used only where it
 * promises them, chosen once at import from the running interpreter:
 *   METH_FASTCALL (3.10): method tables exist twice, the 3.8/3.9 one with
 *     METH_VARARGS shims that unpack the tuple and call the same function;
 *   PyUnicode_AsUTF8AndSize (3.10): customer ids from str without a copy;
 *     before, through a temporary bytes object;
 *   the buffer protocol (3.11): feed_buffer() reads numpy arrays and
 *     memoryviews in place; before, the package hands it bytes.
 * Those functions exist in every CPython 3 under the same names and
 * signatures; they are declared here because the 3.8 limited headers hide
 * them, and called only on interpreters whose stable ABI includes them.
 *
 * The GIL is released around batch feeds, queries, funnels, sweeps,
 * snapshots (save, load, merge) and the exposition. A context counts the
 * calls running without the GIL, so close() from another thread defers
 * cxm_context_free() until the last of them returns.
 */
#ifndef Py_LIMITED_API
#define Py_LIMITED_API 0x03080000
#endif
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <cxm.h>

#include <limits.h>
#include <stdarg.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- what the 3.8 limited headers hide -------------------------------------- */

#ifndef METH_FASTCALL
#define METH_FASTCALL 0x0080
#endif

/* Py_buffer as in the 3.11 limited API (the layout is the same in 3.8). */
typedef struct {
	void *buf;
	PyObject *obj;
	Py_ssize_t len;
	Py_ssize_t itemsize;
	int readonly;
	int ndim;
	char *format;
	Py_ssize_t *shape;
	Py_ssize_t *strides;
	Py_ssize_t *suboffsets;
	void *internal;
} cxm_pybuffer;
#define CXM_PYBUF_SIMPLE 0

extern int cxm_py_getbuffer(PyObject *obj, cxm_pybuffer *view, int flags)
	__asm__("PyObject_GetBuffer");
extern void cxm_py_releasebuffer(cxm_pybuffer *view) __asm__("PyBuffer_Release");
extern const char *cxm_py_asutf8(PyObject *s, Py_ssize_t *size)
	__asm__("PyUnicode_AsUTF8AndSize");

#define XSETREF(dst, src)              \
	do {                             \
		PyObject *_old = (PyObject *)(dst); \
		(dst) = (src);           \
		Py_XDECREF(_old);        \
	} while (0)

typedef PyObject *(*fastkw_fn)(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
			       PyObject *kwnames);

/* ---- module state (one interpreter: single-phase init) ---------------------- */

static long rt_hexversion;   /* sys.hexversion of the running interpreter */
static int rt_fastcall;      /* >= 3.10 */
static int rt_utf8;          /* >= 3.10 */
static int rt_buffer;        /* >= 3.11 */

static PyObject *Error;                        /* cxm.Error */
static PyObject *error_class[CXM_STATUS_COUNT]; /* by status; [0] unused */
static PyTypeObject *ContextType, *QueryType, *ResultType, *ComparisonType, *StatsType;
static PyObject *conv_time, *conv_span, *conv_from_ms; /* set by the package */
static PyObject *str_code, *str_status;
static PyObject *kind_names[9], *headline_names[8];

#define FEED_CHUNK 1024
#define MAX_DIMS 64 /* cxm_config::max_segments is at most 64 */
#define UNKNOWN_ID (CXM_NONE - 1) /* an id no limit allows: "unknown" to libcxm */

/* ---- errors ----------------------------------------------------------------- */

/* The one place a status becomes an exception: the class by code, the
 * message from cxm_errmsg() (or cxm_strerror() when there is none), and the
 * code and its name as attributes. Returns NULL for `return raise_status()`. */
static PyObject *raise_msg(cxm_status st, const char *msg)
{
	PyObject *cls = (st > 0 && st < CXM_STATUS_COUNT && error_class[st]) ? error_class[st] : Error;
	if (!msg || !*msg)
		msg = cxm_strerror((int)st);
	/* messages quote the caller's names, which may not be valid UTF-8 */
	PyObject *text = PyUnicode_DecodeUTF8(msg, (Py_ssize_t)strlen(msg), "replace");
	if (!text)
		return NULL;
	PyObject *exc = PyObject_CallFunctionObjArgs(cls, text, NULL);
	Py_DECREF(text);
	if (!exc)
		return NULL;
	PyObject *code = PyLong_FromLong((long)st);
	PyObject *name = PyUnicode_FromString(cxm_strerror((int)st));
	if (!code || !name || PyObject_SetAttr(exc, str_code, code) < 0 ||
	    PyObject_SetAttr(exc, str_status, name) < 0) {
		Py_XDECREF(code);
		Py_XDECREF(name);
		Py_DECREF(exc);
		return NULL;
	}
	Py_DECREF(code);
	Py_DECREF(name);
	PyErr_SetObject(cls, exc);
	Py_DECREF(exc);
	return NULL;
}

static PyObject *raise_status(cxm_status st, const cxm_context *ctx)
{
	return raise_msg(st, cxm_errmsg(ctx));
}

/* The same for failures the binding detects (PyUnicode_FromFormat syntax). */
static int fail_fmt(cxm_status st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	PyObject *m = PyUnicode_FromFormatV(fmt, ap);
	va_end(ap);
	if (!m)
		return -1;
	PyObject *b = PyUnicode_AsUTF8String(m);
	Py_DECREF(m);
	if (!b)
		return -1;
	raise_msg(st, PyBytes_AsString(b));
	Py_DECREF(b);
	return -1;
}

/* ---- argument parsing ------------------------------------------------------- */

typedef struct {
	const char *fname;
	int npos;  /* positional parameters (the first npos names) */
	int nreq;  /* required ones */
	int nkw;   /* all names */
	const char *names[12];
	PyObject *inames[12];
} argspec;

static int spec_init(argspec *s)
{
	for (int i = 0; i < s->nkw; i++)
		if (!s->inames[i] && !(s->inames[i] = PyUnicode_InternFromString(s->names[i])))
			return -1;
	return 0;
}

static int parse(argspec *s, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
		 PyObject **out)
{
	for (int i = 0; i < s->nkw; i++)
		out[i] = NULL;
	if (nargs > s->npos) {
		PyErr_Format(PyExc_TypeError, "%s() takes at most %d positional arguments (%zd given)",
			     s->fname, s->npos, nargs);
		return -1;
	}
	for (Py_ssize_t i = 0; i < nargs; i++)
		out[i] = args[i];
	if (kwnames) {
		Py_ssize_t nk = PyTuple_Size(kwnames);
		for (Py_ssize_t k = 0; k < nk; k++) {
			PyObject *key = PyTuple_GetItem(kwnames, k);
			int j;
			for (j = 0; j < s->nkw; j++)
				if (key == s->inames[j])
					break;
			if (j == s->nkw)
				for (j = 0; j < s->nkw; j++)
					if (PyUnicode_Compare(key, s->inames[j]) == 0)
						break;
			if (PyErr_Occurred())
				return -1;
			if (j == s->nkw) {
				PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%S'",
					     s->fname, key);
				return -1;
			}
			if (out[j]) {
				PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'",
					     s->fname, s->names[j]);
				return -1;
			}
			out[j] = args[nargs + k];
		}
	}
	for (int i = 0; i < s->nreq; i++)
		if (!out[i]) {
			PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'", s->fname,
				     s->names[i]);
			return -1;
		}
	return 0;
}

static int no_kwargs(const char *fname, PyObject *kwnames)
{
	if (kwnames && PyTuple_Size(kwnames)) {
		PyErr_Format(PyExc_TypeError, "%s() takes no keyword arguments", fname);
		return -1;
	}
	return 0;
}

static int nargs_between(const char *fname, Py_ssize_t nargs, Py_ssize_t lo, Py_ssize_t hi)
{
	if (nargs < lo || nargs > hi) {
		if (lo == hi)
			PyErr_Format(PyExc_TypeError, "%s() takes %zd arguments (%zd given)", fname, lo,
				     nargs);
		else
			PyErr_Format(PyExc_TypeError, "%s() takes %zd to %zd arguments (%zd given)",
				     fname, lo, hi, nargs);
		return -1;
	}
	return 0;
}

/* The METH_VARARGS|METH_KEYWORDS face of a fastcall function, for 3.8/3.9. */
static PyObject *shim(fastkw_fn f, PyObject *self, PyObject *args, PyObject *kw)
{
	PyObject *stack[24];
	Py_ssize_t n = args ? PyTuple_Size(args) : 0;
	Py_ssize_t nk = kw ? PyDict_Size(kw) : 0;
	if (n + nk > 24) {
		PyErr_SetString(PyExc_TypeError, "too many arguments");
		return NULL;
	}
	for (Py_ssize_t i = 0; i < n; i++)
		stack[i] = PyTuple_GetItem(args, i);
	PyObject *names = NULL;
	if (nk) {
		names = PyTuple_New(nk);
		if (!names)
			return NULL;
		Py_ssize_t pos = 0, j = 0;
		PyObject *k, *v;
		while (PyDict_Next(kw, &pos, &k, &v) && j < nk) {
			Py_INCREF(k);
			PyTuple_SetItem(names, j, k);
			stack[n + j++] = v;
		}
	}
	PyObject *r = f(self, stack, n, names);
	Py_XDECREF(names);
	return r;
}

#define SHIM(fn)                                                              \
	static PyObject *fn##_va(PyObject *self, PyObject *args, PyObject *kw) \
	{                                                                     \
		return shim((fastkw_fn)fn, self, args, kw);                   \
	}

/* ---- conversions -------------------------------------------------------------- */

/* Under the limited API PyLong_Check() and friends are function calls
 * (PyType_GetFlags); the exact-type checks are pointer compares. The hot
 * paths try those first. A bool is an int to Python, never to the
 * binding: True is not touchpoint 1, time 1 or a window of 1 ms. */
#define IS_INT(o) (PyLong_CheckExact(o) || (PyLong_Check(o) && !PyBool_Check(o)))
#define IS_FLOAT(o) (PyFloat_CheckExact(o) || PyFloat_Check(o))
#define IS_DICT(o) (PyDict_CheckExact(o) || PyDict_Check(o))
#define IS_TUPLE(o) (PyTuple_CheckExact(o) || PyTuple_Check(o))
#define IS_STR(o) (PyUnicode_CheckExact(o) || PyUnicode_Check(o))

/* An int as int64_t. One that does not fit is refused, never saturated:
 * OutOfRangeError (a ValueError) naming what it is. */
static int too_big(PyObject *o, const char *what)
{
	return fail_fmt(CXM_ERR_OUT_OF_RANGE, "%s %R is out of range (it does not fit in 64 bits)",
			what, o);
}

static inline int as_int64(PyObject *o, int64_t *out, const char *what)
{
	int overflow;
	long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
	if (overflow)
		return too_big(o, what);
	if (v == -1 && PyErr_Occurred())
		return -1;
	*out = v;
	return 0;
}

static int not_bool(PyObject *o, const char *what)
{
	if (PyBool_Check(o)) {
		PyErr_Format(PyExc_TypeError, "%s must be an int, not bool", what);
		return -1;
	}
	return 0;
}

/* An int, or anything with __index__ (numpy integers), but not a bool.
 * New reference. */
static PyObject *index_of(PyObject *o, const char *what)
{
	if (not_bool(o, what) < 0)
		return NULL;
	if (PyLong_Check(o)) {
		Py_INCREF(o);
		return o;
	}
	PyObject *i = PyNumber_Index(o);
	if (!i && PyErr_ExceptionMatches(PyExc_TypeError)) {
		PyErr_Clear();
		PyErr_Format(PyExc_TypeError, "%s must be an int, not %R", what, (PyObject *)Py_TYPE(o));
	}
	return i;
}

static int index_int64(PyObject *o, int64_t *out, const char *what)
{
	PyObject *i = index_of(o, what);
	if (!i)
		return -1;
	int rc = as_int64(i, out, what);
	Py_DECREF(i);
	return rc;
}

/* Event time: an int of ms, else the package's converter (datetime, str…). */
static int conv_time_ms(PyObject *o, int64_t *out)
{
	if (IS_INT(o))
		return as_int64(o, out, "time");
	if (!conv_time) {
		PyErr_Format(PyExc_TypeError, "time must be an int of ms since the epoch, not %R",
			     (PyObject *)Py_TYPE(o));
		return -1;
	}
	PyObject *r = PyObject_CallFunctionObjArgs(conv_time, o, NULL);
	if (!r)
		return -1;
	int rc = IS_INT(r) ? as_int64(r, out, "time") : -1;
	if (rc && !PyErr_Occurred())
		PyErr_SetString(PyExc_TypeError, "time converter did not return an int");
	Py_DECREF(r);
	return rc;
}

/* A window length: an int of ms, else the converter (timedelta, "24h"). */
static int conv_span_ms(PyObject *o, int64_t *out)
{
	if (IS_INT(o))
		return as_int64(o, out, "window");
	if (!conv_span) {
		PyErr_Format(PyExc_TypeError, "window must be an int of ms, not %R",
			     (PyObject *)Py_TYPE(o));
		return -1;
	}
	PyObject *r = PyObject_CallFunctionObjArgs(conv_span, o, NULL);
	if (!r)
		return -1;
	int rc = IS_INT(r) ? as_int64(r, out, "window") : -1;
	if (rc && !PyErr_Occurred())
		PyErr_SetString(PyExc_TypeError, "window converter did not return an int");
	Py_DECREF(r);
	return rc;
}

/* A str as UTF-8. *keep receives a new reference to keep alive with the
 * pointer (NULL when the str itself holds the bytes). */
static const char *utf8_of(PyObject *s, Py_ssize_t *len, PyObject **keep)
{
	*keep = NULL;
	if (rt_utf8)
		return cxm_py_asutf8(s, len);
	PyObject *b = PyUnicode_AsUTF8String(s);
	if (!b)
		return NULL;
	char *p;
	if (PyBytes_AsStringAndSize(b, &p, len) < 0) {
		Py_DECREF(b);
		return NULL;
	}
	*keep = b;
	return p;
}

/* A name for libcxm: str without NUL bytes (libcxm takes C strings). */
static const char *name_of(PyObject *s, PyObject **keep, const char *what)
{
	*keep = NULL;
	if (!PyUnicode_Check(s)) {
		PyErr_Format(PyExc_TypeError, "%s must be a str, not %R", what, (PyObject *)Py_TYPE(s));
		return NULL;
	}
	Py_ssize_t n;
	const char *p = utf8_of(s, &n, keep);
	if (!p) {
		/* lone surrogates: what libcxm calls a bad encoding */
		if (PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
			PyErr_Clear();
			fail_fmt(CXM_ERR_ENCODING, "%s is not valid UTF-8 (it holds a lone surrogate)", what);
		}
		return NULL;
	}
	if ((size_t)n != strlen(p)) {
		Py_CLEAR(*keep);
		fail_fmt(CXM_ERR_ENCODING, "%s contains a NUL character", what);
		return NULL;
	}
	return p;
}

static const char *kind_what(cxm_object kind)
{
	switch (kind) {
	case CXM_OBJECT_JOURNEY: return "journey";
	case CXM_OBJECT_TOUCHPOINT: return "touchpoint";
	case CXM_OBJECT_METRIC: return "metric";
	case CXM_OBJECT_SEGMENT: return "segment dimension";
	default: return "id";
	}
}

/* An int id (already an int: not a bool) in 0 … CXM_NONE − 1. A negative
 * id or one beyond that is refused here with UnknownIdError, rather than
 * handed to libcxm as some other number that it would name instead. */
static int no_such_id(PyObject *i, const char *what, cxm_object kind)
{
	return fail_fmt(CXM_ERR_UNKNOWN_ID, "%s %R is not defined (ids are 0 to %u)",
			what ? what : kind_what(kind), i, (unsigned)(CXM_NONE - 1));
}

/* what names the id in the message; NULL: after kind. */
static inline int id_value_k(PyObject *i, cxm_id *out, const char *what, cxm_object kind)
{
	int overflow;
	long long v = PyLong_AsLongLongAndOverflow(i, &overflow);
	if (v == -1 && !overflow && PyErr_Occurred())
		return -1;
	if (overflow || v < 0 || v >= (long long)CXM_NONE)
		return no_such_id(i, what, kind);
	*out = (cxm_id)v;
	return 0;
}

static int id_value(PyObject *i, cxm_id *out, const char *what)
{
	return id_value_k(i, out, what, 0);
}

/* A definition id: an int (Touchpoint, Metric… are ints), an __index__
 * object, or a name looked up with cxm_find() when kind is not 0. what
 * names it in messages (NULL: after kind). */
static int conv_id(const cxm_context *ctx, PyObject *o, cxm_object kind, cxm_id *out,
		   const char *what)
{
	if (IS_INT(o))
		return id_value_k(o, out, what, kind);
	if (!what)
		what = kind_what(kind);
	if (kind && PyUnicode_Check(o)) {
		PyObject *keep;
		const char *name = name_of(o, &keep, "a name");
		if (!name)
			return -1;
		cxm_status st = cxm_find(out, ctx, kind, name);
		Py_XDECREF(keep);
		if (st) {
			raise_status(st, ctx);
			return -1;
		}
		return 0;
	}
	PyObject *i = index_of(o, what);
	if (!i)
		return -1;
	int rc = id_value(i, out, what);
	Py_DECREF(i);
	return rc;
}

static int conv_u32(PyObject *o, uint32_t *out, const char *what)
{
	PyObject *i = index_of(o, what);
	if (!i)
		return -1;
	int overflow;
	long long x = PyLong_AsLongLongAndOverflow(i, &overflow);
	int rc = 0;
	if (x == -1 && !overflow && PyErr_Occurred())
		rc = -1;
	else if (overflow || x < 0 || x > (long long)UINT32_MAX)
		rc = fail_fmt(CXM_ERR_OUT_OF_RANGE, "%s %R does not fit in 32 bits", what, i);
	else
		*out = (uint32_t)x;
	Py_DECREF(i);
	return rc;
}

/* A measure value: float, int, bool or anything with __float__. An int too
 * large for a double becomes ±inf, which libcxm rejects as not finite. */
static int conv_double(PyObject *o, double *out)
{
	if (PyFloat_CheckExact(o)) {
		*out = PyFloat_AsDouble(o);
		return 0;
	}
	/* an int: no float object on the way (PyFloat_AsDouble would make one) */
	double v = PyLong_Check(o) ? PyLong_AsDouble(o) : PyFloat_AsDouble(o);
	if (v == -1.0 && PyErr_Occurred()) {
		if (!PyErr_ExceptionMatches(PyExc_OverflowError))
			return -1;
		PyErr_Clear();
		PyObject *zero = PyLong_FromLong(0);
		int neg = zero ? PyObject_RichCompareBool(o, zero, Py_LT) : -1;
		Py_XDECREF(zero);
		if (neg < 0)
			return -1;
		v = neg ? -HUGE_VAL : HUGE_VAL;
	}
	*out = v;
	return 0;
}

/* A number that is not a measure (a confidence level, a quantile, a
 * bucket bound, a field of a metric definition): a bool is refused. */
static int conv_real(PyObject *o, double *out, const char *what)
{
	if (PyBool_Check(o)) {
		PyErr_Format(PyExc_TypeError, "%s must be a number, not bool", what);
		return -1;
	}
	return conv_double(o, out);
}

/* ---- building interactions ---------------------------------------------------- */

typedef struct {
	void *p;
	size_t n, cap, elem;
	int heap;
} vec;

static int vec_reserve(vec *v, size_t more)
{
	if (more <= v->cap - v->n)
		return 0;
	size_t limit = (size_t)PY_SSIZE_T_MAX / v->elem; /* no size below can wrap */
	if (more > limit - v->n) {
		PyErr_NoMemory();
		return -1;
	}
	size_t nc = v->cap ? v->cap : 64;
	while (nc < v->n + more)
		nc = nc > limit / 2 ? limit : nc * 2;
	void *np = PyMem_Malloc(nc * v->elem);
	if (!np) {
		PyErr_NoMemory();
		return -1;
	}
	if (v->n)
		memcpy(np, v->p, v->n * v->elem);
	if (v->heap)
		PyMem_Free(v->p);
	v->p = np;
	v->cap = nc;
	v->heap = 1;
	return 0;
}

static void vec_free(vec *v)
{
	if (v->heap)
		PyMem_Free(v->p);
	v->p = NULL;
	v->n = v->cap = 0;
	v->heap = 0;
}

#define VEC(type) {NULL, 0, 0, sizeof(type), 0}
#define VEC_AT(v, type) ((type *)(v).p)

/* Segment values of the last interaction built that are not defined yet:
 * its segments[] hold CXM_NONE there until define_pending(). Kept apart
 * from the builder (and not zeroed) so that feed() does not clear it. */
typedef struct {
	int n;
	cxm_id dim[MAX_DIMS];
	PyObject *name[MAX_DIMS];
} pending;

/* Interactions under construction. measures and segments of each hold
 * offsets into the pools until fix() turns them into pointers. */
typedef struct {
	cxm_context *ctx;
	vec ix;    /* cxm_interaction */
	vec ms;    /* cxm_measure */
	vec seg;   /* uint32_t */
	vec keep;  /* PyObject *: references held until the batch is fed */
	vec src;   /* Py_ssize_t: index of each interaction in the caller's input */
	uint64_t cid; /* feed(): an int customer id's bytes */
	pending *pend; /* set by the callers that take segment values by name */
} builder;

static void pend_release(pending *p)
{
	for (int i = 0; i < p->n; i++)
		Py_CLEAR(p->name[i]);
	p->n = 0;
}

static inline void pend_clear(builder *b)
{
	if (b->pend && b->pend->n)
		pend_release(b->pend);
}

static int npend(const builder *b)
{
	return b->pend ? b->pend->n : 0;
}

static int keep_ref(builder *b, PyObject *o) /* steals o */
{
	if (vec_reserve(&b->keep, 1) < 0) {
		Py_DECREF(o);
		return -1;
	}
	VEC_AT(b->keep, PyObject *)[b->keep.n++] = o;
	return 0;
}

static void drop_refs(builder *b)
{
	for (size_t i = 0; i < b->keep.n; i++)
		Py_DECREF(VEC_AT(b->keep, PyObject *)[i]);
	b->keep.n = 0;
}

static int add_measure(builder *b, cxm_id metric, uint32_t item, PyObject *value)
{
	double v;
	if (conv_double(value, &v) < 0)
		return -1;
	if (vec_reserve(&b->ms, 1) < 0)
		return -1;
	cxm_measure *m = &VEC_AT(b->ms, cxm_measure)[b->ms.n++];
	m->metric = metric;
	m->item = item;
	m->value = v;
	return 0;
}

/* metric: value, where value is a number, None (not measured), or a
 * sequence of answers to an INDEX metric's questions. */
static int add_measure_kv(builder *b, PyObject *key, PyObject *value)
{
	cxm_id metric;
	if (conv_id(b->ctx, key, CXM_OBJECT_METRIC, &metric, NULL) < 0)
		return -1;
	if (value == Py_None)
		return 0;
	if (PyFloat_CheckExact(value) || PyLong_CheckExact(value))
		return add_measure(b, metric, 0, value);
	if (PyTuple_Check(value) || PyList_Check(value)) {
		for (Py_ssize_t i = 0;; i++) {
			Py_ssize_t n = PyTuple_Check(value) ? PyTuple_Size(value) : PyList_Size(value);
			if (i >= n)
				break;
			PyObject *a = PyTuple_Check(value) ? PyTuple_GetItem(value, i)
							   : PyList_GetItem(value, i);
			if (!a)
				return -1;
			if (a == Py_None)
				continue;
			Py_INCREF(a);
			int rc = add_measure(b, metric, (uint32_t)i, a);
			Py_DECREF(a);
			if (rc < 0)
				return -1;
		}
		return 0;
	}
	return add_measure(b, metric, 0, value);
}

static int add_measure_seq_item(builder *b, PyObject *t)
{
	if (PyTuple_CheckExact(t) && PyTuple_Size(t) == 2) {
		/* the common (metric, value) pair: a tuple cannot change under us */
		PyObject *k = PyTuple_GetItem(t, 0), *v = PyTuple_GetItem(t, 1);
		if (IS_INT(k) && (PyFloat_CheckExact(v) || PyLong_CheckExact(v))) {
			cxm_id metric;
			if (conv_id(b->ctx, k, CXM_OBJECT_METRIC, &metric, NULL) < 0)
				return -1;
			return add_measure(b, metric, 0, v);
		}
	}
	if (!PyTuple_Check(t) && !PyList_Check(t)) {
		PyErr_Format(PyExc_TypeError,
			     "a measure must be (metric, value) or (metric, item, value), not %R",
			     (PyObject *)Py_TYPE(t));
		return -1;
	}
	PyObject *seq = PySequence_Tuple(t);
	if (!seq)
		return -1;
	int rc = -1;
	Py_ssize_t n = PyTuple_Size(seq);
	if (n == 2) {
		rc = add_measure_kv(b, PyTuple_GetItem(seq, 0), PyTuple_GetItem(seq, 1));
	} else if (n == 3) {
		cxm_id metric;
		uint32_t item;
		PyObject *v = PyTuple_GetItem(seq, 2);
		if (conv_id(b->ctx, PyTuple_GetItem(seq, 0), CXM_OBJECT_METRIC, &metric, NULL) == 0 &&
		    conv_u32(PyTuple_GetItem(seq, 1), &item, "item") == 0)
			rc = v == Py_None ? 0 : add_measure(b, metric, item, v);
	} else {
		PyErr_Format(PyExc_TypeError,
			     "a measure must be (metric, value) or (metric, item, value); got %zd items",
			     n);
	}
	Py_DECREF(seq);
	return rc;
}

static int add_measures(builder *b, PyObject *m)
{
	if (!m || m == Py_None)
		return 0;
	if (IS_DICT(m)) {
		Py_ssize_t pos = 0;
		PyObject *k, *v;
		while (PyDict_Next(m, &pos, &k, &v)) {
			Py_INCREF(k);
			Py_INCREF(v);
			int rc = add_measure_kv(b, k, v);
			Py_DECREF(k);
			Py_DECREF(v);
			if (rc < 0)
				return -1;
		}
		return 0;
	}
	int is_tuple = IS_TUPLE(m);
	if (is_tuple || PyList_Check(m)) {
		for (Py_ssize_t i = 0;; i++) {
			Py_ssize_t n = is_tuple ? PyTuple_Size(m) : PyList_Size(m);
			if (i >= n)
				break;
			PyObject *t = is_tuple ? PyTuple_GetItem(m, i) : PyList_GetItem(m, i);
			if (!t)
				return -1;
			Py_INCREF(t);
			int rc = add_measure_seq_item(b, t);
			Py_DECREF(t);
			if (rc < 0)
				return -1;
		}
		return 0;
	}
	PyErr_Format(PyExc_TypeError,
		     "measures must be a dict {metric: value} or a sequence of (metric, value), not %R",
		     (PyObject *)Py_TYPE(m));
	return -1;
}

/* A segment value: an id, None (no value), or a name. A name is only
 * looked up here (cxm_segment_value_find): a value that is not defined yet
 * is defined only once the interaction is known to be accepted (see
 * define_pending()), so a rejected row never uses up a value. Until then
 * the dimension holds CXM_NONE and the name waits in b->pend. */
static int conv_segval(builder *b, cxm_id dim, PyObject *v, uint32_t *out)
{
	if (v == Py_None) {
		*out = CXM_NONE;
		return 0;
	}
	if (PyUnicode_Check(v)) {
		PyObject *keep;
		const char *name = name_of(v, &keep, "a segment value");
		if (!name)
			return -1;
		cxm_status st = cxm_segment_value_find(out, b->ctx, dim, name);
		Py_XDECREF(keep);
		if (st == CXM_ERR_UNKNOWN_ID && b->pend) {
			uint32_t n;
			st = cxm_segment_values(&n, b->ctx, dim); /* no such dimension? */
			if (!st) {
				if (b->pend->n >= MAX_DIMS)
					return fail_fmt(CXM_ERR_UNKNOWN_ID, "more segment values than dimensions");
				Py_INCREF(v);
				b->pend->dim[b->pend->n] = dim;
				b->pend->name[b->pend->n++] = v;
				*out = CXM_NONE;
				return 0;
			}
		}
		if (st) {
			raise_status(st, b->ctx);
			return -1;
		}
		return 0;
	}
	PyObject *i = index_of(v, "a segment value");
	if (!i)
		return -1;
	int overflow;
	long long x = PyLong_AsLongLongAndOverflow(i, &overflow);
	int rc = 0;
	if (x == -1 && !overflow && PyErr_Occurred())
		rc = -1;
	else if (x == -1 && !overflow)
		*out = CXM_NONE; /* -1: no value, as in a buffer's column */
	else
		rc = id_value(i, out, "segment value");
	Py_DECREF(i);
	return rc;
}

/* Returns the number of dimensions given, or -1. Values land in vals[]. */
static Py_ssize_t conv_segments(builder *b, PyObject *s, uint32_t *vals)
{
	if (!s || s == Py_None)
		return 0;
	for (int d = 0; d < MAX_DIMS; d++)
		vals[d] = CXM_NONE;
	Py_ssize_t n = 0;
	if (IS_DICT(s)) {
		Py_ssize_t pos = 0;
		PyObject *k, *v;
		while (PyDict_Next(s, &pos, &k, &v)) {
			cxm_id dim;
			Py_INCREF(k);
			Py_INCREF(v);
			int rc = conv_id(b->ctx, k, CXM_OBJECT_SEGMENT, &dim, NULL);
			if (rc == 0 && dim >= MAX_DIMS)
				rc = fail_fmt(CXM_ERR_UNKNOWN_ID, "segment dimension %R is not defined", k);
			if (rc == 0)
				rc = conv_segval(b, dim, v, &vals[dim]);
			Py_DECREF(k);
			Py_DECREF(v);
			if (rc < 0)
				return -1;
			if ((Py_ssize_t)dim + 1 > n)
				n = dim + 1;
		}
		return n;
	}
	if (PyTuple_Check(s) || PyList_Check(s)) {
		for (Py_ssize_t i = 0;; i++) {
			Py_ssize_t len = PyTuple_Check(s) ? PyTuple_Size(s) : PyList_Size(s);
			if (i >= len)
				break;
			if (i >= MAX_DIMS)
				return fail_fmt(CXM_ERR_UNKNOWN_ID, "more segment values than dimensions");
			PyObject *v = PyTuple_Check(s) ? PyTuple_GetItem(s, i) : PyList_GetItem(s, i);
			if (!v)
				return -1;
			Py_INCREF(v);
			int rc = conv_segval(b, (cxm_id)i, v, &vals[i]);
			Py_DECREF(v);
			if (rc < 0)
				return -1;
			n = i + 1;
		}
		return n;
	}
	PyErr_Format(PyExc_TypeError,
		     "segments must be a dict {segment: value} or a sequence by dimension, not %R",
		     (PyObject *)Py_TYPE(s));
	return -1;
}

static int empty_customer(void)
{
	return fail_fmt(CXM_ERR_INVALID, "an empty customer id: give None for an interaction "
			"without a customer");
}

/* Customer id bytes: str (UTF-8), bytes, or an int (its 8 little-endian
 * bytes, two's complement). None is "no customer"; an empty str or bytes
 * is refused (InvalidArgumentError), as by forget() and last_seen(). With
 * keep_it, references that must outlive the pointer go to b->keep. */
static int conv_customer(builder *b, PyObject *c, const void **ptr, size_t *len, int keep_it)
{
	*ptr = NULL;
	*len = 0;
	if (!c || c == Py_None)
		return 0;
	if (IS_STR(c)) {
		PyObject *tmp;
		Py_ssize_t n;
		const char *p = utf8_of(c, &n, &tmp);
		if (!p)
			return -1;
		if (!n) {
			Py_XDECREF(tmp);
			return empty_customer();
		}
		if (tmp) {
			if (keep_ref(b, tmp) < 0)
				return -1;
		} else if (keep_it) {
			Py_INCREF(c);
			if (keep_ref(b, c) < 0)
				return -1;
		}
		*ptr = p;
		*len = (size_t)n;
		return 0;
	}
	if (PyBytes_Check(c)) {
		char *p;
		Py_ssize_t n;
		if (PyBytes_AsStringAndSize(c, &p, &n) < 0)
			return -1;
		if (!n)
			return empty_customer();
		if (keep_it) {
			Py_INCREF(c);
			if (keep_ref(b, c) < 0)
				return -1;
		}
		*ptr = p;
		*len = (size_t)n;
		return 0;
	}
	if (IS_INT(c)) {
		int overflow;
		long long v = PyLong_AsLongLongAndOverflow(c, &overflow);
		uint64_t u;
		if (overflow > 0) {
			u = PyLong_AsUnsignedLongLong(c);
			if (u == (uint64_t)-1 && PyErr_Occurred()) {
				PyErr_Clear();
				return fail_fmt(CXM_ERR_OUT_OF_RANGE, "an int customer id must fit in 64 bits");
			}
		} else if (overflow < 0) {
			return fail_fmt(CXM_ERR_OUT_OF_RANGE, "an int customer id must fit in 64 bits");
		} else {
			if (v == -1 && PyErr_Occurred())
				return -1;
			u = (uint64_t)v;
		}
		unsigned char le[8];
		for (int i = 0; i < 8; i++)
			le[i] = (unsigned char)(u >> (8 * i));
		if (keep_it) {
			PyObject *bytes = PyBytes_FromStringAndSize((const char *)le, 8);
			if (!bytes || keep_ref(b, bytes) < 0)
				return -1;
			*ptr = PyBytes_AsString(bytes);
		} else {
			memcpy(&b->cid, le, 8);
			*ptr = &b->cid;
		}
		*len = 8;
		return 0;
	}
	PyErr_Format(PyExc_TypeError, "customer must be str, bytes, int or None, not %R",
		     (PyObject *)Py_TYPE(c));
	return -1;
}

/* Append one interaction; on failure the builder is as before (but for
 * references kept, which are released with the chunk). */
static int add_interaction(builder *b, PyObject *time, PyObject *tp, PyObject *measures,
			   PyObject *customer, PyObject *segments, int keep_it)
{
	size_t ms0 = b->ms.n, seg0 = b->seg.n;
	cxm_interaction ix;
	memset(&ix, 0, sizeof ix);
	ix.size = sizeof ix;
	uint32_t vals[MAX_DIMS];
	Py_ssize_t nseg;
	pend_clear(b);
	if (conv_time_ms(time, &ix.time_ms) < 0 ||
	    conv_id(b->ctx, tp, CXM_OBJECT_TOUCHPOINT, &ix.touchpoint, NULL) < 0 ||
	    add_measures(b, measures) < 0 ||
	    conv_customer(b, customer, &ix.customer, &ix.customer_len, keep_it) < 0 ||
	    (nseg = conv_segments(b, segments, vals)) < 0 || vec_reserve(&b->seg, (size_t)nseg) < 0 ||
	    vec_reserve(&b->ix, 1) < 0) {
		b->ms.n = ms0;
		b->seg.n = seg0;
		pend_clear(b);
		return -1;
	}
	if (nseg) {
		memcpy(VEC_AT(b->seg, uint32_t) + b->seg.n, vals, (size_t)nseg * sizeof(uint32_t));
		b->seg.n += (size_t)nseg;
	}
	ix.measures = (const cxm_measure *)(uintptr_t)ms0;
	ix.n_measures = b->ms.n - ms0;
	ix.segments = (const uint32_t *)(uintptr_t)seg0;
	ix.n_segments = (size_t)nseg;
	VEC_AT(b->ix, cxm_interaction)[b->ix.n++] = ix;
	return 0;
}

/* Interaction i with its pool offsets turned into pointers. */
static void ix_at(const builder *b, size_t i, cxm_interaction *out)
{
	*out = VEC_AT(b->ix, cxm_interaction)[i];
	out->measures = out->n_measures ? VEC_AT(b->ms, cxm_measure) + (uintptr_t)out->measures : NULL;
	out->segments = out->n_segments ? VEC_AT(b->seg, uint32_t) + (uintptr_t)out->segments : NULL;
}

/* Turn the first n interactions' offsets into pointers, for libcxm. */
static void fix(builder *b, size_t n)
{
	cxm_interaction *ix = VEC_AT(b->ix, cxm_interaction);
	for (size_t i = 0; i < n; i++)
		ix_at(b, i, &ix[i]);
}

/* The segment value id of dimension dim in the last interaction, in the
 * pool (offsets not fixed yet). */
static uint32_t *last_segval(builder *b, cxm_id dim)
{
	const cxm_interaction *x = &VEC_AT(b->ix, cxm_interaction)[b->ix.n - 1];
	return VEC_AT(b->seg, uint32_t) + (uintptr_t)x->segments + dim;
}

/* Define the last interaction's pending segment values (cxm_segment_value)
 * and put their ids in place. A failure leaves values defined before it. */
static cxm_status define_pending(builder *b)
{
	for (int i = 0; i < npend(b); i++) {
		PyObject *keep;
		const char *name = name_of(b->pend->name[i], &keep, "a segment value");
		if (!name) /* checked by conv_segval already */
			return CXM_ERR_ENCODING;
		uint32_t v;
		cxm_status st = cxm_segment_value(&v, b->ctx, b->pend->dim[i], name);
		Py_XDECREF(keep);
		if (st)
			return st;
		*last_segval(b, b->pend->dim[i]) = v;
	}
	pend_clear(b);
	return CXM_OK;
}

/* ---- Context ------------------------------------------------------------------ */

typedef struct {
	PyObject_HEAD
	cxm_context *ctx;
	PyObject *clock;   /* a callable returning ms, or NULL */
	int busy;          /* calls running without the GIL */
	int closing;       /* close() came while busy */
	int loading;       /* a snapshot load runs without the GIL: nothing else may */
	int has_wm;        /* a watermark was seen (see end_resolve()) */
	int64_t wm_seen;   /* the watermark then */
	int64_t last_clock;
} CtxObject;

static cxm_context *live(CtxObject *self)
{
	if (!self->ctx || self->closing) {
		PyErr_SetString(PyExc_ValueError, self->ctx ? "the context is closing" :
					"the context is closed (or was never opened)");
		return NULL;
	}
	if (self->loading) {
		PyErr_SetString(PyExc_ValueError, "the context is loading a snapshot");
		return NULL;
	}
	return self->ctx;
}

static void release_ctx(CtxObject *self)
{
	cxm_context *c = self->ctx;
	self->ctx = NULL;
	self->closing = 0;
	cxm_context_free(c);
}

#define NOGIL_BEGIN(self)                        \
	do {                                     \
		(self)->busy++;                  \
		PyThreadState *_ts = PyEval_SaveThread();
#define NOGIL_END(self)                                  \
		PyEval_RestoreThread(_ts);               \
		if (--(self)->busy == 0 && (self)->closing) \
			release_ctx(self);               \
	} while (0)

/* Every method of a context runs "busy": any of them may run Python code
 * that lets other threads in (a Python clock, a converter, a __float__),
 * and one of those may call close(). close() then only marks the context,
 * and the outermost running call frees it when it returns. */
#define GUARD(fn)                                                                         \
	static PyObject *fn##_g(PyObject *self, PyObject *const *args, Py_ssize_t nargs,    \
				PyObject *kwnames)                                          \
	{                                                                                 \
		CtxObject *c_ = (CtxObject *)self;                                        \
		c_->busy++;                                                               \
		PyObject *r_ = fn(self, args, nargs, kwnames);                            \
		if (--c_->busy == 0 && c_->closing)                                       \
			release_ctx(c_);                                                  \
		return r_;                                                                \
	}
#define SHIM_CTX(fn) \
	GUARD(fn)    \
	SHIM(fn##_g)

/* A Python clock. libcxm reads its clock inside calls that may run
 * without the GIL, and has no way to hear that the clock failed: a failure
 * would become some "now" (0 once), and TooEarlyError for the caller. So
 * the binding calls the Python clock itself, with the GIL, before each
 * libcxm call that reads it (feeds, churn, and queries, funnels and sweeps
 * that end "now"); its exception propagates from there. The value is left
 * for py_clock() in a per-thread slot, which libcxm's call in the same
 * thread then reads. */
typedef struct {
	const CtxObject *ctx;
	int64_t now;
} clock_value;
static _Thread_local clock_value tl_clock;

/* What clock_begin() replaced, for clock_end() to put back. Contexts
 * without a Python clock touch no thread-local at all (feed()'s hot path). */
typedef struct {
	clock_value prev;
	int set;
} clock_slot;

/* Call the clock: the package's wrapper turns datetimes into ms. */
static int call_clock(CtxObject *self, int64_t *now)
{
	PyObject *r = PyObject_CallObject(self->clock, NULL);
	if (!r)
		return -1;
	int rc = -1;
	if (IS_INT(r))
		rc = as_int64(r, now, "the clock's now");
	else
		PyErr_Format(PyExc_TypeError, "the clock must return an int of ms or an aware datetime, "
			     "not %R", (PyObject *)Py_TYPE(r));
	Py_DECREF(r);
	if (rc == 0)
		self->last_clock = *now;
	return rc;
}

static int clock_read(CtxObject *self, clock_slot *saved);

/* Read the Python clock for the libcxm call that follows (GIL held). */
static inline int clock_begin(CtxObject *self, clock_slot *saved)
{
	saved->set = 0;
	return self->clock ? clock_read(self, saved) : 0;
}

static int clock_read(CtxObject *self, clock_slot *saved)
{
	int64_t now = 0; /* set by call_clock when it succeeds */
	if (call_clock(self, &now) < 0)
		return -1;
	saved->prev = tl_clock;
	saved->set = 1;
	tl_clock.ctx = self;
	tl_clock.now = now;
	return 0;
}

static void clock_end(const clock_slot *saved)
{
	if (saved->set)
		tl_clock = saved->prev;
}

/* clock_begin() when the call reads the clock (it ends "now"). */
static int clock_if(CtxObject *self, int needed, clock_slot *saved)
{
	saved->set = 0;
	return needed ? clock_begin(self, saved) : 0;
}

/* A window that ends "watermark" (CXM_WATERMARK) ends with the finest
 * bucket of the newest interaction accepted; while there is none, libcxm
 * reads the clock instead, and a Python clock must not be called from
 * there (see above). So the binding passes CXM_WATERMARK only once the
 * context has a watermark, and before that CXM_NOW, the clock read by
 * the binding exactly as for end=None. A watermark never goes back to
 * none (cxm_rewind() moves it to an instant, a snapshot loads only into an
 * empty context, a merge only raises it), so once seen it is not asked
 * for again (cxm_stats_get() takes every shard's lock). */
static int64_t end_resolve(CtxObject *self, int64_t end)
{
	if (end != CXM_WATERMARK)
		return end;
	if (!self->has_wm) {
		cxm_stats s;
		s.size = sizeof s;
		if (cxm_stats_get(&s, self->ctx) == CXM_OK && s.watermark_ms >= 0) {
			self->wm_seen = s.watermark_ms;
			self->has_wm = 1;
		}
	}
	return self->has_wm ? CXM_WATERMARK : CXM_NOW;
}

/* A query with its end resolved: *q copied to *tmp. */
static const cxm_query *query_resolved(CtxObject *self, const cxm_query *q, cxm_query *tmp)
{
	*tmp = *q;
	tmp->end_ms = end_resolve(self, q->end_ms);
	return tmp;
}

/* The clock for a call whose windows end at a and b (resolved ends): read
 * when one ends "now". One that ends "watermark" reads no clock, but a
 * merge raises the shards' watermarks just before the context's: a query
 * that meets it in between would make libcxm read the clock, so a
 * Python clock's slot holds the watermark the binding saw, which is what
 * that query means. */
static int clock_for(CtxObject *self, int64_t a, int64_t b, clock_slot *saved)
{
	saved->set = 0;
	if (a == CXM_NOW || b == CXM_NOW)
		return clock_begin(self, saved);
	if ((a == CXM_WATERMARK || b == CXM_WATERMARK) && self->clock) {
		saved->prev = tl_clock;
		saved->set = 1;
		tl_clock.ctx = self;
		tl_clock.now = self->wm_seen;
	}
	return 0;
}

/* libcxm's clock hook when the context has a Python clock: the value read
 * by clock_begin() on this thread. A libcxm call that reads the clock
 * without one (none does today) calls Python here, with the GIL taken;
 * a failure then can only be reported as unraisable. */
static int64_t py_clock(void *opaque)
{
	CtxObject *self = opaque;
	if (tl_clock.ctx == self)
		return tl_clock.now;
	PyGILState_STATE g = PyGILState_Ensure();
	int64_t now = self->last_clock;
	if (!self->clock || call_clock(self, &now) < 0) {
		if (!PyErr_Occurred())
			PyErr_SetString(PyExc_ValueError, "the context has no clock");
		PyErr_WriteUnraisable(self->clock ? self->clock : Py_None);
		now = self->last_clock;
	}
	PyGILState_Release(g);
	return now;
}

static int set_u32(PyObject *v, uint32_t *dst, const char *what)
{
	return conv_u32(v, dst, what);
}

static int zero_refused(const char *what)
{
	return fail_fmt(CXM_ERR_OUT_OF_RANGE, "%s=0 would be replaced by libcxm's default: give a "
			"positive value, or leave it out (or give None) for the default", what);
}

static int ctx_init(PyObject *self_, PyObject *args, PyObject *kw)
{
	CtxObject *self = (CtxObject *)self_;
	if (self->ctx) {
		PyErr_SetString(PyExc_RuntimeError, "the context is already open");
		return -1;
	}
	if (args && PyTuple_Size(args)) {
		PyErr_SetString(PyExc_TypeError, "Context() takes keyword arguments only");
		return -1;
	}
	cxm_config cfg;
	cxm_config_init(&cfg, sizeof cfg);
	PyObject *clock = NULL;
	if (kw) {
		Py_ssize_t pos = 0;
		PyObject *k, *v;
		static const struct {
			const char *name;
			size_t off;
		} u32[] = {
			{"shards", offsetof(cxm_config, shards)},
			{"max_journeys", offsetof(cxm_config, max_journeys)},
			{"max_steps", offsetof(cxm_config, max_steps)},
			{"max_touchpoints", offsetof(cxm_config, max_touchpoints)},
			{"max_metrics", offsetof(cxm_config, max_metrics)},
			{"max_segments", offsetof(cxm_config, max_segments)},
			{"max_segment_values", offsetof(cxm_config, max_segment_values)},
			{"max_name_len", offsetof(cxm_config, max_name_len)},
			{"max_customer_id_len", offsetof(cxm_config, max_customer_id_len)},
			{"max_measures", offsetof(cxm_config, max_measures)},
			{"min_samples", offsetof(cxm_config, min_samples)},
			{"max_customers", offsetof(cxm_config, max_customers)},
			{"customer_policy", offsetof(cxm_config, customer_policy)},
			{"max_triggers", offsetof(cxm_config, max_triggers)},
			{"event_queue", offsetof(cxm_config, event_queue)},
		};
		while (PyDict_Next(kw, &pos, &k, &v)) {
			size_t i;
			for (i = 0; i < sizeof u32 / sizeof u32[0]; i++)
				if (PyUnicode_CompareWithASCIIString(k, u32[i].name) == 0)
					break;
			int is_u32 = i < sizeof u32 / sizeof u32[0];
			static const char *const others[] = {"max_future_ms", "max_series", "confidence",
							     "customer_key", "tiers", "clock"};
			size_t o;
			for (o = 0; o < sizeof others / sizeof others[0]; o++)
				if (PyUnicode_CompareWithASCIIString(k, others[o]) == 0)
					break;
			if (!is_u32 && o == sizeof others / sizeof others[0]) {
				PyErr_Format(PyExc_TypeError, "Context() got an unexpected keyword argument '%S'", k);
				return -1;
			}
			if (v == Py_None)
				continue; /* None, like a key left out: libcxm's default */
			/* libcxm reads 0 (and an all-zero key) as "the default": a 0
			 * given here would be silently replaced, so it is refused */
			if (is_u32) {
				uint32_t *dst = (uint32_t *)(void *)((char *)&cfg + u32[i].off);
				if (set_u32(v, dst, u32[i].name) < 0)
					return -1;
				if (*dst == 0 && strcmp(u32[i].name, "customer_policy") != 0)
					return zero_refused(u32[i].name);
			} else if (o == 0) { /* max_future_ms */
				if (index_int64(v, &cfg.max_future_ms, "max_future_ms") < 0)
					return -1;
				if (cfg.max_future_ms == 0)
					return zero_refused("max_future");
			} else if (o == 1) { /* max_series */
				int64_t x = 0;
				if (index_int64(v, &x, "max_series") < 0)
					return -1;
				if (x < 0) {
					raise_msg(CXM_ERR_OUT_OF_RANGE, "max_series must not be negative");
					return -1;
				}
				if (x == 0)
					return zero_refused("max_series");
				cfg.max_series = (uint64_t)x;
			} else if (o == 2) { /* confidence */
				if (conv_real(v, &cfg.confidence, "confidence") < 0)
					return -1;
				if (cfg.confidence == 0.0)
					return zero_refused("confidence");
			} else if (o == 3) { /* customer_key */
				char *p;
				Py_ssize_t n;
				if (!PyBytes_Check(v) || PyBytes_AsStringAndSize(v, &p, &n) < 0 || n != 16) {
					if (!PyErr_Occurred())
						PyErr_SetString(PyExc_TypeError, "customer_key must be 16 bytes");
					return -1;
				}
				memcpy(cfg.customer_key, p, 16);
				static const uint8_t zero[16];
				if (memcmp(cfg.customer_key, zero, 16) == 0)
					return fail_fmt(CXM_ERR_INVALID,
							"customer_key of 16 zero bytes would mean a random key; "
							"leave it out (or give None) for a random key");
			} else if (o == 4) { /* tiers */
				if (IS_STR(v) || PyBytes_Check(v)) {
					PyErr_SetString(PyExc_TypeError,
							"tiers is a sequence of (bucket_ms, buckets) pairs, not a string");
					return -1;
				}
				PyObject *seq = PySequence_Tuple(v);
				if (!seq)
					return -1;
				Py_ssize_t n = PyTuple_Size(seq);
				if (n > CXM_MAX_TIERS) {
					Py_DECREF(seq);
					raise_msg(CXM_ERR_OUT_OF_RANGE, "more tiers than CXM_MAX_TIERS (4)");
					return -1;
				}
				if (n == 0) {
					Py_DECREF(seq);
					return fail_fmt(CXM_ERR_OUT_OF_RANGE, "tiers=[] would be replaced by "
							"libcxm's default tiers: give at least one, or leave it "
							"out (or give None) for the default");
				}
				cfg.n_tiers = (uint32_t)n;
				for (Py_ssize_t t = 0; t < n; t++) {
					PyObject *tier = PyTuple_GetItem(seq, t);
					PyObject *w = NULL, *c = NULL;
					if (PyTuple_Check(tier) && PyTuple_Size(tier) == 2) {
						w = PyTuple_GetItem(tier, 0);
						c = PyTuple_GetItem(tier, 1);
					}
					int rc = w ? index_int64(w, &cfg.tiers[t].bucket_ms, "bucket_ms") : -1;
					if (rc == 0)
						rc = set_u32(c, &cfg.tiers[t].buckets, "buckets");
					if (rc) {
						Py_DECREF(seq);
						if (!PyErr_Occurred() || !w)
							PyErr_SetString(PyExc_TypeError,
									"a tier is a (bucket_ms, buckets) pair of ints");
						return -1;
					}
				}
				Py_DECREF(seq);
			} else { /* clock */
				if (!PyCallable_Check(v)) {
					PyErr_SetString(PyExc_TypeError, "clock must be callable");
					return -1;
				}
				clock = v;
			}
		}
	}
	if (clock) {
		Py_INCREF(clock);
		XSETREF(self->clock, clock);
		cfg.clock = py_clock;
		cfg.clock_opaque = self;
	}
	cxm_context *ctx;
	cxm_status st = cxm_context_new(&ctx, &cfg);
	if (st) {
		Py_CLEAR(self->clock);
		raise_status(st, NULL);
		return -1;
	}
	self->ctx = ctx;
	self->has_wm = 0;
	return 0;
}

static int ctx_traverse(PyObject *self, visitproc visit, void *arg)
{
	if (rt_hexversion >= 0x03090000)
		Py_VISIT((PyObject *)Py_TYPE(self));
	Py_VISIT(((CtxObject *)self)->clock);
	return 0;
}

static int ctx_clear(PyObject *self)
{
	Py_CLEAR(((CtxObject *)self)->clock);
	return 0;
}

static void ctx_dealloc(PyObject *self_)
{
	CtxObject *self = (CtxObject *)self_;
	PyTypeObject *tp = Py_TYPE(self_);
	PyObject_GC_UnTrack(self_);
	if (self->ctx)
		release_ctx(self);
	Py_CLEAR(self->clock);
	freefunc f = (freefunc)PyType_GetSlot(tp, Py_tp_free);
	f(self_);
	Py_DECREF(tp);
}

static PyObject *ctx_close(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
			   PyObject *kwnames)
{
	CtxObject *self = (CtxObject *)self_;
	if (nargs_between("close", nargs, 0, 0) || no_kwargs("close", kwnames))
		return NULL;
	if (self->ctx) {
		if (self->busy)
			self->closing = 1; /* the outermost running call frees it */
		else
			release_ctx(self);
	}
	Py_RETURN_NONE;
}
SHIM_CTX(ctx_close)

static PyObject *ctx_enter(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
			   PyObject *kwnames)
{
	if (nargs_between("__enter__", nargs, 0, 0) || no_kwargs("__enter__", kwnames) ||
	    !live((CtxObject *)self_))
		return NULL;
	Py_INCREF(self_);
	return self_;
}
SHIM_CTX(ctx_enter)

static PyObject *ctx_exit(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
			  PyObject *kwnames)
{
	PyObject *r = ctx_close(self_, NULL, 0, NULL);
	Py_XDECREF(r);
	if (!r)
		return NULL;
	Py_RETURN_FALSE;
}
SHIM_CTX(ctx_exit)

static PyObject *ctx_get_closed(PyObject *self_, void *c)
{
	CtxObject *self = (CtxObject *)self_;
	return PyBool_FromLong(!self->ctx || self->closing);
}

/* ---- definitions ---- */

static PyObject *ret_id(cxm_status st, cxm_context *ctx, uint32_t id)
{
	if (st)
		return raise_status(st, ctx);
	return PyLong_FromUnsignedLong(id);
}

static PyObject *ctx_journey_define(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				    PyObject *kwnames)
{
	cxm_context *ctx;
	if (nargs_between("_journey_define", nargs, 2, 2) || no_kwargs("_journey_define", kwnames) ||
	    !(ctx = live((CtxObject *)self_)))
		return NULL;
	if (IS_STR(args[1]) || PyBytes_Check(args[1])) {
		/* "abc" would be the steps a, b, c */
		PyErr_SetString(PyExc_TypeError, "steps must be a sequence of step names, not a string");
		return NULL;
	}
	PyObject *kname, *seq = PySequence_Tuple(args[1]);
	if (!seq)
		return NULL;
	Py_ssize_t n = PyTuple_Size(seq);
	const char **steps = PyMem_Malloc(sizeof(char *) * (size_t)(n ? n : 1));
	PyObject **keeps = PyMem_Calloc((size_t)(n ? n : 1), sizeof(PyObject *));
	PyObject *result = NULL;
	const char *name = NULL;
	if (!steps || !keeps) {
		PyErr_NoMemory();
		goto out;
	}
	for (Py_ssize_t i = 0; i < n; i++)
		if (!(steps[i] = name_of(PyTuple_GetItem(seq, i), &keeps[i], "a step name")))
			goto out;
	if (!(name = name_of(args[0], &kname, "a journey name")))
		goto out;
	cxm_id id;
	cxm_status st_ = cxm_journey_define(&id, ctx, name, steps, (size_t)n);
	result = ret_id(st_, ctx, id);
	Py_XDECREF(kname);
out:
	if (keeps)
		for (Py_ssize_t i = 0; i < n; i++)
			Py_XDECREF(keeps[i]);
	PyMem_Free(keeps);
	PyMem_Free(steps);
	Py_DECREF(seq);
	return result;
}
SHIM_CTX(ctx_journey_define)

static int conv_opt_id(PyObject *o, cxm_id *out, const char *what)
{
	if (o == Py_None) {
		*out = CXM_NONE;
		return 0;
	}
	return conv_id(NULL, o, 0, out, what);
}

static PyObject *ctx_touchpoint_define(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				       PyObject *kwnames)
{
	cxm_context *ctx;
	if (nargs_between("_touchpoint_define", nargs, 4, 4) ||
	    no_kwargs("_touchpoint_define", kwnames) || !(ctx = live((CtxObject *)self_)))
		return NULL;
	uint32_t channel;
	cxm_id journey, step;
	PyObject *keep;
	if (conv_u32(args[1], &channel, "channel") < 0 || conv_opt_id(args[2], &journey, "journey") < 0 ||
	    conv_opt_id(args[3], &step, "step") < 0)
		return NULL;
	const char *name = name_of(args[0], &keep, "a touchpoint name");
	if (!name)
		return NULL;
	cxm_id id;
	cxm_status st = cxm_touchpoint_define(&id, ctx, name, (cxm_channel)channel, journey, step);
	Py_XDECREF(keep);
	return ret_id(st, ctx, id);
}
SHIM_CTX(ctx_touchpoint_define)

/* cxm_metric_def <-> dict, with the package's MetricDef field names. */
static PyObject *def_to_dict(const cxm_metric_def *d)
{
	PyObject *top = PyTuple_New(d->questions), *bottom = PyTuple_New(d->questions);
	if (!top || !bottom)
		goto fail;
	for (uint32_t q = 0; q < d->questions && q < CXM_MAX_QUESTIONS; q++) {
		PyTuple_SetItem(top, q, PyLong_FromLong(d->top_min[q]));
		PyTuple_SetItem(bottom, q, PyLong_FromLong(d->bottom_max[q]));
	}
	PyObject *na = d->has_na ? PyLong_FromLong(d->na_value) : (Py_INCREF(Py_None), Py_None);
	PyObject *r = Py_BuildValue(
		"{s:i,s:i,s:i,s:i,s:I,s:N,s:N,s:N,s:d,s:d,s:d,s:I}", "kind", (int)d->kind, "headline",
		(int)d->headline, "scale_min", (int)d->scale_min, "scale_max", (int)d->scale_max,
		"questions", (unsigned)d->questions, "na", na, "top_min", top, "bottom_max", bottom,
		"duration_lo", d->duration_lo, "duration_hi", d->duration_hi, "relative_error",
		d->relative_error, "precision", (unsigned)d->precision);
	return r;
fail:
	Py_XDECREF(top);
	Py_XDECREF(bottom);
	return NULL;
}

/* An int field of a metric definition: refused (never clamped) outside
 * the 32 bits of the C field. */
static int obj_int32(PyObject *v, int32_t *out, const char *what)
{
	int64_t x = 0;
	if (index_int64(v, &x, what) < 0)
		return -1;
	if (x < INT32_MIN || x > INT32_MAX)
		return fail_fmt(CXM_ERR_OUT_OF_RANGE, "%s %lld does not fit in 32 bits", what,
				(long long)x);
	*out = (int32_t)x;
	return 0;
}

static int dict_int(PyObject *d, const char *key, int32_t *out)
{
	PyObject *v = PyDict_GetItemString(d, key);
	return v ? obj_int32(v, out, key) : 0;
}

static int dict_double(PyObject *d, const char *key, double *out)
{
	PyObject *v = PyDict_GetItemString(d, key);
	return v ? conv_real(v, out, key) : 0;
}

static int dict_to_def(PyObject *d, cxm_metric_def *def)
{
	int32_t kind = 0, headline = 0, questions = 1, precision = 0;
	cxm_metric_def_init(def, sizeof *def);
	if (!PyDict_Check(d)) {
		PyErr_SetString(PyExc_TypeError, "a metric definition is a preset number or a dict");
		return -1;
	}
	if (dict_int(d, "kind", &kind) || dict_int(d, "headline", &headline) ||
	    dict_int(d, "scale_min", &def->scale_min) || dict_int(d, "scale_max", &def->scale_max) ||
	    dict_int(d, "questions", &questions) || dict_int(d, "precision", &precision) ||
	    dict_double(d, "duration_lo", &def->duration_lo) ||
	    dict_double(d, "duration_hi", &def->duration_hi) ||
	    dict_double(d, "relative_error", &def->relative_error))
		return -1;
	if (questions < 0 || precision < 0)
		return fail_fmt(CXM_ERR_OUT_OF_RANGE, "%s %d is negative",
				questions < 0 ? "questions" : "precision",
				questions < 0 ? (int)questions : (int)precision);
	def->kind = (cxm_metric_kind)kind;
	def->headline = (cxm_headline)headline;
	def->questions = (uint32_t)questions;
	def->precision = (uint32_t)precision;
	PyObject *na = PyDict_GetItemString(d, "na");
	if (na && na != Py_None) {
		def->has_na = 1;
		if (obj_int32(na, &def->na_value, "na") < 0)
			return -1;
	}
	const char *boxes[2] = {"top_min", "bottom_max"};
	int32_t *dst[2] = {def->top_min, def->bottom_max};
	for (int k = 0; k < 2; k++) {
		PyObject *v = PyDict_GetItemString(d, boxes[k]);
		if (!v)
			continue;
		PyObject *seq = PySequence_Tuple(v);
		if (!seq)
			return -1;
		Py_ssize_t n = PyTuple_Size(seq);
		if (n > CXM_MAX_QUESTIONS) {
			Py_DECREF(seq);
			raise_msg(CXM_ERR_OUT_OF_RANGE, "more boxes than CXM_MAX_QUESTIONS (8)");
			return -1;
		}
		for (Py_ssize_t q = 0; q < n; q++)
			if (obj_int32(PyTuple_GetItem(seq, q), &dst[k][q], boxes[k]) < 0) {
				Py_DECREF(seq);
				return -1;
			}
		Py_DECREF(seq);
	}
	return 0;
}

static PyObject *ctx_metric_define(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				   PyObject *kwnames)
{
	cxm_context *ctx;
	if (nargs_between("_metric_define", nargs, 2, 2) || no_kwargs("_metric_define", kwnames) ||
	    !(ctx = live((CtxObject *)self_)))
		return NULL;
	cxm_metric_def def;
	cxm_metric_def_init(&def, sizeof def);
	if (PyLong_Check(args[1])) {
		uint32_t preset;
		if (conv_u32(args[1], &preset, "preset") < 0)
			return NULL;
		cxm_status st = cxm_metric_preset(&def, (cxm_preset)preset);
		if (st)
			return raise_status(st, NULL);
	} else if (dict_to_def(args[1], &def) < 0) {
		return NULL;
	}
	PyObject *keep;
	const char *name = name_of(args[0], &keep, "a metric name");
	if (!name)
		return NULL;
	cxm_id id;
	cxm_status st = cxm_metric_define(&id, ctx, name, &def);
	Py_XDECREF(keep);
	return ret_id(st, ctx, id);
}
SHIM_CTX(ctx_metric_define)

static PyObject *ctx_metric_get(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				PyObject *kwnames)
{
	cxm_context *ctx;
	cxm_id id;
	if (nargs_between("_metric_get", nargs, 1, 1) || no_kwargs("_metric_get", kwnames) ||
	    !(ctx = live((CtxObject *)self_)) || conv_id(ctx, args[0], CXM_OBJECT_METRIC, &id, NULL) < 0)
		return NULL;
	cxm_metric_def def;
	cxm_metric_def_init(&def, sizeof def);
	cxm_status st = cxm_metric_get(&def, ctx, id);
	if (st)
		return raise_status(st, ctx);
	return def_to_dict(&def);
}
SHIM_CTX(ctx_metric_get)

static PyObject *ctx_segment_define(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				    PyObject *kwnames)
{
	cxm_context *ctx;
	uint32_t maxv;
	if (nargs_between("_segment_define", nargs, 2, 2) || no_kwargs("_segment_define", kwnames) ||
	    !(ctx = live((CtxObject *)self_)) || conv_u32(args[1], &maxv, "max_values") < 0)
		return NULL;
	PyObject *keep;
	const char *name = name_of(args[0], &keep, "a segment name");
	if (!name)
		return NULL;
	cxm_id id;
	cxm_status st = cxm_segment_define(&id, ctx, name, maxv);
	Py_XDECREF(keep);
	return ret_id(st, ctx, id);
}
SHIM_CTX(ctx_segment_define)

/* _segment_value(segment, name, add): the value's id. */
static PyObject *ctx_segment_value(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				   PyObject *kwnames)
{
	cxm_context *ctx;
	cxm_id seg;
	if (nargs_between("_segment_value", nargs, 3, 3) || no_kwargs("_segment_value", kwnames) ||
	    !(ctx = live((CtxObject *)self_)) || conv_id(ctx, args[0], CXM_OBJECT_SEGMENT, &seg, NULL) < 0)
		return NULL;
	int add = PyObject_IsTrue(args[2]);
	if (add < 0)
		return NULL;
	PyObject *keep;
	const char *name = name_of(args[1], &keep, "a segment value");
	if (!name)
		return NULL;
	uint32_t v;
	cxm_status st = add ? cxm_segment_value(&v, ctx, seg, name)
			    : cxm_segment_value_find(&v, ctx, seg, name);
	Py_XDECREF(keep);
	return ret_id(st, ctx, v);
}
SHIM_CTX(ctx_segment_value)

static PyObject *ctx_segment_value_name(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
					PyObject *kwnames)
{
	cxm_context *ctx;
	cxm_id seg, val;
	if (nargs_between("_segment_value_name", nargs, 2, 2) ||
	    no_kwargs("_segment_value_name", kwnames) || !(ctx = live((CtxObject *)self_)) ||
	    conv_id(ctx, args[0], CXM_OBJECT_SEGMENT, &seg, NULL) < 0 || conv_id(ctx, args[1], 0, &val, "segment value") < 0)
		return NULL;
	const char *name;
	cxm_status st = cxm_segment_value_name(&name, ctx, seg, val);
	if (st)
		return raise_status(st, ctx);
	return PyUnicode_FromString(name);
}
SHIM_CTX(ctx_segment_value_name)

static PyObject *ctx_segment_values(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				    PyObject *kwnames)
{
	cxm_context *ctx;
	cxm_id seg;
	if (nargs_between("_segment_values", nargs, 1, 1) || no_kwargs("_segment_values", kwnames) ||
	    !(ctx = live((CtxObject *)self_)) || conv_id(ctx, args[0], CXM_OBJECT_SEGMENT, &seg, NULL) < 0)
		return NULL;
	uint32_t n;
	cxm_status st_ = cxm_segment_values(&n, ctx, seg);
	return ret_id(st_, ctx, n);
}
SHIM_CTX(ctx_segment_values)

static PyObject *ctx_count(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
			   PyObject *kwnames)
{
	cxm_context *ctx;
	uint32_t kind;
	if (nargs_between("_count", nargs, 1, 1) || no_kwargs("_count", kwnames) ||
	    !(ctx = live((CtxObject *)self_)) || conv_u32(args[0], &kind, "kind") < 0)
		return NULL;
	uint32_t n;
	cxm_status st_ = cxm_count(&n, ctx, (cxm_object)kind);
	return ret_id(st_, ctx, n);
}
SHIM_CTX(ctx_count)

static PyObject *ctx_find(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
			  PyObject *kwnames)
{
	cxm_context *ctx;
	uint32_t kind;
	if (nargs_between("_find", nargs, 2, 2) || no_kwargs("_find", kwnames) ||
	    !(ctx = live((CtxObject *)self_)) || conv_u32(args[0], &kind, "kind") < 0)
		return NULL;
	PyObject *keep;
	const char *name = name_of(args[1], &keep, "a name");
	if (!name)
		return NULL;
	cxm_id id;
	cxm_status st = cxm_find(&id, ctx, (cxm_object)kind, name);
	Py_XDECREF(keep);
	return ret_id(st, ctx, id);
}
SHIM_CTX(ctx_find)

static PyObject *ctx_name(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
			  PyObject *kwnames)
{
	cxm_context *ctx;
	uint32_t kind;
	cxm_id id;
	if (nargs_between("_name", nargs, 2, 2) || no_kwargs("_name", kwnames) ||
	    !(ctx = live((CtxObject *)self_)) || conv_u32(args[0], &kind, "kind") < 0 ||
	    conv_id(ctx, args[1], 0, &id, kind_what((cxm_object)kind)) < 0)
		return NULL;
	const char *name;
	cxm_status st = cxm_name(&name, ctx, (cxm_object)kind, id);
	if (st)
		return raise_status(st, ctx);
	return PyUnicode_FromString(name);
}
SHIM_CTX(ctx_name)

static PyObject *ctx_journey_steps(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				   PyObject *kwnames)
{
	cxm_context *ctx;
	cxm_id j;
	if (nargs_between("_journey_steps", nargs, 1, 1) || no_kwargs("_journey_steps", kwnames) ||
	    !(ctx = live((CtxObject *)self_)) || conv_id(ctx, args[0], CXM_OBJECT_JOURNEY, &j, NULL) < 0)
		return NULL;
	uint32_t n;
	cxm_status st_ = cxm_journey_steps(&n, ctx, j);
	return ret_id(st_, ctx, n);
}
SHIM_CTX(ctx_journey_steps)

static PyObject *ctx_step_name(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
			       PyObject *kwnames)
{
	cxm_context *ctx;
	cxm_id j, s;
	if (nargs_between("_step_name", nargs, 2, 2) || no_kwargs("_step_name", kwnames) ||
	    !(ctx = live((CtxObject *)self_)) || conv_id(ctx, args[0], CXM_OBJECT_JOURNEY, &j, NULL) < 0 ||
	    conv_id(ctx, args[1], 0, &s, "step") < 0)
		return NULL;
	const char *name;
	cxm_status st = cxm_step_name(&name, ctx, j, s);
	if (st)
		return raise_status(st, ctx);
	return PyUnicode_FromString(name);
}
SHIM_CTX(ctx_step_name)

static PyObject *ctx_step_find(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
			       PyObject *kwnames)
{
	cxm_context *ctx;
	cxm_id j;
	if (nargs_between("_step_find", nargs, 2, 2) || no_kwargs("_step_find", kwnames) ||
	    !(ctx = live((CtxObject *)self_)) || conv_id(ctx, args[0], CXM_OBJECT_JOURNEY, &j, NULL) < 0)
		return NULL;
	PyObject *keep;
	const char *name = name_of(args[1], &keep, "a step name");
	if (!name)
		return NULL;
	cxm_id id;
	cxm_status st = cxm_step_find(&id, ctx, j, name);
	Py_XDECREF(keep);
	return ret_id(st, ctx, id);
}
SHIM_CTX(ctx_step_find)

static PyObject *opt_id(cxm_id id)
{
	if (id == CXM_NONE)
		Py_RETURN_NONE;
	return PyLong_FromUnsignedLong(id);
}

static PyObject *ctx_touchpoint_get(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				    PyObject *kwnames)
{
	cxm_context *ctx;
	cxm_id tp;
	if (nargs_between("_touchpoint_get", nargs, 1, 1) || no_kwargs("_touchpoint_get", kwnames) ||
	    !(ctx = live((CtxObject *)self_)) || conv_id(ctx, args[0], CXM_OBJECT_TOUCHPOINT, &tp, NULL) < 0)
		return NULL;
	cxm_channel ch;
	cxm_id j, s;
	cxm_status st = cxm_touchpoint_get(&ch, &j, &s, ctx, tp);
	if (st)
		return raise_status(st, ctx);
	return Py_BuildValue("(iNN)", (int)ch, opt_id(j), opt_id(s));
}
SHIM_CTX(ctx_touchpoint_get)

/* ---- feeding ---- */

static argspec feed_spec = {"feed", 5, 2, 5,
			    {"time", "touchpoint", "measures", "customer", "segments"}, {0}};

/* feed(time, touchpoint, measures=None, customer=None, segments=None) */
static PyObject *ctx_feed(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
			  PyObject *kwnames)
{
	PyObject *a[5];
	cxm_context *ctx;
	if (parse(&feed_spec, args, nargs, kwnames, a) < 0 || !(ctx = live((CtxObject *)self_)))
		return NULL;
	cxm_interaction one;
	cxm_measure ms[16];
	uint32_t segs[MAX_DIMS];
	pending pd; /* not zeroed: only its count */
	pd.n = 0;
	builder b = {ctx,
		     {&one, 0, 1, sizeof(cxm_interaction), 0},
		     {ms, 0, 16, sizeof(cxm_measure), 0},
		     {segs, 0, MAX_DIMS, sizeof(uint32_t), 0},
		     VEC(PyObject *),
		     VEC(Py_ssize_t),
		     0,
		     &pd};
	PyObject *r = NULL;
	clock_slot saved;
	if (add_interaction(&b, a[0], a[1], a[2], a[3], a[4], 0) == 0 &&
	    clock_begin((CtxObject *)self_, &saved) == 0) {
		cxm_status st = CXM_OK;
		if (pd.n) {
			/* new segment values: defined only if the interaction, with
			 * those dimensions at CXM_NONE, would be accepted */
			cxm_interaction x;
			ix_at(&b, 0, &x);
			st = cxm_feed_check(ctx, &x);
			if (!st)
				st = define_pending(&b);
		}
		if (!st) {
			fix(&b, 1);
			st = cxm_feed(ctx, VEC_AT(b.ix, cxm_interaction));
		}
		clock_end(&saved);
		if (st)
			raise_status(st, ctx);
		else
			r = (Py_INCREF(Py_None), Py_None);
	}
	pend_clear(&b);
	drop_refs(&b);
	vec_free(&b.ix);
	vec_free(&b.ms);
	vec_free(&b.seg);
	vec_free(&b.keep);
	return r;
}
SHIM_CTX(ctx_feed)

/* Rejections as the package reports them: a list of (index, code, reason). */
static int add_rejection(PyObject *list, Py_ssize_t index, int code, PyObject *reason)
{
	PyObject *t = reason ? Py_BuildValue("(niO)", index, code, reason)
			     : Py_BuildValue("(nis)", index, code, cxm_strerror(code));
	if (!t)
		return -1;
	int rc = PyList_Append(list, t);
	Py_DECREF(t);
	return rc;
}

/* The current exception, if it is about the row's data, as a rejection. */
static int reject_current(PyObject *list, Py_ssize_t index)
{
	if (!PyErr_ExceptionMatches(PyExc_TypeError) && !PyErr_ExceptionMatches(PyExc_ValueError) &&
	    !PyErr_ExceptionMatches(PyExc_LookupError) && !PyErr_ExceptionMatches(PyExc_OverflowError) &&
	    !(PyErr_ExceptionMatches(Error) && !PyErr_ExceptionMatches(PyExc_MemoryError)))
		return -1; /* not the row's fault: propagate */
	PyObject *type, *value, *tb;
	PyErr_Fetch(&type, &value, &tb);
	PyErr_NormalizeException(&type, &value, &tb);
	int code = CXM_ERR_INVALID;
	if (value && PyObject_IsInstance(value, Error) == 1) {
		PyObject *c = PyObject_GetAttr(value, str_code);
		if (c && PyLong_Check(c))
			code = (int)PyLong_AsLong(c);
		Py_XDECREF(c);
		PyErr_Clear();
	}
	PyObject *reason = value ? PyObject_Str(value) : NULL;
	if (reason && PyUnicode_GetLength(reason) == 0 && type) {
		Py_DECREF(reason);
		reason = PyObject_GetAttrString(type, "__name__");
	}
	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(tb);
	if (!reason)
		return -1;
	int rc = add_rejection(list, index, code, reason);
	Py_DECREF(reason);
	return rc;
}

typedef struct {
	size_t accepted;
	size_t rejected;
	PyObject *list;
} report;

static PyObject *bulk_hook; /* cxm._bulk_failure, set by the package */

/* The exception set stopped a bulk feed at input row `index`: every row
 * before it was handled (accepted, or rejected and listed in rep), none
 * from it on was fed. The exception is replaced by what the package's hook
 * makes of it: a BulkFeedError raised from it, which carries the report
 * (or, for KeyboardInterrupt and other BaseExceptions that are not
 * Exceptions, the same exception with the report as attributes). */
static void bulk_fail(const report *rep, Py_ssize_t index, const char *what)
{
	PyObject *t, *v, *tb;
	PyErr_Fetch(&t, &v, &tb);
	PyErr_NormalizeException(&t, &v, &tb);
	if (!v || !bulk_hook) {
		PyErr_Restore(t, v, tb);
		return;
	}
	if (tb)
		PyException_SetTraceback(v, tb);
	/* rejections are listed as they happen (the binding's at once, the
	 * batch's per chunk): in row order, and only those before index */
	size_t rejected = rep->rejected;
	PyObject *lst = PyList_New(0), *r = NULL;
	Py_ssize_t n = rep->list ? PyList_Size(rep->list) : 0;
	for (Py_ssize_t i = 0; lst && i < n; i++) {
		PyObject *item = PyList_GetItem(rep->list, i);
		PyObject *ix = item ? PyTuple_GetItem(item, 0) : NULL;
		Py_ssize_t at = ix ? PyLong_AsSsize_t(ix) : -1;
		if (at == -1 && PyErr_Occurred())
			Py_CLEAR(lst);
		else if (at >= index)
			rejected--;
		else if (PyList_Append(lst, item) < 0)
			Py_CLEAR(lst);
	}
	if (lst && PyList_Sort(lst) == 0)
		r = PyObject_CallFunction(bulk_hook, "OnnOns", v, (Py_ssize_t)rep->accepted,
					  (Py_ssize_t)rejected, lst, index, what);
	Py_XDECREF(lst);
	if (!r) { /* the hook failed (out of memory): the original, as it was */
		PyErr_Clear();
		PyErr_Restore(t, v, tb);
		return;
	}
	Py_XDECREF(t);
	Py_XDECREF(v);
	Py_XDECREF(tb);
	PyErr_SetObject((PyObject *)Py_TYPE(r), r);
	Py_DECREF(r);
}

/* Remove the first n interactions from the builder, with their measures,
 * segment values and sources; keep0 references of b->keep are theirs. What
 * follows them (the last row, kept for define_pending()) moves to the
 * front, its offsets into the pools adjusted. */
static void drop_front(builder *b, size_t n, size_t keep0)
{
	cxm_interaction *ix = VEC_AT(b->ix, cxm_interaction);
	size_t rest = b->ix.n - n;
	if (!rest) {
		b->ix.n = b->ms.n = b->seg.n = b->src.n = 0;
		drop_refs(b);
		return;
	}
	/* the rest's measures and segment values are at the pools' ends */
	size_t ms0 = (uintptr_t)ix[n].measures, seg0 = (uintptr_t)ix[n].segments;
	if (b->ms.n > ms0)
		memmove(VEC_AT(b->ms, cxm_measure), VEC_AT(b->ms, cxm_measure) + ms0,
			(b->ms.n - ms0) * sizeof(cxm_measure));
	if (b->seg.n > seg0)
		memmove(VEC_AT(b->seg, uint32_t), VEC_AT(b->seg, uint32_t) + seg0,
			(b->seg.n - seg0) * sizeof(uint32_t));
	b->ms.n -= ms0;
	b->seg.n -= seg0;
	for (size_t i = 0; i < rest; i++) {
		ix[i] = ix[n + i];
		ix[i].measures = (const cxm_measure *)((uintptr_t)ix[i].measures - ms0);
		ix[i].segments = (const uint32_t *)((uintptr_t)ix[i].segments - seg0);
		VEC_AT(b->src, Py_ssize_t)[i] = VEC_AT(b->src, Py_ssize_t)[n + i];
	}
	b->ix.n = b->src.n = rest;
	PyObject **k = VEC_AT(b->keep, PyObject *);
	for (size_t i = 0; i < keep0; i++)
		Py_DECREF(k[i]);
	if (b->keep.n > keep0)
		memmove(k, k + keep0, (b->keep.n - keep0) * sizeof(PyObject *));
	b->keep.n -= keep0;
}

/* Feed the builder's first n interactions as one batch, the GIL released,
 * and remove them (keep0: their references in b->keep). On failure an
 * exception is set: -1 when none of them was fed (the clock raised, or
 * libcxm refused the whole batch), -2 when they were fed but listing a
 * rejection failed (out of memory). */
static int flush_n(CtxObject *self, builder *b, size_t n, size_t keep0, cxm_rejection *rej,
		   report *rep)
{
	if (!n)
		return 0;
	fix(b, n);
	size_t acc = 0, nrej = 0;
	cxm_context *ctx = self->ctx;
	cxm_status st;
	clock_slot saved;
	int rc = 0;
	if (clock_begin(self, &saved) < 0) {
		rc = -1;
		goto reset;
	}
	NOGIL_BEGIN(self);
	st = cxm_feed_batch(&acc, self->ctx, VEC_AT(b->ix, cxm_interaction), n, rej, n, &nrej);
	NOGIL_END(self);
	clock_end(&saved);
	if (st && st != CXM_ERR_REJECTED) {
		raise_status(st, ctx);
		rc = -1;
	} else {
		rep->accepted += acc;
		rep->rejected += nrej;
		for (size_t i = 0; i < nrej && i < n; i++)
			if (add_rejection(rep->list, VEC_AT(b->src, Py_ssize_t)[rej[i].index],
					  (int)rej[i].status, NULL) < 0) {
				rc = -2; /* fed, but the list of rejections is short */
				break;
			}
	}
reset:
	drop_front(b, n, keep0);
	return rc;
}

/* Feed everything the builder holds. */
static int flush(CtxObject *self, builder *b, cxm_rejection *rej, report *rep)
{
	pend_clear(b);
	return flush_n(self, b, b->ix.n, b->keep.n, rej, rep);
}

/* The last row of the builder (input row index, its references from keep0
 * on) names segment values that are not defined yet. Feed the rows before
 * it; check the row with those dimensions at CXM_NONE (cxm_feed_check);
 * only if it would be accepted define the values and feed it, at once.
 * A row the check or a definition refuses is rejected and listed (not
 * counted by libcxm's statistics, which never saw it). Returns 0 with the
 * builder empty; on failure the builder is empty too, an exception is set
 * and: -1 none of the rows before it was fed, -2 they were (the row not). */
static int feed_pending(CtxObject *self, builder *b, size_t keep0, Py_ssize_t index,
			cxm_rejection *rej, report *rep)
{
	int rc = flush_n(self, b, b->ix.n - 1, keep0, rej, rep);
	if (rc < 0) {
		pend_clear(b);
		drop_front(b, b->ix.n, b->keep.n);
		return rc == -1 ? -1 : -2;
	}
	clock_slot saved;
	if (clock_begin(self, &saved) < 0) {
		pend_clear(b);
		drop_front(b, b->ix.n, b->keep.n);
		return -2;
	}
	cxm_context *ctx = self->ctx;
	cxm_interaction x;
	ix_at(b, 0, &x);
	cxm_status st = cxm_feed_check(ctx, &x);
	if (!st)
		st = define_pending(b);
	if (!st) {
		ix_at(b, 0, &x);
		st = cxm_feed(ctx, &x); /* refused only if another thread got in between */
	}
	clock_end(&saved);
	pend_clear(b);
	drop_front(b, b->ix.n, b->keep.n);
	if (!st) {
		rep->accepted++;
		return 0;
	}
	rep->rejected++;
	return add_rejection(rep->list, index, (int)st, NULL) < 0 ? -2 : 0;
}

static PyObject *report_tuple(report *rep)
{
	return Py_BuildValue("(nnO)", (Py_ssize_t)rep->accepted, (Py_ssize_t)rep->rejected, rep->list);
}

static PyObject *s_time, *s_touchpoint, *s_measures, *s_customer, *s_segments;

/* One row of feed_many(): a tuple (time, touchpoint[, measures[, customer[,
 * segments]]]) or a dict with those keys. */
static int add_row(builder *b, PyObject *row)
{
	PyObject *f[5] = {NULL, NULL, NULL, NULL, NULL};
	if (PyTuple_Check(row) || PyList_Check(row)) {
		PyObject *t = PySequence_Tuple(row);
		if (!t)
			return -1;
		Py_ssize_t n = PyTuple_Size(t);
		if (n < 2 || n > 5) {
			Py_DECREF(t);
			PyErr_Format(PyExc_TypeError,
				     "a row is (time, touchpoint[, measures[, customer[, segments]]]); got %zd items",
				     n);
			return -1;
		}
		for (Py_ssize_t i = 0; i < n; i++)
			f[i] = PyTuple_GetItem(t, i);
		int rc = add_interaction(b, f[0], f[1], f[2], f[3], f[4], 1);
		Py_DECREF(t);
		return rc;
	}
	if (PyDict_Check(row)) {
		PyObject *keys[5] = {s_time, s_touchpoint, s_measures, s_customer, s_segments};
		Py_ssize_t found = 0;
		for (int i = 0; i < 5; i++) {
			f[i] = PyDict_GetItem(row, keys[i]);
			if (f[i]) {
				Py_INCREF(f[i]);
				found++;
			}
		}
		int rc = -1;
		if (!f[0] || !f[1]) {
			PyErr_Format(PyExc_KeyError, "a row needs 'time' and 'touchpoint'");
		} else if (PyDict_Size(row) != found) {
			Py_ssize_t pos = 0;
			PyObject *k, *v;
			while (PyDict_Next(row, &pos, &k, &v)) {
				int known = 0;
				for (int i = 0; i < 5; i++)
					if (PyObject_RichCompareBool(k, keys[i], Py_EQ) == 1)
						known = 1;
				if (!known) {
					PyErr_Format(PyExc_KeyError,
						     "unknown key %R in a row (time, touchpoint, measures, customer, segments)",
						     k);
					break;
				}
			}
		} else {
			rc = add_interaction(b, f[0], f[1], f[2], f[3], f[4], 1);
		}
		for (int i = 0; i < 5; i++)
			Py_XDECREF(f[i]);
		return rc;
	}
	PyErr_Format(PyExc_TypeError, "a row must be a tuple or a dict, not %R",
		     (PyObject *)Py_TYPE(row));
	return -1;
}

static argspec many_spec = {"_feed_many", 2, 1, 2, {"rows", "start"}, {0}};

static int conv_start(PyObject *o, Py_ssize_t *out)
{
	if (!o)
		return 0;
	PyObject *i = index_of(o, "start");
	if (!i)
		return -1;
	*out = PyLong_AsSsize_t(i);
	Py_DECREF(i);
	if (*out == -1 && PyErr_Occurred())
		return -1;
	if (*out < 0)
		return fail_fmt(CXM_ERR_OUT_OF_RANGE, "start %zd is negative", *out);
	return 0;
}

/* _feed_many(rows, start=0) -> (accepted, rejected, rejections).
 *
 * Rows are converted one by one and fed FEED_CHUNK at a time. Whatever
 * stops the loop (the iterable raising, an exception that is not about the
 * row's data, the context closing, the clock or libcxm failing), the rows
 * read before the failing one are fed and counted first, so that the
 * BulkFeedError raised tells exactly: rows before its index were handled,
 * none from it on was fed. */
static PyObject *ctx_feed_many(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
			       PyObject *kwnames)
{
	CtxObject *self = (CtxObject *)self_;
	PyObject *a[2];
	cxm_context *ctx;
	if (parse(&many_spec, args, nargs, kwnames, a) < 0 || !(ctx = live(self)))
		return NULL;
	Py_ssize_t index = 0;
	if (conv_start(a[1], &index) < 0)
		return NULL;
	if (IS_STR(a[0]) || PyBytes_Check(a[0])) {
		PyErr_SetString(PyExc_TypeError, "rows must be an iterable of rows, not a string");
		return NULL;
	}
	PyObject *it = PyObject_GetIter(a[0]);
	if (!it)
		return NULL;
	pending pd;
	pd.n = 0;
	builder b = {ctx, VEC(cxm_interaction), VEC(cxm_measure), VEC(uint32_t), VEC(PyObject *),
		     VEC(Py_ssize_t), 0, &pd};
	report rep = {0, 0, PyList_New(0)};
	cxm_rejection *rej = PyMem_Malloc(sizeof(cxm_rejection) * FEED_CHUNK);
	PyObject *result = NULL;
	Py_ssize_t chunk_first = index; /* input index of the chunk's first row */
	int rc;
	if (!rep.list || !rej || vec_reserve(&b.ix, FEED_CHUNK) < 0 ||
	    vec_reserve(&b.src, FEED_CHUNK) < 0) {
		if (!PyErr_Occurred())
			PyErr_NoMemory();
		goto out;
	}
	for (;; index++) {
		PyObject *row = PyIter_Next(it);
		if (!row) {
			if (PyErr_Occurred())
				goto stopped; /* the iterable failed */
			break;
		}
		if (!live(self)) { /* closed from a clock, a converter or another thread */
			Py_DECREF(row);
			goto stopped;
		}
		VEC_AT(b.src, Py_ssize_t)[b.ix.n] = index;
		size_t keep0 = b.keep.n;
		rc = add_row(&b, row);
		Py_DECREF(row);
		if (rc < 0) {
			if (reject_current(rep.list, index) < 0)
				goto stopped; /* not the row's fault */
			rep.rejected++; /* rows that reach libcxm are counted when fed */
		} else if (pd.n) { /* new segment values: see feed_pending() */
			rc = feed_pending(self, &b, keep0, index, rej, &rep);
			if (rc < 0) {
				bulk_fail(&rep, rc == -1 ? chunk_first : index, "feed_many");
				goto out;
			}
			chunk_first = index + 1;
			continue;
		}
		if (b.ix.n == FEED_CHUNK) {
			rc = flush(self, &b, rej, &rep);
			if (rc < 0) {
				bulk_fail(&rep, rc == -1 ? chunk_first : index + 1, "feed_many");
				goto out;
			}
			chunk_first = index + 1;
		}
	}
	rc = flush(self, &b, rej, &rep);
	if (rc < 0) {
		bulk_fail(&rep, rc == -1 ? chunk_first : index, "feed_many");
		goto out;
	}
	/* binding-level rejections were appended as they happened, batch
	 * rejections per chunk: put them in row order */
	if (PyList_Sort(rep.list) < 0)
		goto out;
	result = report_tuple(&rep);
	goto out;
stopped:
	/* row `index` stopped the loop: feed the rows read before it */
	{
		PyObject *t, *v, *tb;
		PyErr_Fetch(&t, &v, &tb);
		if (!self->ctx || self->loading) {
			/* cannot happen (a load waits for running calls): not fed */
			pend_clear(&b);
			drop_front(&b, b.ix.n, b.keep.n);
			index = chunk_first;
			rc = 0;
		} else {
			rc = flush(self, &b, rej, &rep);
		}
		if (rc < 0) {
			/* that failed too: it is the cause, what stopped the loop its context */
			PyObject *t2, *v2, *tb2;
			PyErr_Fetch(&t2, &v2, &tb2);
			PyErr_NormalizeException(&t2, &v2, &tb2);
			PyErr_NormalizeException(&t, &v, &tb);
			if (v2 && v) {
				if (tb)
					PyException_SetTraceback(v, tb);
				PyException_SetContext(v2, v); /* steals v */
				v = NULL;
			}
			Py_XDECREF(t);
			Py_XDECREF(v);
			Py_XDECREF(tb);
			PyErr_Restore(t2, v2, tb2);
			if (rc == -1)
				index = chunk_first;
		} else {
			PyErr_Restore(t, v, tb);
		}
		bulk_fail(&rep, index, "feed_many");
	}
out:
	pend_clear(&b);
	drop_refs(&b);
	vec_free(&b.ix);
	vec_free(&b.ms);
	vec_free(&b.seg);
	vec_free(&b.keep);
	vec_free(&b.src);
	PyMem_Free(rej);
	Py_XDECREF(rep.list);
	Py_DECREF(it);
	return result;
}
SHIM_CTX(ctx_feed_many)

/* ---- feeding from a buffer of fixed-size records ---- */

typedef struct {
	size_t off;
	char code; /* struct-module code: bBhHiIqQfd? (and s for customer bytes) */
	uint32_t id, item;
} field;

typedef struct {
	size_t rsize;
	field time, tp, cust;
	size_t cust_size;
	int64_t time_mul, time_div;
	field seg[MAX_DIMS];
	size_t nseg, seg_dims;
	field *meas;
	size_t nmeas;
} layout;

static size_t code_size(char c)
{
	switch (c) {
	case 'b': case 'B': case '?': return 1;
	case 'h': case 'H': return 2;
	case 'i': case 'I': case 'f': return 4;
	case 'q': case 'Q': case 'd': return 8;
	default: return 0;
	}
}

static inline int64_t rd_int(const unsigned char *p, char c)
{
	switch (c) {
	case 'b': { int8_t v; memcpy(&v, p, 1); return v; }
	case 'B': case '?': return *p;
	case 'h': { int16_t v; memcpy(&v, p, 2); return v; }
	case 'H': { uint16_t v; memcpy(&v, p, 2); return v; }
	case 'i': { int32_t v; memcpy(&v, p, 4); return v; }
	case 'I': { uint32_t v; memcpy(&v, p, 4); return v; }
	case 'q': { int64_t v; memcpy(&v, p, 8); return v; }
	case 'Q': { uint64_t v; memcpy(&v, p, 8); return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v; }
	case 'f': { float v; memcpy(&v, p, 4); return isfinite(v) ? (int64_t)v : INT64_MAX; }
	case 'd': { double v; memcpy(&v, p, 8); return isfinite(v) && fabs(v) < 9e18 ? (int64_t)v : INT64_MAX; }
	}
	return 0;
}

static inline double rd_double(const unsigned char *p, char c)
{
	switch (c) {
	case 'f': { float v; memcpy(&v, p, 4); return v; }
	case 'd': { double v; memcpy(&v, p, 8); return v; }
	case 'Q': { uint64_t v; memcpy(&v, p, 8); return (double)v; }
	default: return (double)rd_int(p, c);
	}
}

/* A customer field's 8 bytes, as feed() takes an int customer: signed
 * codes two's complement, 'Q' as it is (no saturation: 2**64 − 1 is not
 * 2**63 − 1). */
static inline uint64_t rd_u64(const unsigned char *p, char c)
{
	if (c == 'Q') {
		uint64_t v;
		memcpy(&v, p, 8);
		return v;
	}
	return (uint64_t)rd_int(p, c);
}

/* A layout's offset or size: an int from 0 up, as size_t. Negative or
 * beyond size_t: ValueError (an offset read as a huge size_t would pass a
 * careless bounds check by wrapping around). */
static int layout_size(PyObject *o, size_t *out, const char *what, const char *part)
{
	PyObject *i = index_of(o, part);
	if (!i)
		return -1;
	int overflow;
	long long v = PyLong_AsLongLongAndOverflow(i, &overflow);
	int rc = 0;
	if (v == -1 && !overflow && PyErr_Occurred())
		rc = -1;
	else if (overflow || v < 0) {
		PyErr_Format(PyExc_ValueError, "%s: %s %R is outside every record", what, part, i);
		rc = -1;
	} else
		*out = (size_t)(unsigned long long)v;
	Py_DECREF(i);
	return rc;
}

/* Does [off, off + size) lie within a record of rsize bytes? Written so
 * that no sum can wrap around. */
static int fits(size_t off, size_t size, size_t rsize)
{
	return off <= rsize && size <= rsize - off;
}

/* The codes a field may have: all for measures; integers for the others. */
#define INT_CODES "bBhHiIqQ"
#define ALL_CODES "bBhHiIqQfd?"

static int parse_field(PyObject *t, field *f, size_t rsize, int with_ids, const char *what,
		       const char *codes)
{
	/* (offset, code) or (id, item, offset, code) */
	Py_ssize_t n = PyTuple_Check(t) ? PyTuple_Size(t) : -1;
	PyObject *code, *off;
	memset(f, 0, sizeof *f);
	if (with_ids) {
		if (n != 4)
			goto bad;
		if (conv_id(NULL, PyTuple_GetItem(t, 0), 0, &f->id,
			    strcmp(what, "segment") == 0 ? "segment dimension" : "metric") < 0 ||
		    conv_u32(PyTuple_GetItem(t, 1), &f->item, "question") < 0)
			return -1;
		off = PyTuple_GetItem(t, 2);
		code = PyTuple_GetItem(t, 3);
	} else {
		if (n != 2)
			goto bad;
		off = PyTuple_GetItem(t, 0);
		code = PyTuple_GetItem(t, 1);
	}
	if (!PyUnicode_Check(code) || PyUnicode_GetLength(code) != 1)
		goto bad;
	if (layout_size(off, &f->off, what, "offset") < 0)
		return -1;
	Py_UCS4 c = PyUnicode_ReadChar(code, 0);
	f->code = c > 0 && c < 128 && strchr(ALL_CODES, (int)c) ? (char)c : 0;
	size_t sz = code_size(f->code);
	if (!sz || !fits(f->off, sz, rsize)) {
		PyErr_Format(PyExc_ValueError, "%s: type code %R at offset %zu does not fit a %zu-byte record",
			     what, code, f->off, rsize);
		return -1;
	}
	if (!strchr(codes, f->code)) {
		PyErr_Format(PyExc_TypeError, "layout: %s must be an integer field (%s), not '%c'", what,
			     codes, f->code);
		return -1;
	}
	return 0;
bad:
	PyErr_Format(PyExc_TypeError, "%s: a layout field is %s", what,
		     with_ids ? "(id, item, offset, code)" : "(offset, code)");
	return -1;
}

/* Measure fields: each record takes up to this many measures. */
#define MAX_MEASURE_FIELDS 65536

/* (record_size, time, time_mul, time_div, touchpoint, customer | None,
 *  customer_size, segments, measures) as cxm.Layout builds it. */
static int parse_layout(PyObject *o, layout *L)
{
	memset(L, 0, sizeof *L);
	if (!PyTuple_Check(o) || PyTuple_Size(o) != 9) {
		PyErr_SetString(PyExc_TypeError, "layout must come from cxm.Layout");
		return -1;
	}
	if (layout_size(PyTuple_GetItem(o, 0), &L->rsize, "layout", "record size") < 0)
		return -1;
	L->time_mul = PyLong_AsLongLong(PyTuple_GetItem(o, 2));
	L->time_div = PyLong_AsLongLong(PyTuple_GetItem(o, 3));
	if (PyErr_Occurred())
		return -1;
	if (L->rsize == 0 || L->time_mul < 1 || L->time_div < 1) {
		PyErr_SetString(PyExc_ValueError, "layout: record size and time scale must be positive");
		return -1;
	}
	if (parse_field(PyTuple_GetItem(o, 1), &L->time, L->rsize, 0, "time", INT_CODES) < 0 ||
	    parse_field(PyTuple_GetItem(o, 4), &L->tp, L->rsize, 0, "touchpoint", INT_CODES) < 0)
		return -1;
	PyObject *cust = PyTuple_GetItem(o, 5);
	if (cust != Py_None) {
		PyObject *code = PyTuple_Check(cust) && PyTuple_Size(cust) == 2 ? PyTuple_GetItem(cust, 1) : NULL;
		if (code && PyUnicode_Check(code) && PyUnicode_CompareWithASCIIString(code, "s") == 0) {
			L->cust.code = 's';
			if (layout_size(PyTuple_GetItem(o, 6), &L->cust_size, "customer", "size") < 0 ||
			    layout_size(PyTuple_GetItem(cust, 0), &L->cust.off, "customer", "offset") < 0)
				return -1;
			if (!L->cust_size || !fits(L->cust.off, L->cust_size, L->rsize)) {
				PyErr_Format(PyExc_ValueError,
					     "layout: customer bytes (%zu at offset %zu) do not fit a %zu-byte record",
					     L->cust_size, L->cust.off, L->rsize);
				return -1;
			}
		} else if (parse_field(cust, &L->cust, L->rsize, 0, "customer", INT_CODES) < 0) {
			return -1;
		}
	}
	PyObject *segs = PyTuple_GetItem(o, 7), *meas = PyTuple_GetItem(o, 8);
	if (!PyTuple_Check(segs) || !PyTuple_Check(meas)) {
		PyErr_SetString(PyExc_TypeError, "layout: segments and measures are tuples");
		return -1;
	}
	L->nseg = (size_t)PyTuple_Size(segs);
	if (L->nseg > MAX_DIMS) {
		PyErr_SetString(PyExc_ValueError, "layout: more than 64 segment fields");
		return -1;
	}
	for (size_t i = 0; i < L->nseg; i++) {
		if (parse_field(PyTuple_GetItem(segs, (Py_ssize_t)i), &L->seg[i], L->rsize, 1, "segment",
				INT_CODES) < 0)
			return -1;
		if (L->seg[i].id >= MAX_DIMS) {
			raise_msg(CXM_ERR_UNKNOWN_ID, "layout: a segment dimension is not defined");
			return -1;
		}
		if (L->seg[i].id + 1 > L->seg_dims)
			L->seg_dims = L->seg[i].id + 1;
	}
	L->nmeas = (size_t)PyTuple_Size(meas);
	if (L->nmeas > MAX_MEASURE_FIELDS) { /* and so no allocation size below can wrap */
		PyErr_Format(PyExc_ValueError, "layout: more than %d measure fields", MAX_MEASURE_FIELDS);
		return -1;
	}
	L->meas = PyMem_Calloc(L->nmeas ? L->nmeas : 1, sizeof(field));
	if (!L->meas) {
		PyErr_NoMemory();
		return -1;
	}
	for (size_t i = 0; i < L->nmeas; i++)
		if (parse_field(PyTuple_GetItem(meas, (Py_ssize_t)i), &L->meas[i], L->rsize, 1, "measure",
				ALL_CODES) < 0)
			return -1;
	return 0;
}

typedef struct {
	cxm_rejection *r;
	size_t n, cap;
	int nomem;
} rejlist;

/* Room for `more` rejections, taken before a chunk is fed so that none of
 * its rejections can be lost. */
static int rejlist_reserve(rejlist *out, size_t more)
{
	if (more <= out->cap - out->n)
		return 0;
	size_t nc = out->cap ? out->cap : 256;
	while (nc - out->n < more) {
		if (nc > SIZE_MAX / 2 / sizeof(cxm_rejection))
			return -1;
		nc *= 2;
	}
	cxm_rejection *np = realloc(out->r, nc * sizeof *np);
	if (!np)
		return -1;
	out->r = np;
	out->cap = nc;
	return 0;
}

/* Feed n records from base, without the GIL. Rejections go to out (their
 * index in records). *done receives how many records were handled
 * (accepted or rejected): all n, or, when a chunk could not be fed, the
 * index of that chunk's first record, none from it on having been fed.
 * Returns the status of a failed batch call, or OK (out->nomem: no memory
 * for the chunk's rejections, so it was not fed). */
static cxm_status feed_records(cxm_context *ctx, const layout *L, const unsigned char *base,
			       size_t n, size_t *accepted, size_t *nrejected, rejlist *out,
			       size_t *done)
{
	enum { CH = FEED_CHUNK };
	/* nmeas <= MAX_MEASURE_FIELDS and seg_dims <= MAX_DIMS: no product wraps */
	cxm_interaction *ix = malloc(sizeof *ix * CH);
	cxm_measure *ms = malloc(sizeof *ms * CH * (L->nmeas ? L->nmeas : 1));
	uint32_t *sg = malloc(sizeof *sg * CH * (L->seg_dims ? L->seg_dims : 1));
	uint64_t *cid = malloc(sizeof *cid * CH);
	cxm_rejection *rej = malloc(sizeof *rej * CH);
	cxm_status result = CXM_OK;
	*done = 0;
	if (!ix || !ms || !sg || !cid || !rej) {
		out->nomem = 1;
		goto done;
	}
	for (size_t first = 0; first < n; first += CH) {
		size_t m = n - first < CH ? n - first : CH;
		cxm_measure *mp = ms;
		for (size_t k = 0; k < m; k++) {
			const unsigned char *rec = base + (first + k) * L->rsize;
			cxm_interaction *x = &ix[k];
			memset(x, 0, sizeof *x);
			x->size = sizeof *x;
			int64_t t = rd_int(rec + L->time.off, L->time.code);
			if (L->time_mul != 1)
				t = (t > INT64_MAX / L->time_mul || t < INT64_MIN / L->time_mul)
					    ? INT64_MAX : t * L->time_mul; /* out of range: rejected */
			if (L->time_div != 1) {
				int64_t q = t / L->time_div;
				t = (t % L->time_div < 0) ? q - 1 : q;
			}
			x->time_ms = t;
			int64_t tp = rd_int(rec + L->tp.off, L->tp.code);
			x->touchpoint = tp < 0 || tp >= (int64_t)CXM_NONE ? UNKNOWN_ID : (cxm_id)tp;
			if (L->cust.code == 's') {
				const unsigned char *c = rec + L->cust.off;
				size_t len = L->cust_size;
				while (len && c[len - 1] == 0)
					len--;
				x->customer = len ? c : NULL; /* all NUL: no customer */
				x->customer_len = len;
			} else if (L->cust.code) {
				uint64_t u = rd_u64(rec + L->cust.off, L->cust.code);
				unsigned char *le = (unsigned char *)&cid[k];
				for (int i = 0; i < 8; i++)
					le[i] = (unsigned char)(u >> (8 * i));
				x->customer = le;
				x->customer_len = 8;
			}
			if (L->seg_dims) {
				uint32_t *s = sg + k * L->seg_dims;
				for (size_t d = 0; d < L->seg_dims; d++)
					s[d] = CXM_NONE;
				for (size_t i = 0; i < L->nseg; i++) {
					int64_t v = rd_int(rec + L->seg[i].off, L->seg[i].code);
					/* -1 (or 0xFFFFFFFF) is "no value"; any other negative
					 * number is no value id: libcxm rejects the record */
					s[L->seg[i].id] = v == -1 || v == (int64_t)CXM_NONE ? CXM_NONE
							  : v < 0 || v > (int64_t)CXM_NONE ? UNKNOWN_ID
							  : (uint32_t)v;
				}
				x->segments = s;
				x->n_segments = L->seg_dims;
			}
			x->measures = mp;
			for (size_t i = 0; i < L->nmeas; i++) {
				double v = rd_double(rec + L->meas[i].off, L->meas[i].code);
				if (isnan(v))
					continue; /* a missing value in a column */
				mp->metric = L->meas[i].id;
				mp->item = L->meas[i].item;
				mp->value = v;
				mp++;
			}
			x->n_measures = (size_t)(mp - x->measures);
			if (!x->n_measures)
				x->measures = NULL;
		}
		if (rejlist_reserve(out, m) < 0) {
			out->nomem = 1;
			goto done;
		}
		size_t acc = 0, nrej = 0;
		cxm_status st = cxm_feed_batch(&acc, ctx, ix, m, rej, m, &nrej);
		if (st && st != CXM_ERR_REJECTED) {
			result = st;
			goto done;
		}
		*accepted += acc;
		*nrejected += nrej;
		for (size_t i = 0; i < nrej && i < m; i++) {
			out->r[out->n].index = first + rej[i].index;
			out->r[out->n].status = rej[i].status;
			out->n++;
		}
		*done = first + m;
	}
done:
	free(ix);
	free(ms);
	free(sg);
	free(cid);
	free(rej);
	return result;
}

static argspec rec_spec = {"_feed_records", 3, 2, 3, {"buffer", "layout", "start"}, {0}};

/* _feed_records(buffer, layout, start=0) -> (accepted, rejected, rejections) */
static PyObject *ctx_feed_records(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				  PyObject *kwnames)
{
	CtxObject *self = (CtxObject *)self_;
	PyObject *a[3];
	cxm_context *ctx;
	if (parse(&rec_spec, args, nargs, kwnames, a) < 0 || !(ctx = live(self)))
		return NULL;
	Py_ssize_t start = 0;
	if (conv_start(a[2], &start) < 0)
		return NULL;
	layout L;
	if (parse_layout(a[1], &L) < 0) {
		PyMem_Free(L.meas);
		return NULL;
	}
	cxm_pybuffer view;
	int have_view = 0;
	const unsigned char *base;
	Py_ssize_t len;
	if (PyBytes_Check(a[0])) {
		char *p;
		if (PyBytes_AsStringAndSize(a[0], &p, &len) < 0) {
			PyMem_Free(L.meas);
			return NULL;
		}
		base = (const unsigned char *)p;
	} else if (rt_buffer) {
		if (cxm_py_getbuffer(a[0], &view, CXM_PYBUF_SIMPLE) < 0) {
			PyMem_Free(L.meas);
			return NULL;
		}
		have_view = 1;
		base = view.buf;
		len = view.len;
	} else {
		PyMem_Free(L.meas);
		PyErr_SetString(PyExc_TypeError,
				"before Python 3.11 the stable ABI has no buffer protocol: pass bytes");
		return NULL;
	}
	PyObject *result = NULL;
	if (len < 0 || (size_t)len % L.rsize) {
		PyErr_Format(PyExc_ValueError, "the buffer's %zd bytes are not a whole number of %zu-byte records",
			     len, L.rsize);
	} else {
		/* n * rsize == len: every record lies within the buffer */
		size_t acc = 0, nrej = 0, n = (size_t)len / L.rsize, done = 0;
		rejlist rl = {NULL, 0, 0, 0};
		cxm_status st = CXM_OK;
		clock_slot saved;
		int clock_failed = clock_begin(self, &saved) < 0;
		if (!clock_failed) {
			NOGIL_BEGIN(self);
			st = feed_records(self->ctx, &L, base, n, &acc, &nrej, &rl, &done);
			NOGIL_END(self);
			clock_end(&saved);
		}
		report rep = {acc, nrej, PyList_New(0)};
		int ok = rep.list != NULL;
		for (size_t i = 0; ok && i < rl.n; i++)
			ok = add_rejection(rep.list, start + (Py_ssize_t)rl.r[i].index,
					   (int)rl.r[i].status, NULL) == 0;
		if (!clock_failed && !rl.nomem && !st && ok) {
			result = report_tuple(&rep);
		} else if (ok || clock_failed) {
			if (rl.nomem)
				PyErr_NoMemory();
			else if (st)
				raise_status(st, ctx);
			/* the chunk at done and all after it were not fed */
			bulk_fail(&rep, start + (Py_ssize_t)done, "feed_buffer");
		} else if (done < n || st || rl.nomem) {
			/* no memory even for the report: say at least how far it got */
			PyErr_Clear();
			fail_fmt(CXM_ERR_NO_MEMORY, "feed_buffer: out of memory after %zu records were fed "
				 "(%zu accepted); none from record %zd on was fed", done, acc,
				 start + (Py_ssize_t)done);
		} else {
			PyErr_Clear();
			fail_fmt(CXM_ERR_NO_MEMORY, "feed_buffer: all %zu records were fed (%zu accepted), "
				 "but listing the %zu rejected ones ran out of memory", n, acc, nrej);
		}
		Py_XDECREF(rep.list);
		free(rl.r);
	}
	if (have_view)
		cxm_py_releasebuffer(&view);
	PyMem_Free(L.meas);
	return result;
}
SHIM_CTX(ctx_feed_records)

/* ---- queries ---- */

typedef struct {
	PyObject_HEAD
	cxm_query q;
} QueryObject;

static int as_query(PyObject *o, const cxm_query **q)
{
	if (!PyObject_TypeCheck(o, QueryType)) {
		PyErr_Format(PyExc_TypeError, "expected a cxm.Query, not %R", (PyObject *)Py_TYPE(o));
		return -1;
	}
	*q = &((QueryObject *)o)->q;
	return 0;
}

typedef struct {
	PyObject_HEAD
	cxm_result r;
} ResultObject;

typedef struct {
	PyObject_HEAD
	cxm_comparison c;
} ComparisonObject;

typedef struct {
	PyObject_HEAD
	cxm_stats s;
} StatsObject;

typedef struct cal_args cal_args;
static PyObject *run_result(CtxObject *self, cxm_context *ctx, PyObject *qo, const cxm_query *q,
			    const cal_args *cal);

static PyObject *ctx_run(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
			 PyObject *kwnames)
{
	CtxObject *self = (CtxObject *)self_;
	const cxm_query *q;
	cxm_context *ctx;
	if (nargs_between("run", nargs, 1, 1) || no_kwargs("run", kwnames) || !(ctx = live(self)) ||
	    as_query(args[0], &q) < 0)
		return NULL;
	return run_result(self, ctx, args[0], q, NULL);
}
SHIM_CTX(ctx_run)

static PyObject *ctx_quantiles(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
			       PyObject *kwnames)
{
	CtxObject *self = (CtxObject *)self_;
	const cxm_query *q;
	cxm_context *ctx;
	if (nargs_between("_quantiles", nargs, 2, 2) || no_kwargs("_quantiles", kwnames) ||
	    !(ctx = live(self)) || as_query(args[0], &q) < 0)
		return NULL;
	PyObject *seq = PySequence_Tuple(args[1]);
	if (!seq)
		return NULL;
	double qs[65] = {0}, out[65];
	Py_ssize_t n = PyTuple_Size(seq);
	for (Py_ssize_t i = 0; i < n && i < 64; i++)
		if (conv_real(PyTuple_GetItem(seq, i), &qs[i], "a quantile") < 0) {
			Py_DECREF(seq);
			return NULL;
		}
	Py_DECREF(seq);
	if (n > 64)
		n = 65; /* libcxm says how many it takes */
	cxm_status st;
	cxm_query rq;
	q = query_resolved(self, q, &rq);
	Py_INCREF(args[0]);
	clock_slot saved;
	if (clock_for(self, q->end_ms, q->end_ms, &saved) < 0) {
		Py_DECREF(args[0]);
		return NULL;
	}
	NOGIL_BEGIN(self);
	st = cxm_query_quantiles(out, self->ctx, q, n ? qs : NULL, (size_t)n);
	NOGIL_END(self);
	clock_end(&saved);
	Py_DECREF(args[0]);
	if (st)
		return raise_status(st, ctx);
	PyObject *t = PyTuple_New(n);
	for (Py_ssize_t i = 0; t && i < n; i++)
		PyTuple_SetItem(t, i, PyFloat_FromDouble(out[i]));
	return t;
}
SHIM_CTX(ctx_quantiles)

static PyObject *ctx_distribution(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				  PyObject *kwnames)
{
	CtxObject *self = (CtxObject *)self_;
	const cxm_query *q;
	uint32_t item;
	cxm_context *ctx;
	if (nargs_between("_distribution", nargs, 2, 2) || no_kwargs("_distribution", kwnames) ||
	    !(ctx = live(self)) || as_query(args[0], &q) < 0 || conv_u32(args[1], &item, "item") < 0)
		return NULL;
	uint64_t out[CXM_MAX_POINTS];
	size_t n = 0;
	cxm_status st;
	cxm_query rq;
	q = query_resolved(self, q, &rq);
	Py_INCREF(args[0]);
	clock_slot saved;
	if (clock_for(self, q->end_ms, q->end_ms, &saved) < 0) {
		Py_DECREF(args[0]);
		return NULL;
	}
	NOGIL_BEGIN(self);
	st = cxm_query_distribution(out, CXM_MAX_POINTS, &n, self->ctx, q, item);
	NOGIL_END(self);
	clock_end(&saved);
	Py_DECREF(args[0]);
	if (st)
		return raise_status(st, ctx);
	PyObject *t = PyTuple_New((Py_ssize_t)n);
	for (size_t i = 0; t && i < n; i++)
		PyTuple_SetItem(t, (Py_ssize_t)i, PyLong_FromUnsignedLongLong(out[i]));
	return t;
}
SHIM_CTX(ctx_distribution)

/* A Comparison, the GIL released: cxm_query_compare() of the Query
 * objects ao and bo (a and b their structs), or with bo NULL
 * cxm_query_baseline() of a and the baseline. */
static PyObject *comparison_of(CtxObject *self, cxm_context *ctx, PyObject *ao, const cxm_query *a,
			       PyObject *bo, const cxm_query *b, cxm_id baseline)
{
	cxm_comparison c;
	c.size = sizeof c;
	cxm_status st;
	cxm_query ra, rb;
	a = query_resolved(self, a, &ra);
	if (bo)
		b = query_resolved(self, b, &rb);
	Py_INCREF(ao); /* the queries must outlive the call without the GIL */
	Py_XINCREF(bo);
	clock_slot saved;
	if (clock_for(self, a->end_ms, bo ? b->end_ms : a->end_ms, &saved) < 0) {
		Py_DECREF(ao);
		Py_XDECREF(bo);
		return NULL;
	}
	NOGIL_BEGIN(self);
	st = bo ? cxm_query_compare(&c, self->ctx, a, b) : cxm_query_baseline(&c, self->ctx, a, baseline);
	NOGIL_END(self);
	clock_end(&saved);
	Py_DECREF(ao);
	Py_XDECREF(bo);
	if (st)
		return raise_status(st, ctx);
	ComparisonObject *o = (ComparisonObject *)PyType_GenericAlloc(ComparisonType, 0);
	if (!o)
		return NULL;
	o->c = c;
	return (PyObject *)o;
}

static PyObject *ctx_compare(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
			     PyObject *kwnames)
{
	CtxObject *self = (CtxObject *)self_;
	const cxm_query *qa, *qb;
	cxm_context *ctx;
	if (nargs_between("compare", nargs, 2, 2) || no_kwargs("compare", kwnames) || !(ctx = live(self)) ||
	    as_query(args[0], &qa) < 0 || as_query(args[1], &qb) < 0)
		return NULL;
	return comparison_of(self, ctx, args[0], qa, args[1], qb, 0);
}
SHIM_CTX(ctx_compare)

/* An int in 64 bits (the package passes ms as ints). */
static int conv_i64(PyObject *o, int64_t *out, const char *what)
{
	PyObject *i = index_of(o, what);
	if (!i)
		return -1;
	int overflow;
	long long x = PyLong_AsLongLongAndOverflow(i, &overflow);
	Py_DECREF(i);
	if (x == -1 && !overflow && PyErr_Occurred())
		return -1;
	if (overflow)
		return fail_fmt(CXM_ERR_OUT_OF_RANGE, "%s does not fit in 64 bits", what);
	*out = (int64_t)x;
	return 0;
}

/* _baseline_define(name, kind, metric, offset_ms, start_ms, end_ms, target) -> id */
static PyObject *ctx_baseline_define(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				     PyObject *kwnames)
{
	CtxObject *self = (CtxObject *)self_;
	cxm_context *ctx;
	cxm_baseline_def d;
	cxm_baseline_def_init(&d, sizeof d);
	uint32_t kind;
	PyObject *keep;
	if (nargs_between("_baseline_define", nargs, 7, 7) || no_kwargs("_baseline_define", kwnames) ||
	    !(ctx = live(self)) || conv_u32(args[1], &kind, "kind") < 0 ||
	    conv_u32(args[2], &d.metric, "metric") < 0 || conv_i64(args[3], &d.offset_ms, "offset") < 0 ||
	    conv_i64(args[4], &d.start_ms, "start") < 0 || conv_i64(args[5], &d.end_ms, "end") < 0)
		return NULL;
	d.kind = (cxm_baseline_kind)kind;
	d.target = PyFloat_AsDouble(args[6]);
	if (d.target == -1.0 && PyErr_Occurred())
		return NULL;
	const char *name = name_of(args[0], &keep, "name");
	if (!name)
		return NULL;
	cxm_id id;
	cxm_status st = cxm_baseline_define(&id, ctx, name, &d);
	Py_XDECREF(keep);
	return ret_id(st, ctx, id);
}
SHIM_CTX(ctx_baseline_define)

/* _baseline_get(name_or_id) -> (id, name, kind, metric, offset_ms, start_ms, end_ms, target) */
static PyObject *ctx_baseline_get(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				  PyObject *kwnames)
{
	CtxObject *self = (CtxObject *)self_;
	cxm_context *ctx;
	if (nargs_between("_baseline_get", nargs, 1, 1) || no_kwargs("_baseline_get", kwnames) ||
	    !(ctx = live(self)))
		return NULL;
	cxm_id id;
	cxm_status st;
	if (IS_STR(args[0])) {
		PyObject *keep;
		const char *name = name_of(args[0], &keep, "baseline");
		if (!name)
			return NULL;
		st = cxm_baseline_find(&id, ctx, name);
		Py_XDECREF(keep);
		if (st)
			return raise_status(st, ctx);
	} else if (conv_u32(args[0], &id, "baseline") < 0) {
		return NULL;
	}
	cxm_baseline_def d = {.size = sizeof d};
	const char *name = NULL;
	if ((st = cxm_baseline_get(&d, &name, ctx, id)))
		return raise_status(st, ctx);
	return Py_BuildValue("(IsIILLLd)", (unsigned)id, name, (unsigned)d.kind, (unsigned)d.metric,
			     (long long)d.offset_ms, (long long)d.start_ms, (long long)d.end_ms, d.target);
}
SHIM_CTX(ctx_baseline_get)

/* _query_baseline(query, baseline id) -> Comparison */
static PyObject *ctx_query_baseline(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				    PyObject *kwnames)
{
	CtxObject *self = (CtxObject *)self_;
	const cxm_query *q;
	cxm_context *ctx;
	cxm_id id;
	if (nargs_between("_query_baseline", nargs, 2, 2) || no_kwargs("_query_baseline", kwnames) ||
	    !(ctx = live(self)) || as_query(args[0], &q) < 0 || conv_u32(args[1], &id, "baseline") < 0)
		return NULL;
	return comparison_of(self, ctx, args[0], q, NULL, NULL, id);
}
SHIM_CTX(ctx_query_baseline)

/* ---- breakdowns and series ---- */

/* Breakdowns and series are asked for with room for MANY_CAP results
 * first, then again at the count libcxm answers CXM_ERR_LIMIT with (a
 * touchpoint or segment value another thread defines meanwhile may make
 * it ask once more). */
#define MANY_CAP 64
#define MANY_TRIES 8

static PyObject *result_row(PyObject *tmp, PyObject *lead); /* with the records below */

static int conv_end(PyObject *o, int64_t *out);

/* A calendar query's zone and unit, copied so that no Python object is
 * read without the GIL. */
struct cal_args {
	char tz[CXM_TZ_NAME_MAX + 2];
	cxm_calendar_unit unit;
};

/* One query of the Query object qo (q its struct), the GIL released: a
 * Result of cxm_query_run(), or with cal of cxm_query_calendar(). */
static PyObject *run_result(CtxObject *self, cxm_context *ctx, PyObject *qo, const cxm_query *q,
			    const cal_args *cal)
{
	cxm_result r;
	r.size = sizeof r;
	cxm_status st;
	cxm_query rq;
	q = query_resolved(self, q, &rq);
	Py_INCREF(qo); /* the query must outlive the call without the GIL */
	clock_slot saved;
	if (clock_for(self, q->end_ms, q->end_ms, &saved) < 0) {
		Py_DECREF(qo);
		return NULL;
	}
	NOGIL_BEGIN(self);
	st = cal ? cxm_query_calendar(&r, self->ctx, q, cal->tz, cal->unit) : cxm_query_run(&r, self->ctx, q);
	NOGIL_END(self);
	clock_end(&saved);
	Py_DECREF(qo);
	if (st)
		return raise_status(st, ctx);
	ResultObject *o = (ResultObject *)PyType_GenericAlloc(ResultType, 0);
	if (!o)
		return NULL;
	o->r = r;
	return (PyObject *)o;
}

static int conv_cal(PyObject *tz, PyObject *unit, cal_args *c)
{
	PyObject *keep;
	const char *p = name_of(tz, &keep, "tz");
	if (!p)
		return -1;
	size_t n = strlen(p);
	/* a longer name is libcxm's TOO_LONG: keep one byte too many */
	memcpy(c->tz, p, n > CXM_TZ_NAME_MAX + 1 ? CXM_TZ_NAME_MAX + 1 : n);
	c->tz[n > CXM_TZ_NAME_MAX + 1 ? CXM_TZ_NAME_MAX + 1 : n] = 0;
	Py_XDECREF(keep);
	uint32_t u;
	if (conv_u32(unit, &u, "calendar unit") < 0)
		return -1;
	c->unit = (cxm_calendar_unit)u;
	return 0;
}

/* cxm_query_group() (series == 0), cxm_query_series() (1) or
 * cxm_query_calendar_series() (2, with cal), the GIL released, as a list of
 * tuples: the key (a breakdown's) then the Result's fields in
 * Result._fields order. The clock is read once, for every try. */
static PyObject *query_many(CtxObject *self, cxm_context *ctx, PyObject *qo, int series,
			    cxm_group_by by, cxm_id dim, int64_t step_ms, const cal_args *cal)
{
	cxm_query rq;
	const cxm_query *q = query_resolved(self, &((QueryObject *)qo)->q, &rq);
	cxm_result *out = NULL;
	uint32_t *keys = NULL;
	ResultObject *tmp = NULL;
	size_t cap = MANY_CAP, n = 0;
	cxm_status st = CXM_ERR_LIMIT;
	PyObject *list = NULL;
	Py_INCREF(qo); /* the query must outlive the calls without the GIL */
	clock_slot saved;
	if (clock_for(self, q->end_ms, q->end_ms, &saved) < 0) {
		Py_DECREF(qo);
		return NULL;
	}
	for (int tries = 0; st == CXM_ERR_LIMIT && tries < MANY_TRIES; tries++) {
		PyMem_Free(out);
		PyMem_Free(keys);
		keys = NULL;
		out = cap <= (size_t)PY_SSIZE_T_MAX / sizeof *out ? PyMem_Malloc(cap * sizeof *out) : NULL;
		if (!series && out)
			keys = PyMem_Malloc(cap * sizeof *keys);
		if (!out || (!series && !keys)) {
			PyErr_NoMemory();
			goto done;
		}
		out[0].size = sizeof *out;
		NOGIL_BEGIN(self);
		st = series == 2 ? cxm_query_calendar_series(out, cap, &n, self->ctx, q, cal->tz, cal->unit)
		     : series    ? cxm_query_series(out, cap, &n, self->ctx, q, step_ms)
				 : cxm_query_group(out, keys, cap, &n, self->ctx, q, by, dim);
		NOGIL_END(self);
		if (st == CXM_ERR_LIMIT)
			cap = n > cap ? n : 2 * cap;
	}
	if (st) {
		raise_status(st, ctx);
		goto done;
	}
	/* one Result to read each result's fields through, reused */
	tmp = (ResultObject *)PyType_GenericAlloc(ResultType, 0);
	if (!tmp || !(list = PyList_New((Py_ssize_t)n)))
		goto done;
	for (size_t i = 0; i < n; i++) {
		tmp->r = out[i];
		PyObject *key = series ? NULL : PyLong_FromUnsignedLong(keys[i]);
		PyObject *row = series || key ? result_row((PyObject *)tmp, key) : NULL;
		Py_XDECREF(key);
		if (!row) {
			Py_CLEAR(list);
			break;
		}
		PyList_SetItem(list, (Py_ssize_t)i, row);
	}
done:
	Py_XDECREF(tmp);
	clock_end(&saved);
	Py_DECREF(qo);
	PyMem_Free(out);
	PyMem_Free(keys);
	return list;
}

/* _query_group(query, by, dim): dim a segment dimension's id or None. */
static PyObject *ctx_query_group(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				 PyObject *kwnames)
{
	CtxObject *self = (CtxObject *)self_;
	const cxm_query *q;
	cxm_context *ctx;
	uint32_t by;
	cxm_id dim;
	if (nargs_between("_query_group", nargs, 3, 3) || no_kwargs("_query_group", kwnames) ||
	    !(ctx = live(self)) || as_query(args[0], &q) < 0 || conv_u32(args[1], &by, "by") < 0 ||
	    conv_opt_id(args[2], &dim, "segment dimension") < 0)
		return NULL;
	return query_many(self, ctx, args[0], 0, (cxm_group_by)by, dim, 0, NULL);
}
SHIM_CTX(ctx_query_group)

/* _query_series(query, step): step a window length (ms, timedelta, "1h"). */
static PyObject *ctx_query_series(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				  PyObject *kwnames)
{
	CtxObject *self = (CtxObject *)self_;
	const cxm_query *q;
	cxm_context *ctx;
	int64_t step_ms;
	if (nargs_between("_query_series", nargs, 2, 2) || no_kwargs("_query_series", kwnames) ||
	    !(ctx = live(self)) || as_query(args[0], &q) < 0 || conv_span_ms(args[1], &step_ms) < 0)
		return NULL;
	return query_many(self, ctx, args[0], 1, 0, CXM_NONE, step_ms, NULL);
}
SHIM_CTX(ctx_query_series)

/* _query_calendar_series(query, tz, unit). */
static PyObject *ctx_query_calendar_series(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
					   PyObject *kwnames)
{
	CtxObject *self = (CtxObject *)self_;
	const cxm_query *q;
	cxm_context *ctx;
	cal_args cal;
	if (nargs_between("_query_calendar_series", nargs, 3, 3) ||
	    no_kwargs("_query_calendar_series", kwnames) || !(ctx = live(self)) ||
	    as_query(args[0], &q) < 0 || conv_cal(args[1], args[2], &cal) < 0)
		return NULL;
	return query_many(self, ctx, args[0], 2, 0, CXM_NONE, 0, &cal);
}
SHIM_CTX(ctx_query_calendar_series)

/* _query_calendar(query, tz, unit): a Result. */
static PyObject *ctx_query_calendar(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				    PyObject *kwnames)
{
	CtxObject *self = (CtxObject *)self_;
	const cxm_query *q;
	cxm_context *ctx;
	cal_args cal;
	if (nargs_between("_query_calendar", nargs, 3, 3) || no_kwargs("_query_calendar", kwnames) ||
	    !(ctx = live(self)) || as_query(args[0], &q) < 0 || conv_cal(args[1], args[2], &cal) < 0)
		return NULL;
	return run_result(self, ctx, args[0], q, &cal);
}
SHIM_CTX(ctx_query_calendar)

/* _calendar_bucket(tz, unit, at): (start_ms, end_ms); at as a query's end. */
static PyObject *ctx_calendar_bucket(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				     PyObject *kwnames)
{
	CtxObject *self = (CtxObject *)self_;
	cxm_context *ctx;
	cal_args cal;
	int64_t at, s, e;
	if (nargs_between("_calendar_bucket", nargs, 3, 3) || no_kwargs("_calendar_bucket", kwnames) ||
	    !(ctx = live(self)) || conv_cal(args[0], args[1], &cal) < 0 || conv_end(args[2], &at) < 0)
		return NULL;
	clock_slot saved;
	if (clock_for(self, at, at, &saved) < 0)
		return NULL;
	cxm_status st = cxm_calendar_bucket(&s, &e, ctx, cal.tz, cal.unit, at);
	clock_end(&saved);
	if (st)
		return raise_status(st, ctx);
	return Py_BuildValue("(LL)", (long long)s, (long long)e);
}
SHIM_CTX(ctx_calendar_bucket)

/* _query_trend(query, step, horizon): (windows, points, start_ms, end_ms,
 * step_ms, slope, slope_ci_low, slope_ci_high, p_value, r2, fitted_last,
 * alpha, beta, level, trend, sigma, [(start_ms, end_ms, value, pi_low,
 * pi_high), ...]), the GIL released for the call. */
static PyObject *ctx_query_trend(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				 PyObject *kwnames)
{
	CtxObject *self = (CtxObject *)self_;
	const cxm_query *qp;
	cxm_context *ctx;
	int64_t step_ms;
	uint32_t horizon;
	if (nargs_between("_query_trend", nargs, 3, 3) || no_kwargs("_query_trend", kwnames) ||
	    !(ctx = live(self)) || as_query(args[0], &qp) < 0 || conv_span_ms(args[1], &step_ms) < 0 ||
	    conv_u32(args[2], &horizon, "horizon") < 0)
		return NULL;
	if (horizon > CXM_TREND_MAX_HORIZON) {
		PyErr_Format(PyExc_ValueError, "horizon %u is above %d", horizon, CXM_TREND_MAX_HORIZON);
		return NULL;
	}
	PyObject *qo = args[0];
	cxm_query rq;
	const cxm_query *q = query_resolved(self, &((QueryObject *)qo)->q, &rq);
	cxm_trend t;
	cxm_trend_init(&t, sizeof t);
	cxm_forecast f[CXM_TREND_MAX_HORIZON];
	Py_INCREF(qo); /* the query must outlive the call without the GIL */
	clock_slot saved;
	if (clock_for(self, q->end_ms, q->end_ms, &saved) < 0) {
		Py_DECREF(qo);
		return NULL;
	}
	cxm_status st;
	NOGIL_BEGIN(self);
	st = cxm_query_trend(&t, f, horizon, self->ctx, q, step_ms);
	NOGIL_END(self);
	clock_end(&saved);
	Py_DECREF(qo);
	if (st)
		return raise_status(st, ctx);
	PyObject *fl = PyList_New(horizon);
	for (uint32_t i = 0; fl && i < horizon; i++) {
		PyObject *x = Py_BuildValue("(LLddd)", (long long)f[i].start_ms, (long long)f[i].end_ms,
					    f[i].value, f[i].pi_low, f[i].pi_high);
		if (!x) {
			Py_CLEAR(fl);
			break;
		}
		PyList_SetItem(fl, (Py_ssize_t)i, x);
	}
	if (!fl)
		return NULL;
	return Py_BuildValue("(IILLLdddddddddddN)", t.windows, t.points, (long long)t.start_ms,
			     (long long)t.end_ms, (long long)t.step_ms, t.slope, t.slope_ci_low,
			     t.slope_ci_high, t.p_value, t.r2, t.fitted_last, t.alpha, t.beta, t.level,
			     t.trend, t.sigma, fl);
}
SHIM_CTX(ctx_query_trend)

/* ---- key drivers ---- */

/* _drivers_define(name, outcome, driver, journey, touchpoints, window_ms,
 * flags) -> id: outcome and driver metric ids, journey an id or None,
 * touchpoints a tuple of touchpoint ids (copied by libcxm). */
static PyObject *ctx_drivers_define(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				    PyObject *kwnames)
{
	CtxObject *self = (CtxObject *)self_;
	cxm_context *ctx;
	cxm_drivers_def d;
	cxm_drivers_def_init(&d, sizeof d);
	uint32_t flags;
	if (nargs_between("_drivers_define", nargs, 7, 7) || no_kwargs("_drivers_define", kwnames) ||
	    !(ctx = live(self)) || conv_id(ctx, args[1], CXM_OBJECT_METRIC, &d.outcome, "outcome") < 0 ||
	    conv_id(ctx, args[2], CXM_OBJECT_METRIC, &d.driver, "driver") < 0 ||
	    conv_opt_id(args[3], &d.journey, "journey") < 0 ||
	    conv_i64(args[5], &d.window_ms, "window") < 0 || conv_u32(args[6], &flags, "flags") < 0)
		return NULL;
	d.flags = flags;
	if (!IS_TUPLE(args[4])) {
		PyErr_Format(PyExc_TypeError, "touchpoints must be a tuple of ids, not %R",
			     (PyObject *)Py_TYPE(args[4]));
		return NULL;
	}
	Py_ssize_t n = PyTuple_Size(args[4]);
	if (n < 0)
		return NULL;
	if ((uint64_t)n > UINT32_MAX) {
		fail_fmt(CXM_ERR_LIMIT, "%zd touchpoints are more than a driver set holds", n);
		return NULL;
	}
	cxm_id *tps = NULL;
	if (n > 0 && !(tps = PyMem_Malloc((size_t)n * sizeof *tps)))
		return PyErr_NoMemory();
	for (Py_ssize_t i = 0; i < n; i++)
		if (conv_id(ctx, PyTuple_GetItem(args[4], i), CXM_OBJECT_TOUCHPOINT, &tps[i],
			    "touchpoint") < 0) {
			PyMem_Free(tps);
			return NULL;
		}
	d.touchpoints = tps;
	d.n_touchpoints = (uint32_t)n;
	PyObject *keep;
	const char *name = name_of(args[0], &keep, "name");
	if (!name) {
		PyMem_Free(tps);
		return NULL;
	}
	cxm_id id;
	cxm_status st = cxm_drivers_define(&id, ctx, name, &d);
	Py_XDECREF(keep);
	PyMem_Free(tps);
	return ret_id(st, ctx, id);
}
SHIM_CTX(ctx_drivers_define)

/* A driver set's id from its name (cxm_drivers_find) or an id. */
static int conv_drivers_set(cxm_context *ctx, PyObject *o, cxm_id *out)
{
	if (!IS_STR(o))
		return conv_id(ctx, o, 0, out, "driver set");
	PyObject *keep;
	const char *name = name_of(o, &keep, "driver set");
	if (!name)
		return -1;
	cxm_status st = cxm_drivers_find(out, ctx, name);
	Py_XDECREF(keep);
	if (st) {
		raise_status(st, ctx);
		return -1;
	}
	return 0;
}

/* _drivers_find(name) -> id */
static PyObject *ctx_drivers_find(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				  PyObject *kwnames)
{
	cxm_context *ctx;
	if (nargs_between("_drivers_find", nargs, 1, 1) || no_kwargs("_drivers_find", kwnames) ||
	    !(ctx = live((CtxObject *)self_)))
		return NULL;
	PyObject *keep;
	const char *name = name_of(args[0], &keep, "driver set");
	if (!name)
		return NULL;
	cxm_id id;
	cxm_status st = cxm_drivers_find(&id, ctx, name);
	Py_XDECREF(keep);
	return ret_id(st, ctx, id);
}
SHIM_CTX(ctx_drivers_find)

/* _drivers_get(name_or_id) -> (id, name, outcome, driver, journey or None,
 * (touchpoint, ...), flags, window_ms) */
static PyObject *ctx_drivers_get(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				 PyObject *kwnames)
{
	cxm_context *ctx;
	if (nargs_between("_drivers_get", nargs, 1, 1) || no_kwargs("_drivers_get", kwnames) ||
	    !(ctx = live((CtxObject *)self_)))
		return NULL;
	cxm_id id;
	if (conv_drivers_set(ctx, args[0], &id) < 0)
		return NULL;
	cxm_drivers_def d = {.size = sizeof d};
	const char *name = NULL;
	cxm_status st = cxm_drivers_get(&d, &name, ctx, id);
	if (st)
		return raise_status(st, ctx);
	PyObject *tps = PyTuple_New((Py_ssize_t)d.n_touchpoints);
	if (!tps)
		return NULL;
	for (uint32_t i = 0; i < d.n_touchpoints; i++) {
		PyObject *t = PyLong_FromUnsignedLong(d.touchpoints[i]);
		if (!t) {
			Py_DECREF(tps);
			return NULL;
		}
		PyTuple_SetItem(tps, (Py_ssize_t)i, t);
	}
	PyObject *journey = d.journey == CXM_NONE ? Py_None : NULL;
	if (journey)
		Py_INCREF(journey);
	else if (!(journey = PyLong_FromUnsignedLong(d.journey))) {
		Py_DECREF(tps);
		return NULL;
	}
	return Py_BuildValue("(IsIINNIL)", (unsigned)id, name, (unsigned)d.outcome, (unsigned)d.driver,
			     journey, tps, (unsigned)d.flags, (long long)d.window_ms);
}
SHIM_CTX(ctx_drivers_get)

/* One cxm_driver as (touchpoint or None, n, importance, ci_low, ci_high,
 * p_value, significant, quadrant, performance, outcome_mean, ((n, mean,
 * ci_low, ci_high) of the bottom, middle and top band), band_difference,
 * band_ci_low, band_ci_high, band_p_value). */
static PyObject *driver_tuple(const cxm_driver *d)
{
	PyObject *tp;
	if (d->touchpoint == CXM_NONE) {
		Py_INCREF(Py_None);
		tp = Py_None;
	} else if (!(tp = PyLong_FromUnsignedLong(d->touchpoint))) {
		return NULL;
	}
	const cxm_driver_band *b = d->bands;
	return Py_BuildValue("(NKddddNIdd((Kddd)(Kddd)(Kddd))dddd)", tp, (unsigned long long)d->n,
			     d->importance, d->ci_low, d->ci_high, d->p_value,
			     PyBool_FromLong(d->significant != 0), (unsigned)d->quadrant, d->performance,
			     d->outcome_mean, (unsigned long long)b[0].n, b[0].mean, b[0].ci_low,
			     b[0].ci_high, (unsigned long long)b[1].n, b[1].mean, b[1].ci_low, b[1].ci_high,
			     (unsigned long long)b[2].n, b[2].mean, b[2].ci_low, b[2].ci_high,
			     d->band_difference, d->band_ci_low, d->band_ci_high, d->band_p_value);
}

/* _drivers_run(set): set a name or an id -> (n_drivers, outcomes, paired,
 * customers, unremembered, memory_bytes, [driver tuples]), the GIL
 * released for the calls. cxm_drivers_run() is asked first with no room:
 * CXM_ERR_LIMIT and res.n_drivers, then again with room for them. */
static PyObject *ctx_drivers_run(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				 PyObject *kwnames)
{
	CtxObject *self = (CtxObject *)self_;
	cxm_context *ctx;
	cxm_id set;
	if (nargs_between("_drivers_run", nargs, 1, 1) || no_kwargs("_drivers_run", kwnames) ||
	    !(ctx = live(self)) || conv_drivers_set(ctx, args[0], &set) < 0)
		return NULL;
	cxm_drivers_result res;
	cxm_driver *out = NULL;
	size_t cap = 0;
	cxm_status st = CXM_ERR_LIMIT;
	for (int tries = 0; st == CXM_ERR_LIMIT && tries < MANY_TRIES; tries++) {
		memset(&res, 0, sizeof res);
		res.size = sizeof res;
		if (out)
			out[0].size = sizeof *out;
		NOGIL_BEGIN(self);
		st = cxm_drivers_run(&res, out, cap, self->ctx, set);
		NOGIL_END(self);
		if (st != CXM_ERR_LIMIT)
			break;
		if (res.n_drivers <= cap)
			break; /* LIMIT with room for them all: libcxm's to explain */
		cap = res.n_drivers;
		PyMem_Free(out);
		if (!(out = PyMem_Malloc(cap * sizeof *out)))
			return PyErr_NoMemory();
	}
	if (st) {
		PyMem_Free(out);
		return raise_status(st, ctx);
	}
	size_t n = res.n_drivers < cap ? res.n_drivers : cap;
	PyObject *list = PyList_New((Py_ssize_t)n);
	for (size_t i = 0; list && i < n; i++) {
		PyObject *t = driver_tuple(&out[i]);
		if (!t) {
			Py_CLEAR(list);
			break;
		}
		PyList_SetItem(list, (Py_ssize_t)i, t);
	}
	PyMem_Free(out);
	if (!list)
		return NULL;
	return Py_BuildValue("(IKKKKKN)", (unsigned)res.n_drivers, (unsigned long long)res.outcomes,
			     (unsigned long long)res.paired, (unsigned long long)res.customers,
			     (unsigned long long)res.unremembered, (unsigned long long)res.memory_bytes,
			     list);
}
SHIM_CTX(ctx_drivers_run)

static PyObject *ctx_stats(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
			   PyObject *kwnames)
{
	cxm_context *ctx;
	if (nargs_between("stats", nargs, 0, 0) || no_kwargs("stats", kwnames) ||
	    !(ctx = live((CtxObject *)self_)))
		return NULL;
	cxm_stats s;
	s.size = sizeof s;
	cxm_status st = cxm_stats_get(&s, ctx);
	if (st)
		return raise_status(st, ctx);
	StatsObject *o = (StatsObject *)PyType_GenericAlloc(StatsType, 0);
	if (!o)
		return NULL;
	o->s = s;
	return (PyObject *)o;
}
SHIM_CTX(ctx_stats)

static PyObject *ctx_series_bytes(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				  PyObject *kwnames)
{
	cxm_context *ctx;
	cxm_id m;
	if (nargs_between("series_bytes", nargs, 1, 1) || no_kwargs("series_bytes", kwnames) ||
	    !(ctx = live((CtxObject *)self_)) || conv_id(ctx, args[0], CXM_OBJECT_METRIC, &m, NULL) < 0)
		return NULL;
	size_t n;
	cxm_status st = cxm_series_bytes(&n, ctx, m);
	if (st)
		return raise_status(st, ctx);
	return PyLong_FromSize_t(n);
}
SHIM_CTX(ctx_series_bytes)

/* The 16 bytes of a customer's keyed hash: its two words, little-endian. */
static PyObject *hash_bytes(const uint64_t w[2])
{
	unsigned char b[16];
	for (int i = 0; i < 16; i++)
		b[i] = (unsigned char)(w[i / 8] >> (8 * (i % 8)));
	return PyBytes_FromStringAndSize((const char *)b, 16);
}

enum { CUST_LAST_SEEN, CUST_FORGET, CUST_HASH };

static PyObject *customer_call(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
			       PyObject *kwnames, int op)
{
	static const char *const fnames[] = {"_last_seen", "_forget", "customer_hash"};
	const char *fname = fnames[op];
	cxm_context *ctx;
	if (nargs_between(fname, nargs, 1, 1) || no_kwargs(fname, kwnames) ||
	    !(ctx = live((CtxObject *)self_)))
		return NULL;
	builder b = {ctx, VEC(cxm_interaction), VEC(cxm_measure), VEC(uint32_t), VEC(PyObject *),
		     VEC(Py_ssize_t), 0};
	const void *p;
	size_t len;
	PyObject *r = NULL;
	if (args[0] == Py_None) {
		PyErr_SetString(PyExc_TypeError, "customer must be str, bytes or int");
	} else if (conv_customer(&b, args[0], &p, &len, 1) == 0) {
		int64_t t = 0;
		uint64_t h[2];
		cxm_status st = op == CUST_FORGET ? cxm_customer_forget(ctx, p, len)
				: op == CUST_HASH ? cxm_customer_hash(h, ctx, p, len)
						  : cxm_customer_last_seen(&t, ctx, p, len);
		if (st)
			raise_status(st, ctx);
		else if (op == CUST_FORGET)
			r = (Py_INCREF(Py_None), Py_None);
		else if (op == CUST_HASH)
			r = hash_bytes(h);
		else
			r = PyLong_FromLongLong(t);
	}
	drop_refs(&b);
	vec_free(&b.keep);
	return r;
}

static PyObject *ctx_last_seen(PyObject *s, PyObject *const *a, Py_ssize_t n, PyObject *k)
{
	return customer_call(s, a, n, k, CUST_LAST_SEEN);
}
SHIM_CTX(ctx_last_seen)

static PyObject *ctx_forget(PyObject *s, PyObject *const *a, Py_ssize_t n, PyObject *k)
{
	return customer_call(s, a, n, k, CUST_FORGET);
}
SHIM_CTX(ctx_forget)

static PyObject *ctx_customer_hash(PyObject *s, PyObject *const *a, Py_ssize_t n, PyObject *k)
{
	return customer_call(s, a, n, k, CUST_HASH);
}
SHIM_CTX(ctx_customer_hash)

/* ---- journeys, funnels, churn --------------------------------------------------- */

typedef struct {
	PyObject_HEAD
	cxm_funnel f;
	PyObject *steps; /* tuple of FunnelStep */
} FunnelObject;

typedef struct {
	PyObject_HEAD
	cxm_funnel_step s;
	uint32_t index;
} FunnelStepObject;

typedef struct {
	PyObject_HEAD
	cxm_churn c;
} ChurnObject;

static PyTypeObject *FunnelType, *FunnelStepType, *ChurnType;

/* An instant given: never CXM_NOW or CXM_WATERMARK by accident (libcxm
 * refuses the value it becomes as out of range). */
static int conv_instant(PyObject *o, int64_t *out)
{
	if (conv_time_ms(o, out) < 0)
		return -1;
	if (*out == CXM_NOW || *out == CXM_WATERMARK)
		*out = CXM_WATERMARK + 1;
	return 0;
}

/* An optional instant: None is the context clock's now (CXM_NOW). */
static int conv_opt_time(PyObject *o, int64_t *out)
{
	if (o == Py_None) {
		*out = CXM_NOW;
		return 0;
	}
	return conv_instant(o, out);
}

/* A window's end: an instant, None (CXM_NOW, the context clock's now) or
 * "watermark" (CXM_WATERMARK; resolved by end_resolve() at each call). A
 * str that is neither "watermark" nor a time says both. */
static int conv_end(PyObject *o, int64_t *out)
{
	if (o == Py_None) {
		*out = CXM_NOW;
		return 0;
	}
	if (!IS_STR(o))
		return conv_instant(o, out);
	if (PyUnicode_CompareWithASCIIString(o, "watermark") == 0) {
		*out = CXM_WATERMARK;
		return 0;
	}
	if (PyErr_Occurred()) /* a str that does not encode */
		return -1;
	if (conv_instant(o, out) == 0)
		return 0;
	if (PyErr_ExceptionMatches(PyExc_ValueError) && !PyErr_ExceptionMatches(Error)) {
		PyObject *t, *v, *tb;
		PyErr_Fetch(&t, &v, &tb);
		PyErr_NormalizeException(&t, &v, &tb);
		PyErr_Format(PyExc_ValueError, "end %R is neither \"watermark\" nor a time (%S)", o,
			     v ? v : Py_None);
		Py_XDECREF(t);
		Py_XDECREF(v);
		Py_XDECREF(tb);
	}
	return -1;
}

/* _journey_set_options(journey, flags, conversion_ms, abandon_ms, lateness_ms, repeat_ms) */
static PyObject *ctx_journey_set_options(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
					 PyObject *kwnames)
{
	cxm_context *ctx;
	if (nargs_between("_journey_set_options", nargs, 6, 6) ||
	    no_kwargs("_journey_set_options", kwnames) || !(ctx = live((CtxObject *)self_)))
		return NULL;
	cxm_journey_options o;
	cxm_journey_options_init(&o, sizeof o);
	cxm_id journey;
	if (conv_id(ctx, args[0], CXM_OBJECT_JOURNEY, &journey, NULL) < 0 ||
	    conv_u32(args[1], &o.flags, "flags") < 0 || conv_span_ms(args[2], &o.conversion_ms) < 0 ||
	    conv_span_ms(args[3], &o.abandon_ms) < 0 || conv_span_ms(args[4], &o.lateness_ms) < 0 ||
	    conv_span_ms(args[5], &o.repeat_ms) < 0)
		return NULL;
	cxm_status st = cxm_journey_set_options(ctx, journey, &o);
	if (st)
		return raise_status(st, ctx);
	Py_RETURN_NONE;
}
SHIM_CTX(ctx_journey_set_options)

/* _journey_get_options(journey) -> (flags, conversion_ms, abandon_ms, lateness_ms, repeat_ms) */
static PyObject *ctx_journey_get_options(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
					 PyObject *kwnames)
{
	cxm_context *ctx;
	cxm_id journey;
	if (nargs_between("_journey_get_options", nargs, 1, 1) ||
	    no_kwargs("_journey_get_options", kwnames) || !(ctx = live((CtxObject *)self_)) ||
	    conv_id(ctx, args[0], CXM_OBJECT_JOURNEY, &journey, NULL) < 0)
		return NULL;
	cxm_journey_options o;
	o.size = sizeof o;
	cxm_status st = cxm_journey_get_options(&o, ctx, journey);
	if (st)
		return raise_status(st, ctx);
	return Py_BuildValue("(ILLLL)", (unsigned)o.flags, (long long)o.conversion_ms,
			     (long long)o.abandon_ms, (long long)o.lateness_ms, (long long)o.repeat_ms);
}
SHIM_CTX(ctx_journey_get_options)

/* args[0..5]: journey, span, end (None: now), segment (None), segment value, channel (0) */
static int conv_funnel_query(cxm_context *ctx, PyObject *const *args, cxm_funnel_query *q)
{
	cxm_funnel_query_init(q, sizeof *q);
	if (conv_id(ctx, args[0], CXM_OBJECT_JOURNEY, &q->journey, NULL) < 0 ||
	    conv_span_ms(args[1], &q->span_ms) < 0 || conv_end(args[2], &q->end_ms) < 0 ||
	    (args[3] != Py_None && conv_id(ctx, args[3], CXM_OBJECT_SEGMENT, &q->segment, NULL) < 0) ||
	    conv_id(NULL, args[4], 0, &q->segment_value, "segment value") < 0 ||
	    conv_u32(args[5], &q->channel, "channel") < 0)
		return -1;
	return 0;
}

#define FUNNEL_CAP 256 /* journeys of more than 255 steps are not tracked */

/* _funnel(journey, span, end, segment, value, channel[, cohort]): with a
 * true cohort, the entry-cohort funnel (cxm_funnel_cohort_run) of the same
 * query, else the event-time one (cxm_funnel_run). */
static PyObject *ctx_funnel(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
			    PyObject *kwnames)
{
	CtxObject *self = (CtxObject *)self_;
	cxm_context *ctx;
	cxm_funnel_query q;
	int cohort = 0;
	if (nargs_between("_funnel", nargs, 6, 7) || no_kwargs("_funnel", kwnames) ||
	    !(ctx = live(self)) || conv_funnel_query(ctx, args, &q) < 0)
		return NULL;
	if (nargs > 6 && (cohort = PyObject_IsTrue(args[6])) < 0)
		return NULL;
	/* the header asks for steps[0].size only; every size is set, since
	 * libcxm's writer also reads each element's own size field */
	cxm_funnel_step *steps = PyMem_Calloc(FUNNEL_CAP, sizeof *steps);
	if (!steps)
		return PyErr_NoMemory();
	for (size_t i = 0; i < FUNNEL_CAP; i++)
		steps[i].size = sizeof *steps;
	cxm_funnel f;
	f.size = sizeof f;
	cxm_status st;
	q.end_ms = end_resolve(self, q.end_ms);
	clock_slot saved;
	if (clock_for(self, q.end_ms, q.end_ms, &saved) < 0) {
		PyMem_Free(steps);
		return NULL;
	}
	NOGIL_BEGIN(self);
	st = (cohort ? cxm_funnel_cohort_run : cxm_funnel_run)(&f, steps, FUNNEL_CAP, self->ctx, &q);
	NOGIL_END(self);
	clock_end(&saved);
	PyObject *t = NULL;
	FunnelObject *o = NULL;
	if (st) {
		raise_status(st, ctx);
		goto out;
	}
	if (!(t = PyTuple_New((Py_ssize_t)f.n_steps)))
		goto out;
	for (uint32_t i = 0; i < f.n_steps; i++) {
		FunnelStepObject *s = (FunnelStepObject *)PyType_GenericAlloc(FunnelStepType, 0);
		if (!s)
			goto out;
		s->s = steps[i];
		s->index = i;
		PyTuple_SetItem(t, (Py_ssize_t)i, (PyObject *)s);
	}
	if (!(o = (FunnelObject *)PyType_GenericAlloc(FunnelType, 0)))
		goto out;
	o->f = f;
	o->steps = t;
	t = NULL;
out:
	Py_XDECREF(t);
	PyMem_Free(steps);
	return (PyObject *)o;
}
SHIM_CTX(ctx_funnel)

/* _funnel_quantiles(journey, span, end, segment, value, channel, step or None, qs) */
static PyObject *ctx_funnel_quantiles(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				      PyObject *kwnames)
{
	CtxObject *self = (CtxObject *)self_;
	cxm_context *ctx;
	cxm_funnel_query q;
	cxm_id step;
	if (nargs_between("_funnel_quantiles", nargs, 8, 8) ||
	    no_kwargs("_funnel_quantiles", kwnames) || !(ctx = live(self)) ||
	    conv_funnel_query(ctx, args, &q) < 0 || conv_opt_id(args[6], &step, "step") < 0)
		return NULL;
	PyObject *seq = PySequence_Tuple(args[7]);
	if (!seq)
		return NULL;
	double qs[65] = {0}, out[65];
	Py_ssize_t n = PyTuple_Size(seq);
	for (Py_ssize_t i = 0; i < n && i < 64; i++)
		if (conv_real(PyTuple_GetItem(seq, i), &qs[i], "a quantile") < 0) {
			Py_DECREF(seq);
			return NULL;
		}
	Py_DECREF(seq);
	if (n > 64)
		n = 65; /* libcxm says how many it takes */
	cxm_status st;
	q.end_ms = end_resolve(self, q.end_ms);
	clock_slot saved;
	if (clock_for(self, q.end_ms, q.end_ms, &saved) < 0) {
		return NULL;
	}
	NOGIL_BEGIN(self);
	st = cxm_funnel_quantiles(out, self->ctx, &q, step, n ? qs : NULL, (size_t)n);
	NOGIL_END(self);
	clock_end(&saved);
	if (st)
		return raise_status(st, ctx);
	PyObject *t = PyTuple_New(n);
	for (Py_ssize_t i = 0; t && i < n; i++)
		PyTuple_SetItem(t, i, PyFloat_FromDouble(out[i]));
	return t;
}
SHIM_CTX(ctx_funnel_quantiles)

/* _sweep(now or None) -> instances closed */
static PyObject *ctx_sweep(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
			   PyObject *kwnames)
{
	CtxObject *self = (CtxObject *)self_;
	cxm_context *ctx;
	int64_t now;
	if (nargs_between("_sweep", nargs, 1, 1) || no_kwargs("_sweep", kwnames) ||
	    !(ctx = live(self)) || conv_opt_time(args[0], &now) < 0)
		return NULL;
	uint64_t closed = 0;
	cxm_status st;
	clock_slot saved;
	if (clock_if(self, now == CXM_NOW, &saved) < 0) {
		return NULL;
	}
	NOGIL_BEGIN(self);
	st = cxm_journey_sweep(&closed, self->ctx, now);
	NOGIL_END(self);
	clock_end(&saved);
	if (st)
		return raise_status(st, ctx);
	return PyLong_FromUnsignedLongLong(closed);
}
SHIM_CTX(ctx_sweep)

/* churn(customer, time) */
static PyObject *ctx_churn(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
			   PyObject *kwnames)
{
	cxm_context *ctx;
	int64_t t;
	if (nargs_between("churn", nargs, 2, 2) || no_kwargs("churn", kwnames) ||
	    !(ctx = live((CtxObject *)self_)))
		return NULL;
	if (args[0] == Py_None) {
		PyErr_SetString(PyExc_TypeError, "customer must be str, bytes or int");
		return NULL;
	}
	if (conv_time_ms(args[1], &t) < 0)
		return NULL;
	builder b = {ctx, VEC(cxm_interaction), VEC(cxm_measure), VEC(uint32_t), VEC(PyObject *),
		     VEC(Py_ssize_t), 0};
	const void *p;
	size_t len;
	PyObject *r = NULL;
	clock_slot saved;
	if (conv_customer(&b, args[0], &p, &len, 1) == 0 &&
	    clock_begin((CtxObject *)self_, &saved) == 0) {
		cxm_status st = cxm_customer_churn(ctx, p, len, t);
		clock_end(&saved);
		if (st)
			raise_status(st, ctx);
		else
			r = (Py_INCREF(Py_None), Py_None);
	}
	drop_refs(&b);
	vec_free(&b.keep);
	return r;
}
SHIM_CTX(ctx_churn)

/* _churn_rate(distinct, end or None, span, active) */
static PyObject *ctx_churn_rate(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				PyObject *kwnames)
{
	CtxObject *self = (CtxObject *)self_;
	cxm_context *ctx;
	cxm_id m;
	int64_t end, span, active;
	if (nargs_between("_churn_rate", nargs, 4, 4) || no_kwargs("_churn_rate", kwnames) ||
	    !(ctx = live(self)) || conv_id(ctx, args[0], CXM_OBJECT_METRIC, &m, NULL) < 0 ||
	    conv_end(args[1], &end) < 0 || conv_span_ms(args[2], &span) < 0 ||
	    conv_span_ms(args[3], &active) < 0)
		return NULL;
	cxm_churn c;
	c.size = sizeof c;
	cxm_status st;
	end = end_resolve(self, end);
	clock_slot saved;
	if (clock_for(self, end, end, &saved) < 0) {
		return NULL;
	}
	NOGIL_BEGIN(self);
	st = cxm_churn_rate(&c, self->ctx, m, end, span, active);
	NOGIL_END(self);
	clock_end(&saved);
	if (st)
		return raise_status(st, ctx);
	ChurnObject *o = (ChurnObject *)PyType_GenericAlloc(ChurnType, 0);
	if (!o)
		return NULL;
	o->c = c;
	return (PyObject *)o;
}
SHIM_CTX(ctx_churn_rate)

/* ---- snapshots and merge ------------------------------------------------------ */

/* Bytes collected by a callback that runs without the GIL: libc memory,
 * since the limited API has no PyMem_Raw*. */
typedef struct {
	char *p;
	size_t n, cap;
	int nomem;
} rawbuf;

static int rawbuf_put(rawbuf *b, const void *data, size_t len)
{
	if (len > b->cap - b->n) {
		size_t cap = b->cap ? b->cap : 65536;
		while (cap - b->n < len) {
			if (cap > SIZE_MAX / 2 || cap > (size_t)PY_SSIZE_T_MAX / 2) {
				b->nomem = 1;
				return 1;
			}
			cap *= 2;
		}
		char *p = realloc(b->p, cap);
		if (!p) {
			b->nomem = 1;
			return 1;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, data, len);
	b->n += len;
	return 0;
}

static int snapshot_put(const void *data, size_t len, void *payload)
{
	return rawbuf_put(payload, data, len);
}

static int export_put(const char *data, size_t len, void *payload)
{
	return rawbuf_put(payload, data, len);
}

/* A failed call that wrote into a rawbuf: our own out-of-memory is
 * libcxm's CXM_ERR_IO ("the callback refused"), told apart here. */
static PyObject *raise_rawbuf(cxm_status st, const cxm_context *ctx, const rawbuf *b)
{
	if (st == CXM_ERR_IO && b->nomem)
		return raise_msg(CXM_ERR_NO_MEMORY, "out of memory while collecting the bytes");
	return raise_status(st, ctx);
}

/* _snapshot_bytes() -> bytes (cxm_snapshot_write into memory) */
static PyObject *ctx_snapshot_bytes(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				    PyObject *kwnames)
{
	CtxObject *self = (CtxObject *)self_;
	cxm_context *ctx;
	if (nargs_between("snapshot", nargs, 0, 0) || no_kwargs("snapshot", kwnames) ||
	    !(ctx = live(self)))
		return NULL;
	rawbuf b = {NULL, 0, 0, 0};
	cxm_status st;
	NOGIL_BEGIN(self);
	st = cxm_snapshot_write(self->ctx, snapshot_put, &b);
	NOGIL_END(self);
	PyObject *r = st ? raise_rawbuf(st, ctx, &b) : PyBytes_FromStringAndSize(b.p, (Py_ssize_t)b.n);
	free(b.p);
	return r;
}
SHIM_CTX(ctx_snapshot_bytes)

/* What a snapshot call reads or writes: a path (str, bytes, os.PathLike)
 * or, for loads and merges, the bytes of a snapshot (any bytes-like). */
enum { SNAP_SAVE, SNAP_LOAD, SNAP_MERGE };

static PyObject *snapshot_file(CtxObject *self, PyObject *path, int op)
{
	cxm_context *ctx = self->ctx;
	PyObject *fs = NULL;
	if (!PyUnicode_FSConverter(path, &fs))
		return NULL;
	const char *p = PyBytes_AsString(fs);
	cxm_status st;
	if (!p) {
		Py_DECREF(fs);
		return NULL;
	}
	NOGIL_BEGIN(self);
	st = op == SNAP_SAVE ? cxm_snapshot_save(self->ctx, p)
	     : op == SNAP_LOAD ? cxm_snapshot_load(self->ctx, p)
			       : cxm_snapshot_merge(self->ctx, p);
	NOGIL_END(self);
	Py_DECREF(fs);
	if (st)
		return raise_status(st, ctx);
	Py_RETURN_NONE;
}

static PyObject *snapshot_mem(CtxObject *self, PyObject *data, int op)
{
	cxm_context *ctx = self->ctx;
	/* bytes in place; anything else (bytearray, memoryview, array) as a
	 * copy, since the 3.8 stable ABI has no buffer protocol */
	PyObject *b = PyBytes_Check(data) ? (Py_INCREF(data), data) : PyBytes_FromObject(data);
	if (!b)
		return NULL;
	char *p;
	Py_ssize_t n;
	if (PyBytes_AsStringAndSize(b, &p, &n) < 0) {
		Py_DECREF(b);
		return NULL;
	}
	cxm_status st;
	NOGIL_BEGIN(self);
	st = op == SNAP_LOAD ? cxm_snapshot_load_mem(self->ctx, p, (size_t)n)
			     : cxm_snapshot_merge_mem(self->ctx, p, (size_t)n);
	NOGIL_END(self);
	Py_DECREF(b);
	if (st)
		return raise_status(st, ctx);
	Py_RETURN_NONE;
}

static PyObject *ctx_save(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
			  PyObject *kwnames)
{
	if (nargs_between("_save", nargs, 1, 1) || no_kwargs("_save", kwnames) ||
	    !live((CtxObject *)self_))
		return NULL;
	return snapshot_file((CtxObject *)self_, args[0], SNAP_SAVE);
}
SHIM_CTX(ctx_save)

/* _load(source, is_path). libcxm forbids any other call on the context
 * during a load: the context is marked so that calls from other threads
 * raise instead of racing, and a load while one runs is refused. */
static PyObject *ctx_load(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
			  PyObject *kwnames)
{
	CtxObject *self = (CtxObject *)self_;
	if (nargs_between("_load", nargs, 2, 2) || no_kwargs("_load", kwnames) || !live(self))
		return NULL;
	int is_path = PyObject_IsTrue(args[1]);
	if (is_path < 0)
		return NULL;
	if (self->busy != 1) {
		fail_fmt(CXM_ERR_INVALID, "load: the context is in use by another thread");
		return NULL;
	}
	self->loading = 1;
	PyObject *r = is_path ? snapshot_file(self, args[0], SNAP_LOAD)
			      : snapshot_mem(self, args[0], SNAP_LOAD);
	self->loading = 0;
	return r;
}
SHIM_CTX(ctx_load)

/* _merge(source, kind): kind 0 a Context, 1 a path, 2 bytes */
static PyObject *ctx_merge(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
			   PyObject *kwnames)
{
	CtxObject *self = (CtxObject *)self_;
	cxm_context *ctx;
	if (nargs_between("_merge", nargs, 2, 2) || no_kwargs("_merge", kwnames) ||
	    !(ctx = live(self)))
		return NULL;
	long kind = PyLong_AsLong(args[1]);
	if (kind == -1 && PyErr_Occurred())
		return NULL;
	if (kind == 1)
		return snapshot_file(self, args[0], SNAP_MERGE);
	if (kind == 2)
		return snapshot_mem(self, args[0], SNAP_MERGE);
	if (!PyObject_TypeCheck(args[0], ContextType)) {
		PyErr_Format(PyExc_TypeError, "merge() takes a Context, a path or bytes, not %R",
			     (PyObject *)Py_TYPE(args[0]));
		return NULL;
	}
	CtxObject *src = (CtxObject *)args[0];
	if (!live(src))
		return NULL;
	cxm_status st;
	Py_INCREF(src);
	src->busy++; /* a close() of the source meanwhile waits for us */
	NOGIL_BEGIN(self);
	st = cxm_merge(self->ctx, src->ctx);
	NOGIL_END(self);
	if (--src->busy == 0 && src->closing)
		release_ctx(src);
	Py_DECREF(src);
	if (st)
		return raise_status(st, ctx);
	Py_RETURN_NONE;
}
SHIM_CTX(ctx_merge)

/* ---- exposition ----------------------------------------------------------------- */

/* _export(format, flags, buckets or None, label names, label values) -> str */
static PyObject *ctx_export(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
			    PyObject *kwnames)
{
	CtxObject *self = (CtxObject *)self_;
	cxm_context *ctx;
	if (nargs_between("_export", nargs, 5, 5) || no_kwargs("_export", kwnames) ||
	    !(ctx = live(self)))
		return NULL;
	cxm_export_options o;
	cxm_export_options_init(&o, sizeof o);
	uint32_t fmt;
	if (conv_u32(args[0], &fmt, "format") < 0 || conv_u32(args[1], &o.flags, "flags") < 0)
		return NULL;
	o.format = (cxm_export_format)fmt;
	/* one past each limit is read, so that libcxm refuses too many itself */
	double buckets[CXM_EXPORT_MAX_BUCKETS + 1];
	const char *names[CXM_EXPORT_MAX_LABELS + 1], *values[CXM_EXPORT_MAX_LABELS + 1];
	PyObject *keep[2 * (CXM_EXPORT_MAX_LABELS + 1)] = {NULL};
	PyObject *bseq = NULL, *nseq = NULL, *vseq = NULL, *r = NULL;
	if (args[2] != Py_None) {
		if (!(bseq = PySequence_Tuple(args[2])))
			goto out;
		Py_ssize_t n = PyTuple_Size(bseq);
		if (n > CXM_EXPORT_MAX_BUCKETS + 1)
			n = CXM_EXPORT_MAX_BUCKETS + 1;
		for (Py_ssize_t i = 0; i < n; i++)
			if (conv_real(PyTuple_GetItem(bseq, i), &buckets[i], "a bucket bound") < 0)
				goto out;
		if (n == 0) { /* libcxm would read no bounds as "the defaults" */
			fail_fmt(CXM_ERR_OUT_OF_RANGE, "buckets=[] would be replaced by the default "
				 "bounds: give at least one, or None for the defaults");
			goto out;
		}
		o.buckets = buckets;
		o.n_buckets = (uint32_t)n;
	}
	if (!(nseq = PySequence_Tuple(args[3])) || !(vseq = PySequence_Tuple(args[4])))
		goto out;
	Py_ssize_t nl = PyTuple_Size(nseq);
	if (nl != PyTuple_Size(vseq)) {
		PyErr_SetString(PyExc_TypeError, "as many label values as names");
		goto out;
	}
	if (nl > CXM_EXPORT_MAX_LABELS + 1)
		nl = CXM_EXPORT_MAX_LABELS + 1;
	for (Py_ssize_t i = 0; i < nl; i++)
		if (!(names[i] = name_of(PyTuple_GetItem(nseq, i), &keep[2 * i], "a label name")) ||
		    !(values[i] = name_of(PyTuple_GetItem(vseq, i), &keep[2 * i + 1], "a label value")))
			goto out;
	o.n_labels = (uint32_t)nl;
	o.label_names = nl ? names : NULL;
	o.label_values = nl ? values : NULL;
	rawbuf b = {NULL, 0, 0, 0};
	cxm_status st;
	NOGIL_BEGIN(self);
	st = cxm_export_write(self->ctx, &o, export_put, &b);
	NOGIL_END(self);
	r = st ? raise_rawbuf(st, ctx, &b) : PyUnicode_DecodeUTF8(b.p ? b.p : "", (Py_ssize_t)b.n, NULL);
	free(b.p);
out:
	for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
		Py_XDECREF(keep[i]);
	Py_XDECREF(bseq);
	Py_XDECREF(nseq);
	Py_XDECREF(vseq);
	return r;
}
SHIM_CTX(ctx_export)

/* ---- triggers and events ---------------------------------------------------------- */

typedef struct {
	PyObject_HEAD
	cxm_event e;
} EventObject;

static PyTypeObject *EventType;

/* What a trigger's id names, by scope (cxm_scope), for messages. */
static const char *const scope_what[] = {"id", "touchpoint", "journey", "journey", "channel"};

/* _trigger_define(metric, item, op, threshold, scope, id, step, segment,
 * segment_value): the rule's id. The package has resolved the names and
 * the op; libcxm checks every value against the model. */
static PyObject *ctx_trigger_define(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				    PyObject *kwnames)
{
	cxm_context *ctx;
	if (nargs_between("_trigger_define", nargs, 9, 9) || no_kwargs("_trigger_define", kwnames) ||
	    !(ctx = live((CtxObject *)self_)))
		return NULL;
	cxm_trigger_def d;
	cxm_trigger_def_init(&d, sizeof d);
	uint32_t op, scope;
	if (conv_id(ctx, args[0], CXM_OBJECT_METRIC, &d.metric, NULL) < 0 ||
	    conv_u32(args[1], &d.item, "item") < 0 || conv_u32(args[2], &op, "op") < 0 ||
	    conv_real(args[3], &d.threshold, "threshold") < 0 || conv_u32(args[4], &scope, "scope") < 0 ||
	    conv_id(ctx, args[5], 0, &d.id, scope < 5 ? scope_what[scope] : "id") < 0 ||
	    conv_opt_id(args[6], &d.step, "step") < 0 ||
	    conv_opt_id(args[7], &d.segment, "segment dimension") < 0 ||
	    conv_id(ctx, args[8], 0, &d.segment_value, "segment value") < 0)
		return NULL;
	/* values beyond the enums stay beyond them: libcxm refuses them */
	d.op = op > (uint32_t)INT_MAX ? (cxm_cmp)INT_MAX : (cxm_cmp)op;
	d.scope = scope > (uint32_t)INT_MAX ? (cxm_scope)INT_MAX : (cxm_scope)scope;
	cxm_id id;
	cxm_status st = cxm_trigger_define(&id, ctx, &d);
	return ret_id(st, ctx, id);
}
SHIM_CTX(ctx_trigger_define)

/* _trigger_enable(rule, on): the package checks that on is a bool. */
static PyObject *ctx_trigger_enable(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				    PyObject *kwnames)
{
	cxm_context *ctx;
	cxm_id rule;
	if (nargs_between("_trigger_enable", nargs, 2, 2) || no_kwargs("_trigger_enable", kwnames) ||
	    !(ctx = live((CtxObject *)self_)) || conv_id(ctx, args[0], 0, &rule, "trigger") < 0)
		return NULL;
	int on = PyObject_IsTrue(args[1]);
	if (on < 0)
		return NULL;
	cxm_status st = cxm_trigger_enable(ctx, rule, on);
	if (st)
		return raise_status(st, ctx);
	Py_RETURN_NONE;
}
SHIM_CTX(ctx_trigger_enable)

/* _trigger_get(rule): (metric, item, op, threshold, scope, id, step,
 * segment, segment_value, enabled); step None but for a STEP scope,
 * segment and segment_value None without a segment filter. */
static PyObject *ctx_trigger_get(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				 PyObject *kwnames)
{
	cxm_context *ctx;
	cxm_id rule;
	if (nargs_between("_trigger_get", nargs, 1, 1) || no_kwargs("_trigger_get", kwnames) ||
	    !(ctx = live((CtxObject *)self_)) || conv_id(ctx, args[0], 0, &rule, "trigger") < 0)
		return NULL;
	cxm_trigger_def d;
	cxm_trigger_def_init(&d, sizeof d);
	int on = 0;
	cxm_status st = cxm_trigger_get(&d, &on, ctx, rule);
	if (st)
		return raise_status(st, ctx);
	int seg = d.segment != CXM_NONE;
	return Py_BuildValue("(IIidiINNNN)", (unsigned)d.metric, (unsigned)d.item, (int)d.op,
			     d.threshold, (int)d.scope, (unsigned)d.id,
			     opt_id(d.scope == CXM_SCOPE_STEP ? d.step : CXM_NONE), opt_id(d.segment),
			     opt_id(seg ? d.segment_value : CXM_NONE), PyBool_FromLong(on));
}
SHIM_CTX(ctx_trigger_get)

#define POLL_CHUNK 64
static argspec poll_spec = {"poll_events", 1, 0, 1, {"max_events"}, {0}};

/* poll_events(max_events=1024): a list of Event, oldest first. libcxm's
 * poll is lock-free and short, so the GIL stays held; events are taken
 * POLL_CHUNK at a time, so memory follows what the queue held, not
 * max_events. An event taken off the queue cannot be put back: if
 * Python runs out of memory for its object, it is lost with the
 * MemoryError. */
static PyObject *ctx_poll_events(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				 PyObject *kwnames)
{
	PyObject *a[1];
	cxm_context *ctx;
	if (parse(&poll_spec, args, nargs, kwnames, a) < 0 || !(ctx = live((CtxObject *)self_)))
		return NULL;
	int64_t left = 1024;
	if (a[0] && index_int64(a[0], &left, "max_events") < 0)
		return NULL;
	if (left < 1) {
		fail_fmt(CXM_ERR_OUT_OF_RANGE, "max_events must be at least 1, not %R", a[0]);
		return NULL;
	}
	PyObject *list = PyList_New(0);
	if (!list)
		return NULL;
	cxm_event ev[POLL_CHUNK];
	while (left > 0) {
		size_t cap = left < POLL_CHUNK ? (size_t)left : POLL_CHUNK, n = 0;
		ev[0].size = sizeof ev[0];
		cxm_status st = cxm_events_poll(ev, cap, &n, ctx);
		if (st) {
			Py_DECREF(list);
			return raise_status(st, ctx);
		}
		for (size_t i = 0; i < n; i++) {
			EventObject *o = (EventObject *)PyType_GenericAlloc(EventType, 0);
			if (!o || PyList_Append(list, (PyObject *)o) < 0) {
				Py_XDECREF(o);
				Py_DECREF(list);
				return NULL;
			}
			o->e = ev[i];
			Py_DECREF(o);
		}
		left -= (int64_t)n;
		if (n < cap)
			break;
	}
	return list;
}
SHIM_CTX(ctx_poll_events)

/* ---- the survey governor ------------------------------------------------------------ */

/* _survey_define(name, min_since_invite, min_since_response, max_invites,
 * window, sample_rate, scope, id, step): the survey's id. The package has
 * resolved the names and turned None into libcxm's 0 ("no such rule"),
 * refusing a 0 that libcxm would misread (a cap of 0, a rate of 0); the
 * durations go through the window converter, so "7d" works here too. */
static PyObject *ctx_survey_define(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				   PyObject *kwnames)
{
	cxm_context *ctx;
	if (nargs_between("_survey_define", nargs, 9, 9) || no_kwargs("_survey_define", kwnames) ||
	    !(ctx = live((CtxObject *)self_)))
		return NULL;
	cxm_survey_def d;
	cxm_survey_def_init(&d, sizeof d);
	uint32_t scope;
	if (conv_span_ms(args[1], &d.min_since_invite_ms) < 0 ||
	    conv_span_ms(args[2], &d.min_since_response_ms) < 0 ||
	    conv_u32(args[3], &d.max_invites, "max_invites") < 0 ||
	    conv_span_ms(args[4], &d.invites_window_ms) < 0 ||
	    conv_real(args[5], &d.sample_rate, "sample_rate") < 0 ||
	    conv_u32(args[6], &scope, "scope") < 0 ||
	    conv_id(ctx, args[7], 0, &d.id, scope < 5 ? scope_what[scope] : "id") < 0 ||
	    conv_opt_id(args[8], &d.step, "step") < 0)
		return NULL;
	/* a scope beyond the enum stays beyond it: libcxm refuses it */
	d.scope = scope > (uint32_t)INT_MAX ? (cxm_scope)INT_MAX : (cxm_scope)scope;
	PyObject *keep;
	const char *name = name_of(args[0], &keep, "a survey name");
	if (!name)
		return NULL;
	cxm_id id;
	cxm_status st = cxm_survey_define(&id, ctx, name, &d);
	Py_XDECREF(keep);
	return ret_id(st, ctx, id);
}
SHIM_CTX(ctx_survey_define)

/* _survey_find(name): the survey's id (cxm_survey_find). */
static PyObject *ctx_survey_find(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				 PyObject *kwnames)
{
	cxm_context *ctx;
	if (nargs_between("_survey_find", nargs, 1, 1) || no_kwargs("_survey_find", kwnames) ||
	    !(ctx = live((CtxObject *)self_)))
		return NULL;
	PyObject *keep;
	const char *name = name_of(args[0], &keep, "a survey name");
	if (!name)
		return NULL;
	cxm_id id;
	cxm_status st = cxm_survey_find(&id, ctx, name);
	Py_XDECREF(keep);
	return ret_id(st, ctx, id);
}
SHIM_CTX(ctx_survey_find)

/* _governor_set(min_since_invite, min_since_response, max_invites, window) */
static PyObject *ctx_governor_set(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				  PyObject *kwnames)
{
	cxm_context *ctx;
	if (nargs_between("_governor_set", nargs, 4, 4) || no_kwargs("_governor_set", kwnames) ||
	    !(ctx = live((CtxObject *)self_)))
		return NULL;
	cxm_governor_rules r;
	cxm_governor_rules_init(&r, sizeof r);
	if (conv_span_ms(args[0], &r.min_since_invite_ms) < 0 ||
	    conv_span_ms(args[1], &r.min_since_response_ms) < 0 ||
	    conv_u32(args[2], &r.max_invites, "max_invites") < 0 ||
	    conv_span_ms(args[3], &r.invites_window_ms) < 0)
		return NULL;
	cxm_status st = cxm_governor_set(ctx, &r);
	if (st)
		return raise_status(st, ctx);
	Py_RETURN_NONE;
}
SHIM_CTX(ctx_governor_set)

/* The customer id of a governor call: as feed() takes it, but None (no
 * customer) is a TypeError here, as for churn(). */
static int gov_customer(builder *b, PyObject *c, const void **p, size_t *len)
{
	if (c == Py_None) {
		PyErr_SetString(PyExc_TypeError, "customer must be str, bytes or int");
		return -1;
	}
	return conv_customer(b, c, p, len, 1);
}

/* _should_ask(survey, customer, touchpoint, time) -> (cxm_ask, until_ms):
 * until_ms is -1 when no time ends the answer. Short and lock-striped in
 * libcxm: the GIL stays held, as for feed(). */
static PyObject *ctx_should_ask(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				PyObject *kwnames)
{
	cxm_context *ctx;
	cxm_id survey, tp;
	int64_t t;
	if (nargs_between("_should_ask", nargs, 4, 4) || no_kwargs("_should_ask", kwnames) ||
	    !(ctx = live((CtxObject *)self_)) || conv_id(ctx, args[0], 0, &survey, "survey") < 0 ||
	    conv_id(ctx, args[2], CXM_OBJECT_TOUCHPOINT, &tp, NULL) < 0 ||
	    conv_time_ms(args[3], &t) < 0)
		return NULL;
	builder b = {ctx, VEC(cxm_interaction), VEC(cxm_measure), VEC(uint32_t), VEC(PyObject *),
		     VEC(Py_ssize_t), 0};
	const void *p;
	size_t len;
	PyObject *r = NULL;
	if (gov_customer(&b, args[1], &p, &len) == 0) {
		cxm_ask a;
		int64_t until;
		cxm_status st = cxm_survey_should_ask(&a, &until, ctx, survey, p, len, tp, t);
		if (st)
			raise_status(st, ctx);
		else
			r = Py_BuildValue("(iL)", (int)a, (long long)until);
	}
	drop_refs(&b);
	vec_free(&b.keep);
	return r;
}
SHIM_CTX(ctx_should_ask)

/* _survey_record(survey, customer, what, time): what is a
 * cxm_survey_event's number (the package passes SURVEY_INVITED or
 * SURVEY_RESPONDED). */
static PyObject *ctx_survey_record(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				   PyObject *kwnames)
{
	cxm_context *ctx;
	cxm_id survey;
	uint32_t what;
	int64_t t;
	if (nargs_between("_survey_record", nargs, 4, 4) || no_kwargs("_survey_record", kwnames) ||
	    !(ctx = live((CtxObject *)self_)) || conv_id(ctx, args[0], 0, &survey, "survey") < 0 ||
	    conv_u32(args[2], &what, "what") < 0 || conv_time_ms(args[3], &t) < 0)
		return NULL;
	builder b = {ctx, VEC(cxm_interaction), VEC(cxm_measure), VEC(uint32_t), VEC(PyObject *),
		     VEC(Py_ssize_t), 0};
	const void *p;
	size_t len;
	PyObject *r = NULL;
	if (gov_customer(&b, args[1], &p, &len) == 0) {
		/* a value beyond the enum stays beyond it: libcxm refuses it */
		cxm_survey_event ev = what > (uint32_t)INT_MAX ? (cxm_survey_event)INT_MAX
							     : (cxm_survey_event)what;
		cxm_status st = cxm_survey_record(ctx, survey, p, len, ev, t);
		if (st)
			raise_status(st, ctx);
		else
			r = (Py_INCREF(Py_None), Py_None);
	}
	drop_refs(&b);
	vec_free(&b.keep);
	return r;
}
SHIM_CTX(ctx_survey_record)

/* ---- metric alerts ------------------------------------------------------------------ */

/* _alert_define(name, query, kind, op, fire, clear, baseline_offset,
 * max_p_value, min_samples, for, cooldown): the alert's id. The package
 * has built the query (names resolved as in make_query, end None: each
 * evaluation's instant), turned the options' None into libcxm's 0 and
 * refused a 0 libcxm would misread; libcxm checks the rest. Defining runs
 * the query once (its checks): the Python clock is read for it. */
static PyObject *ctx_alert_define(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				  PyObject *kwnames)
{
	CtxObject *self = (CtxObject *)self_;
	cxm_context *ctx;
	const cxm_query *q;
	if (nargs_between("_alert_define", nargs, 11, 11) || no_kwargs("_alert_define", kwnames) ||
	    !(ctx = live(self)) || as_query(args[1], &q) < 0)
		return NULL;
	cxm_alert_def d;
	cxm_alert_def_init(&d, sizeof d);
	d.query = *q;
	uint32_t kind, op;
	int64_t n;
	if (conv_u32(args[2], &kind, "kind") < 0 || conv_u32(args[3], &op, "op") < 0 ||
	    conv_real(args[4], &d.fire, "fire") < 0 || conv_real(args[5], &d.clear, "clear") < 0 ||
	    conv_span_ms(args[6], &d.baseline_offset_ms) < 0 ||
	    conv_real(args[7], &d.max_p_value, "max_p_value") < 0 ||
	    index_int64(args[8], &n, "min_samples") < 0 || conv_span_ms(args[9], &d.for_ms) < 0 ||
	    conv_span_ms(args[10], &d.cooldown_ms) < 0)
		return NULL;
	if (n < 0) {
		fail_fmt(CXM_ERR_OUT_OF_RANGE, "min_samples must not be negative, not %R", args[8]);
		return NULL;
	}
	d.min_samples = (uint64_t)n;
	/* values beyond the enums stay beyond them: libcxm refuses them */
	d.kind = kind > (uint32_t)INT_MAX ? (cxm_alert_kind)INT_MAX : (cxm_alert_kind)kind;
	d.op = op > (uint32_t)INT_MAX ? (cxm_cmp)INT_MAX : (cxm_cmp)op;
	PyObject *keep;
	const char *name = name_of(args[0], &keep, "an alert name");
	if (!name)
		return NULL;
	clock_slot saved;
	if (clock_if(self, d.query.end_ms == CXM_NOW, &saved) < 0) {
		Py_XDECREF(keep);
		return NULL;
	}
	cxm_id id;
	cxm_status st = cxm_alert_define(&id, ctx, name, &d);
	clock_end(&saved);
	Py_XDECREF(keep);
	return ret_id(st, ctx, id);
}
SHIM_CTX(ctx_alert_define)

/* _alerts_evaluate(now or None) -> alerts that changed state. Runs every
 * alert's queries: without the GIL, as queries do. */
static PyObject *ctx_alerts_evaluate(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				     PyObject *kwnames)
{
	CtxObject *self = (CtxObject *)self_;
	cxm_context *ctx;
	int64_t now;
	if (nargs_between("_alerts_evaluate", nargs, 1, 1) || no_kwargs("_alerts_evaluate", kwnames) ||
	    !(ctx = live(self)) || conv_opt_time(args[0], &now) < 0)
		return NULL;
	size_t changed = 0;
	cxm_status st;
	clock_slot saved;
	if (clock_if(self, now == CXM_NOW, &saved) < 0)
		return NULL;
	NOGIL_BEGIN(self);
	st = cxm_alerts_evaluate(&changed, self->ctx, now);
	NOGIL_END(self);
	clock_end(&saved);
	if (st)
		return raise_status(st, ctx);
	return PyLong_FromSize_t(changed);
}
SHIM_CTX(ctx_alerts_evaluate)

/* _alert_status(alert) -> (state, flags, since_ms, evaluated_ms,
 * resolved_ms, value, baseline, p_value, n, fired); the package makes it
 * an AlertStatus. */
static PyObject *ctx_alert_status(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				  PyObject *kwnames)
{
	cxm_context *ctx;
	cxm_id alert;
	if (nargs_between("_alert_status", nargs, 1, 1) || no_kwargs("_alert_status", kwnames) ||
	    !(ctx = live((CtxObject *)self_)) || conv_id(ctx, args[0], 0, &alert, "alert") < 0)
		return NULL;
	cxm_alert_status s;
	memset(&s, 0, sizeof s);
	s.size = sizeof s;
	cxm_status st = cxm_alert_status_get(&s, ctx, alert);
	if (st)
		return raise_status(st, ctx);
	return Py_BuildValue("(iILLLdddKK)", (int)s.state, (unsigned)s.flags, (long long)s.since_ms,
			     (long long)s.evaluated_ms, (long long)s.resolved_ms, s.value, s.baseline,
			     s.p_value, (unsigned long long)s.n, (unsigned long long)s.fired);
}
SHIM_CTX(ctx_alert_status)

/* ---- in-journey signals ------------------------------------------------------------- */

/* _signal_define(kind, journey, step, count, window, metric, item, op,
 * threshold): the signal's id. The package has resolved the names, turned
 * the kind and op into their numbers and step and metric's None into
 * CXM_NONE (None here too); libcxm checks every value against the model. */
static PyObject *ctx_signal_define(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				   PyObject *kwnames)
{
	cxm_context *ctx;
	if (nargs_between("_signal_define", nargs, 9, 9) || no_kwargs("_signal_define", kwnames) ||
	    !(ctx = live((CtxObject *)self_)))
		return NULL;
	cxm_signal_def d;
	cxm_signal_def_init(&d, sizeof d);
	uint32_t kind, op;
	if (conv_u32(args[0], &kind, "kind") < 0 ||
	    conv_id(ctx, args[1], CXM_OBJECT_JOURNEY, &d.journey, NULL) < 0 ||
	    conv_opt_id(args[2], &d.step, "step") < 0 || conv_u32(args[3], &d.count, "count") < 0 ||
	    conv_span_ms(args[4], &d.window_ms) < 0 || conv_opt_id(args[5], &d.metric, "metric") < 0 ||
	    conv_u32(args[6], &d.item, "item") < 0 || conv_u32(args[7], &op, "op") < 0 ||
	    conv_real(args[8], &d.threshold, "threshold") < 0)
		return NULL;
	/* values beyond the enums stay beyond them: libcxm refuses them */
	d.kind = kind > (uint32_t)INT_MAX ? (cxm_signal_kind)INT_MAX : (cxm_signal_kind)kind;
	d.op = op > (uint32_t)INT_MAX ? (cxm_cmp)INT_MAX : (cxm_cmp)op;
	cxm_id id;
	cxm_status st = cxm_signal_define(&id, ctx, &d);
	return ret_id(st, ctx, id);
}
SHIM_CTX(ctx_signal_define)

/* _signal_enable(signal, on): the package checks that on is a bool. */
static PyObject *ctx_signal_enable(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				   PyObject *kwnames)
{
	cxm_context *ctx;
	cxm_id sig;
	if (nargs_between("_signal_enable", nargs, 2, 2) || no_kwargs("_signal_enable", kwnames) ||
	    !(ctx = live((CtxObject *)self_)) || conv_id(ctx, args[0], 0, &sig, "signal") < 0)
		return NULL;
	int on = PyObject_IsTrue(args[1]);
	if (on < 0)
		return NULL;
	cxm_status st = cxm_signal_enable(ctx, sig, on);
	if (st)
		return raise_status(st, ctx);
	Py_RETURN_NONE;
}
SHIM_CTX(ctx_signal_enable)

/* _signal_get(signal): (kind, journey, step, count, window_ms, metric,
 * item, op, threshold, enabled); step and metric None for CXM_NONE. */
static PyObject *ctx_signal_get(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				PyObject *kwnames)
{
	cxm_context *ctx;
	cxm_id sig;
	if (nargs_between("_signal_get", nargs, 1, 1) || no_kwargs("_signal_get", kwnames) ||
	    !(ctx = live((CtxObject *)self_)) || conv_id(ctx, args[0], 0, &sig, "signal") < 0)
		return NULL;
	cxm_signal_def d;
	cxm_signal_def_init(&d, sizeof d);
	int on = 0;
	cxm_status st = cxm_signal_get(&d, &on, ctx, sig);
	if (st)
		return raise_status(st, ctx);
	return Py_BuildValue("(iINILNIidN)", (int)d.kind, (unsigned)d.journey, opt_id(d.step),
			     (unsigned)d.count, (long long)d.window_ms, opt_id(d.metric),
			     (unsigned)d.item, (int)d.op, d.threshold, PyBool_FromLong(on));
}
SHIM_CTX(ctx_signal_get)

/* _signal_rearm(signal, customer): the customer as feed() takes it, but
 * None (no customer) is a TypeError, as for forget(). */
static PyObject *ctx_signal_rearm(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
				  PyObject *kwnames)
{
	cxm_context *ctx;
	cxm_id sig;
	if (nargs_between("_signal_rearm", nargs, 2, 2) || no_kwargs("_signal_rearm", kwnames) ||
	    !(ctx = live((CtxObject *)self_)) || conv_id(ctx, args[0], 0, &sig, "signal") < 0)
		return NULL;
	builder b = {ctx, VEC(cxm_interaction), VEC(cxm_measure), VEC(uint32_t), VEC(PyObject *),
		     VEC(Py_ssize_t), 0};
	const void *p;
	size_t len;
	PyObject *r = NULL;
	if (gov_customer(&b, args[1], &p, &len) == 0) {
		cxm_status st = cxm_signal_rearm(ctx, sig, p, len);
		if (st)
			raise_status(st, ctx);
		else
			r = (Py_INCREF(Py_None), Py_None);
	}
	drop_refs(&b);
	vec_free(&b.keep);
	return r;
}
SHIM_CTX(ctx_signal_rearm)

#define CTX_METHODS(X)                                                                              \
	X(close, ctx_close, "close()\n--\n\nFree the context. Later calls raise ValueError; idempotent.") \
	X(__enter__, ctx_enter, NULL)                                                               \
	X(__exit__, ctx_exit, NULL)                                                                 \
	X(_journey_define, ctx_journey_define, NULL)                                                \
	X(_touchpoint_define, ctx_touchpoint_define, NULL)                                          \
	X(_metric_define, ctx_metric_define, NULL)                                                  \
	X(_metric_get, ctx_metric_get, NULL)                                                        \
	X(_segment_define, ctx_segment_define, NULL)                                                \
	X(_segment_value, ctx_segment_value, NULL)                                                  \
	X(_segment_value_name, ctx_segment_value_name, NULL)                                        \
	X(_segment_values, ctx_segment_values, NULL)                                                \
	X(_count, ctx_count, NULL)                                                                  \
	X(_find, ctx_find, NULL)                                                                    \
	X(_name, ctx_name, NULL)                                                                    \
	X(_journey_steps, ctx_journey_steps, NULL)                                                  \
	X(_step_name, ctx_step_name, NULL)                                                          \
	X(_step_find, ctx_step_find, NULL)                                                          \
	X(_touchpoint_get, ctx_touchpoint_get, NULL)                                                \
	X(feed, ctx_feed,                                                                           \
	  "feed(time, touchpoint, measures=None, customer=None, segments=None)\n--\n\n"             \
	  "Feed one interaction (cxm_feed). time: ms since the epoch or a datetime; measures: "      \
	  "{metric: value}; customer: str, bytes or int; segments: {segment: value}.")             \
	X(_feed_many, ctx_feed_many, NULL)                                                          \
	X(_feed_records, ctx_feed_records, NULL)                                                    \
	X(run, ctx_run, "run(query)\n--\n\nRun a cxm.Query (cxm_query_run) and return a Result.")   \
	X(_quantiles, ctx_quantiles, NULL)                                                          \
	X(_distribution, ctx_distribution, NULL)                                                    \
	X(compare, ctx_compare,                                                                     \
	  "compare(a, b)\n--\n\nCompare two queries of one metric (cxm_query_compare).")            \
	X(_query_group, ctx_query_group, NULL)                                                      \
	X(_baseline_define, ctx_baseline_define, NULL)                                              \
	X(_baseline_get, ctx_baseline_get, NULL)                                                    \
	X(_query_baseline, ctx_query_baseline, NULL)                                                \
	X(_query_series, ctx_query_series, NULL)                                                    \
	X(_query_calendar, ctx_query_calendar, NULL)                                                \
	X(_query_calendar_series, ctx_query_calendar_series, NULL)                                  \
	X(_calendar_bucket, ctx_calendar_bucket, NULL)                                              \
	X(_query_trend, ctx_query_trend, NULL)                                                      \
	X(_drivers_define, ctx_drivers_define, NULL)                                                \
	X(_drivers_find, ctx_drivers_find, NULL)                                                    \
	X(_drivers_get, ctx_drivers_get, NULL)                                                      \
	X(_drivers_run, ctx_drivers_run, NULL)                                                      \
	X(stats, ctx_stats, "stats()\n--\n\nThe context's statistics (cxm_stats_get).")             \
	X(series_bytes, ctx_series_bytes,                                                           \
	  "series_bytes(metric)\n--\n\nBytes one series of the metric takes (cxm_series_bytes).")   \
	X(_last_seen, ctx_last_seen, NULL)                                                          \
	X(_forget, ctx_forget, NULL)                                                                \
	X(_journey_set_options, ctx_journey_set_options, NULL)                                      \
	X(_journey_get_options, ctx_journey_get_options, NULL)                                      \
	X(_funnel, ctx_funnel, NULL)                                                                \
	X(_funnel_quantiles, ctx_funnel_quantiles, NULL)                                            \
	X(_sweep, ctx_sweep, NULL)                                                                  \
	X(churn, ctx_churn,                                                                         \
	  "churn(customer, time)\n--\n\nRecord that a customer churned at time (cxm_customer_churn).") \
	X(_churn_rate, ctx_churn_rate, NULL)                                                        \
	X(snapshot, ctx_snapshot_bytes,                                                             \
	  "snapshot()\n--\n\nThe context's snapshot as bytes (cxm_snapshot_write).")                \
	X(_save, ctx_save, NULL)                                                                    \
	X(_load, ctx_load, NULL)                                                                    \
	X(_merge, ctx_merge, NULL)                                                                  \
	X(_export, ctx_export, NULL)                                                                \
	X(customer_hash, ctx_customer_hash,                                                         \
	  "customer_hash(customer)\n--\n\nThe 16 bytes of a customer id's keyed hash "                \
	  "(cxm_customer_hash), as Event.customer carries it.")                                    \
	X(_trigger_define, ctx_trigger_define, NULL)                                                \
	X(_trigger_enable, ctx_trigger_enable, NULL)                                                \
	X(_trigger_get, ctx_trigger_get, NULL)                                                      \
	X(poll_events, ctx_poll_events,                                                             \
	  "poll_events(max_events=1024)\n--\n\nTake up to max_events events off the trigger "        \
	  "queue, oldest first (cxm_events_poll): a list of Event, [] when it is empty.")           \
	X(_survey_define, ctx_survey_define, NULL)                                                  \
	X(_survey_find, ctx_survey_find, NULL)                                                      \
	X(_governor_set, ctx_governor_set, NULL)                                                    \
	X(_should_ask, ctx_should_ask, NULL)                                                        \
	X(_survey_record, ctx_survey_record, NULL)                                                  \
	X(_alert_define, ctx_alert_define, NULL)                                                    \
	X(_alerts_evaluate, ctx_alerts_evaluate, NULL)                                              \
	X(_alert_status, ctx_alert_status, NULL)                                                    \
	X(_signal_define, ctx_signal_define, NULL)                                                  \
	X(_signal_enable, ctx_signal_enable, NULL)                                                  \
	X(_signal_get, ctx_signal_get, NULL)                                                        \
	X(_signal_rearm, ctx_signal_rearm, NULL)

#define FAST_DEF(name, fn, doc) {#name, (PyCFunction)(void (*)(void))fn, METH_FASTCALL | METH_KEYWORDS, doc},
#define VA_DEF(name, fn, doc) {#name, (PyCFunction)(void (*)(void))fn##_va, METH_VARARGS | METH_KEYWORDS, doc},
#define FAST_DEF_G(name, fn, doc) FAST_DEF(name, fn##_g, doc)
#define VA_DEF_G(name, fn, doc) VA_DEF(name, fn##_g, doc)

static PyMethodDef ctx_methods_fast[] = {CTX_METHODS(FAST_DEF_G){NULL, NULL, 0, NULL}};
static PyMethodDef ctx_methods_va[] = {CTX_METHODS(VA_DEF_G){NULL, NULL, 0, NULL}};

static PyGetSetDef ctx_getset[] = {
	{"closed", ctx_get_closed, NULL, "True once close() was called.", NULL},
	{NULL, NULL, NULL, NULL, NULL}};

static PyType_Slot ctx_slots[] = {
	{Py_tp_doc, "Context(**config)\n--\n\nA libcxm context (cxm_context_new)."},
	{Py_tp_init, ctx_init},
	{Py_tp_new, PyType_GenericNew},
	{Py_tp_dealloc, ctx_dealloc},
	{Py_tp_traverse, ctx_traverse},
	{Py_tp_clear, ctx_clear},
	{Py_tp_methods, NULL}, /* chosen at import */
	{Py_tp_getset, ctx_getset},
	{0, NULL}};

static PyType_Spec ctx_spec = {"cxm._cxm.Context", sizeof(CtxObject), 0,
			       Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
			       ctx_slots};

/* ---- Query ---------------------------------------------------------------------- */

static char *query_kw[] = {"metric", "span_ms", "end_ms", "scope", "id", "step", "segment",
			   "segment_value", NULL};

/* Query(metric, span_ms, end_ms=None, scope=0, id=0, step=None, segment=None, segment_value=0) */
static PyObject *query_new(PyTypeObject *tp, PyObject *args, PyObject *kw)
{
	PyObject *metric, *span, *end = Py_None, *scope = NULL, *id = NULL, *step = Py_None,
			     *seg = Py_None, *segv = NULL;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|OOOOOO:Query", query_kw, &metric, &span, &end,
					 &scope, &id, &step, &seg, &segv))
		return NULL;
	cxm_query q;
	cxm_query_init(&q, sizeof q);
	uint32_t sc = 0;
	if (conv_id(NULL, metric, 0, &q.metric, "metric") < 0 || conv_span_ms(span, &q.span_ms) < 0 ||
	    (scope && conv_u32(scope, &sc, "scope") < 0) || (id && conv_id(NULL, id, 0, &q.id, "id") < 0) ||
	    conv_opt_id(step, &q.step, "step") < 0 || conv_opt_id(seg, &q.segment, "segment dimension") < 0 ||
	    (segv && conv_id(NULL, segv, 0, &q.segment_value, "segment value") < 0))
		return NULL;
	q.scope = (cxm_scope)sc;
	if (conv_end(end, &q.end_ms) < 0)
		return NULL;
	QueryObject *o = (QueryObject *)PyType_GenericAlloc(tp, 0);
	if (!o)
		return NULL;
	o->q = q;
	return (PyObject *)o;
}

static void plain_dealloc(PyObject *self)
{
	PyTypeObject *tp = Py_TYPE(self);
	freefunc f = (freefunc)PyType_GetSlot(tp, Py_tp_free);
	f(self);
	Py_DECREF(tp);
}

static PyObject *query_get_end(PyObject *self, void *c)
{
	int64_t e = ((QueryObject *)self)->q.end_ms;
	if (e == CXM_NOW)
		Py_RETURN_NONE;
	if (e == CXM_WATERMARK)
		return PyUnicode_FromString("watermark");
	return PyLong_FromLongLong(e);
}

static PyObject *query_get_opt(PyObject *self, void *c)
{
	const cxm_query *q = &((QueryObject *)self)->q;
	return opt_id(c ? q->segment : q->step);
}

static PyMemberDef query_members[] = {
	{"metric", T_UINT, offsetof(QueryObject, q.metric), READONLY, "The metric's id."},
	{"scope", T_INT, offsetof(QueryObject, q.scope), READONLY, "A cxm.Scope."},
	{"id", T_UINT, offsetof(QueryObject, q.id), READONLY, "Touchpoint, journey or channel."},
	{"segment_value", T_UINT, offsetof(QueryObject, q.segment_value), READONLY, NULL},
	{"span_ms", T_LONGLONG, offsetof(QueryObject, q.span_ms), READONLY, "Window length in ms."},
	{NULL, 0, 0, 0, NULL}};

static PyGetSetDef query_getset[] = {
	{"end_ms", query_get_end, NULL,
	 "End instant in ms, None for the clock's now, or \"watermark\" for the newest interaction's.",
	 NULL},
	{"step", query_get_opt, NULL, "The step, or None.", NULL},
	{"segment", query_get_opt, NULL, "The segment dimension filtered on, or None.", (void *)1},
	{NULL, NULL, NULL, NULL, NULL}};

static PyType_Slot query_slots[] = {
	{Py_tp_doc, "Query(metric, span_ms, end_ms=None, scope=0, id=0, step=None, segment=None, "
		    "segment_value=0)\n--\n\nA compiled cxm_query; immutable."},
	{Py_tp_new, query_new},
	{Py_tp_dealloc, plain_dealloc},
	{Py_tp_members, query_members},
	{Py_tp_getset, query_getset},
	{0, NULL}};

static PyType_Spec query_spec = {"cxm._cxm.Query", sizeof(QueryObject), 0,
				 Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE, query_slots};

/* ---- Result, Comparison, Stats: immutable records ------------------------------ */

/* Each record type lists its fields once; members, repr and _asdict come
 * from the list. Derived fields (names of enums, tuples) are getters. */
typedef struct {
	const char *name;
	int type;
	Py_ssize_t off;
	const char *doc;
} rfield;

typedef struct {
	const char *name;
	getter get;
	const char *doc;
} rderived;

typedef struct {
	const char *tname;
	const rfield *fields;
	const rderived *derived;
	const char *const *repr_fields; /* the few repr shows */
} rinfo;

static PyObject *field_value(PyObject *self, const rfield *f)
{
	const char *p = (const char *)self + f->off;
	switch (f->type) {
	case T_DOUBLE: { double v; memcpy(&v, p, sizeof v); return PyFloat_FromDouble(v); }
	case T_ULONGLONG: { unsigned long long v; memcpy(&v, p, sizeof v); return PyLong_FromUnsignedLongLong(v); }
	case T_LONGLONG: { long long v; memcpy(&v, p, sizeof v); return PyLong_FromLongLong(v); }
	case T_UINT: { unsigned v; memcpy(&v, p, sizeof v); return PyLong_FromUnsignedLong(v); }
	case T_INT: { int v; memcpy(&v, p, sizeof v); return PyLong_FromLong(v); }
	}
	Py_RETURN_NONE;
}

static PyObject *record_asdict(PyObject *self, const rinfo *info)
{
	PyObject *d = PyDict_New();
	if (!d)
		return NULL;
	for (const rfield *f = info->fields; f->name; f++) {
		PyObject *v = field_value(self, f);
		if (!v || PyDict_SetItemString(d, f->name, v) < 0) {
			Py_XDECREF(v);
			Py_DECREF(d);
			return NULL;
		}
		Py_DECREF(v);
	}
	for (const rderived *g = info->derived; g && g->name; g++) {
		PyObject *v = g->get(self, NULL);
		if (!v || PyDict_SetItemString(d, g->name, v) < 0) {
			Py_XDECREF(v);
			Py_DECREF(d);
			return NULL;
		}
		Py_DECREF(v);
	}
	return d;
}

static PyObject *record_repr(PyObject *self, const rinfo *info)
{
	PyObject *parts = PyList_New(0);
	if (!parts)
		return NULL;
	for (const char *const *n = info->repr_fields; *n; n++) {
		/* an interned name: CPython's type attribute cache keeps the name
		 * it was last asked for in each slot, so a new str per call
		 * (PyObject_GetAttrString) stays alive there, a few KiB each */
		PyObject *name = PyUnicode_InternFromString(*n);
		PyObject *v = name ? PyObject_GetAttr(self, name) : NULL;
		Py_XDECREF(name);
		PyObject *s = v ? PyUnicode_FromFormat("%s=%R", *n, v) : NULL;
		Py_XDECREF(v);
		if (!s || PyList_Append(parts, s) < 0) {
			Py_XDECREF(s);
			Py_DECREF(parts);
			return NULL;
		}
		Py_DECREF(s);
	}
	PyObject *sep = PyUnicode_FromString(", ");
	PyObject *body = sep ? PyUnicode_Join(sep, parts) : NULL;
	Py_XDECREF(sep);
	Py_DECREF(parts);
	if (!body)
		return NULL;
	PyObject *r = PyUnicode_FromFormat("%s(%U)", info->tname, body);
	Py_DECREF(body);
	return r;
}

static PyObject *record_fields(const rinfo *info)
{
	Py_ssize_t n = 0;
	for (const rfield *f = info->fields; f->name; f++)
		n++;
	for (const rderived *g = info->derived; g && g->name; g++)
		n++;
	PyObject *t = PyTuple_New(n);
	Py_ssize_t i = 0;
	for (const rfield *f = info->fields; t && f->name; f++)
		PyTuple_SetItem(t, i++, PyUnicode_FromString(f->name));
	for (const rderived *g = info->derived; t && g && g->name; g++)
		PyTuple_SetItem(t, i++, PyUnicode_FromString(g->name));
	return t;
}

static PyObject *enum_name(PyObject **names, int n, int v)
{
	PyObject *s = (v >= 0 && v < n && names[v]) ? names[v] : NULL;
	if (!s)
		return PyLong_FromLong(v);
	Py_INCREF(s);
	return s;
}

static PyObject *from_ms(int64_t ms)
{
	if (!conv_from_ms)
		return PyLong_FromLongLong(ms);
	return PyObject_CallFunction(conv_from_ms, "L", (long long)ms);
}

#define R(o) (&((ResultObject *)(o))->r)
static PyObject *res_kind(PyObject *o, void *c) { return enum_name(kind_names, 9, (int)R(o)->kind); }
static PyObject *res_headline(PyObject *o, void *c) { return enum_name(headline_names, 8, (int)R(o)->headline); }
static PyObject *res_flag(PyObject *o, void *c) { return PyBool_FromLong((R(o)->flags & (uint32_t)(uintptr_t)c) != 0); }
static PyObject *res_low(PyObject *o, void *c) { return res_flag(o, (void *)(uintptr_t)CXM_RESULT_LOW_SAMPLE); }
static PyObject *res_empty(PyObject *o, void *c) { return res_flag(o, (void *)(uintptr_t)CXM_RESULT_EMPTY); }
static PyObject *res_clamped(PyObject *o, void *c) { return res_flag(o, (void *)(uintptr_t)CXM_RESULT_CLAMPED); }
static PyObject *res_truncated(PyObject *o, void *c) { return res_flag(o, (void *)(uintptr_t)CXM_RESULT_TRUNCATED); }
static PyObject *res_inexact(PyObject *o, void *c) { return res_flag(o, (void *)(uintptr_t)CXM_RESULT_INEXACT); }
static PyObject *res_start(PyObject *o, void *c) { return from_ms(R(o)->start_ms); }
static PyObject *res_end(PyObject *o, void *c) { return from_ms(R(o)->end_ms); }
static PyObject *res_ci(PyObject *o, void *c) { return Py_BuildValue("(dd)", R(o)->ci_low, R(o)->ci_high); }
static PyObject *res_item_net(PyObject *o, void *c)
{
	uint32_t n = R(o)->kind == CXM_KIND_INDEX ? R(o)->questions : 0;
	if (n > CXM_MAX_QUESTIONS)
		n = CXM_MAX_QUESTIONS;
	PyObject *t = PyTuple_New(n);
	for (uint32_t i = 0; t && i < n; i++)
		PyTuple_SetItem(t, i, PyFloat_FromDouble(R(o)->item_net[i]));
	return t;
}
static PyObject *res_item_n(PyObject *o, void *c)
{
	uint32_t n = R(o)->kind == CXM_KIND_INDEX ? R(o)->questions : 0;
	if (n > CXM_MAX_QUESTIONS)
		n = CXM_MAX_QUESTIONS;
	PyObject *t = PyTuple_New(n);
	for (uint32_t i = 0; t && i < n; i++)
		PyTuple_SetItem(t, i, PyLong_FromUnsignedLongLong(R(o)->item_n[i]));
	return t;
}

#define RF(type, name, doc) {#name, type, offsetof(ResultObject, r.name), doc}
static const rfield result_fields[] = {
	RF(T_DOUBLE, value, "The headline value (percent for NET, TOP_BOX, BOTTOM_BOX, SHARE)."),
	RF(T_DOUBLE, ci_low, "Lower end of its confidence interval."),
	RF(T_DOUBLE, ci_high, "Upper end."),
	RF(T_ULONGLONG, n, "Sample size: responses, observations or interactions."),
	RF(T_ULONGLONG, skipped, "SCORE/INDEX: 'no answer' codes received."),
	RF(T_ULONGLONG, top, "Top box (promoters, easy, positive), or yes for RATE."),
	RF(T_ULONGLONG, bottom, "Bottom box, or no for RATE."),
	RF(T_DOUBLE, top_share, "top / n."),
	RF(T_DOUBLE, bottom_share, "bottom / n."),
	RF(T_DOUBLE, mean, "Mean answer or value."),
	RF(T_DOUBLE, min, "Smallest answer or value."),
	RF(T_DOUBLE, max, "Largest."),
	RF(T_DOUBLE, sum, "Sum of values or answers."),
	RF(T_DOUBLE, stddev, "Sample standard deviation."),
	RF(T_DOUBLE, p50, "DURATION: median."),
	RF(T_DOUBLE, p90, "DURATION: 90th percentile."),
	RF(T_DOUBLE, p99, "DURATION: 99th percentile."),
	RF(T_UINT, flags, "cxm.RESULT_* bits."),
	RF(T_LONGLONG, start_ms, "The covered interval [start_ms, end_ms)."),
	RF(T_LONGLONG, end_ms, "End of the covered interval."),
	RF(T_LONGLONG, quantile_start_ms, "DURATION, DISTINCT: interval the quantiles describe."),
	RF(T_LONGLONG, quantile_end_ms, "End of that interval."),
	RF(T_ULONGLONG, quantile_n, "DURATION, DISTINCT: values in that interval."),
	RF(T_UINT, questions, "INDEX: questions; else 1."),
	{NULL, 0, 0, NULL}};
static const rderived result_derived[] = {
	{"kind", res_kind, "The metric's kind: 'score', 'index', 'duration', 'rate', 'amount', 'volume', 'distinct', 'sentiment'."},
	{"headline", res_headline, "What value is: 'net', 'top_box', 'bottom_box', 'mean', 'share', 'sum', 'count'."},
	{"low_sample", res_low, "Fewer responses than min_samples."},
	{"empty", res_empty, "No responses: value and intervals are NaN."},
	{"clamped", res_clamped, "Some duration lay outside the exact range."},
	{"truncated", res_truncated, "The window reached before the retention."},
	{"inexact", res_inexact, "A calendar query covered other edges than the bucket's."},
	{"item_net", res_item_net, "INDEX: NET of each question."},
	{"item_n", res_item_n, "INDEX: responses to each question."},
	{NULL, NULL, NULL}};
static const char *const result_repr_fields[] = {"kind", "headline", "value", "ci_low", "ci_high", "n",
					  "start_ms", "end_ms", "flags", NULL};
static const rinfo result_info = {"Result", result_fields, result_derived, result_repr_fields};

/* A result's fields as one tuple in Result._fields order, after lead (a
 * breakdown's key) unless NULL: a row of Context.query_by/query_series.
 * tmp is a Result holding the result. */
static PyObject *result_row(PyObject *tmp, PyObject *lead)
{
	const rinfo *info = &result_info;
	Py_ssize_t n = lead ? 1 : 0, i = 0;
	for (const rfield *f = info->fields; f->name; f++)
		n++;
	for (const rderived *g = info->derived; g->name; g++)
		n++;
	PyObject *t = PyTuple_New(n);
	if (!t)
		return NULL;
	if (lead) {
		Py_INCREF(lead);
		PyTuple_SetItem(t, i++, lead);
	}
	for (const rfield *f = info->fields; f->name; f++) {
		PyObject *v = field_value(tmp, f);
		if (!v || PyTuple_SetItem(t, i++, v) < 0)
			goto fail;
	}
	for (const rderived *g = info->derived; g->name; g++) {
		PyObject *v = g->get(tmp, NULL);
		if (!v || PyTuple_SetItem(t, i++, v) < 0)
			goto fail;
	}
	return t;
fail:
	Py_DECREF(t);
	return NULL;
}

#define CF(type, name, doc) {#name, type, offsetof(ComparisonObject, c.name), doc}
#define C(o) (&((ComparisonObject *)(o))->c)
static PyObject *cmp_headline(PyObject *o, void *c) { return enum_name(headline_names, 8, (int)C(o)->headline); }
static const rfield comparison_fields[] = {
	CF(T_DOUBLE, a, "Headline value of the first query."),
	CF(T_DOUBLE, b, "Headline value of the second."),
	CF(T_DOUBLE, difference, "b - a."),
	CF(T_DOUBLE, ci_low, "Lower end of the difference's confidence interval."),
	CF(T_DOUBLE, ci_high, "Upper end."),
	CF(T_DOUBLE, z, "The test statistic."),
	CF(T_DOUBLE, p_value, "Two-sided p-value of 'no difference'; NaN when undefined."),
	CF(T_ULONGLONG, n_a, "Sample size of the first query."),
	CF(T_ULONGLONG, n_b, "Sample size of the second."),
	CF(T_UINT, flags, "cxm.RESULT_* bits either side carries."),
	{NULL, 0, 0, NULL}};
static const rderived comparison_derived[] = {
	{"headline", cmp_headline, "What a and b are."},
	{NULL, NULL, NULL}};
static const char *const comparison_repr_fields[] = {"headline", "a", "b", "difference", "ci_low", "ci_high",
					      "p_value", "n_a", "n_b", NULL};
static const rinfo comparison_info = {"Comparison", comparison_fields, comparison_derived,
				      comparison_repr_fields};

#define SF(type, name, doc) {#name, type, offsetof(StatsObject, s.name), doc}
#define S(o) (&((StatsObject *)(o))->s)
static PyObject *stats_rejected(PyObject *o, void *c)
{
	PyObject *d = PyDict_New();
	for (int i = 0; d && i < CXM_STATUS_COUNT; i++) {
		if (!S(o)->rejected[i])
			continue;
		PyObject *k = PyLong_FromLong(i), *v = PyLong_FromUnsignedLongLong(S(o)->rejected[i]);
		if (!k || !v || PyDict_SetItem(d, k, v) < 0) {
			Py_XDECREF(k);
			Py_XDECREF(v);
			Py_DECREF(d);
			return NULL;
		}
		Py_DECREF(k);
		Py_DECREF(v);
	}
	return d;
}
static const rfield stats_fields[] = {
	SF(T_ULONGLONG, memory_bytes, "Bytes allocated now."),
	SF(T_ULONGLONG, series, "Series allocated."),
	SF(T_ULONGLONG, series_bytes, "Bytes of those series."),
	SF(T_ULONGLONG, accepted, "Interactions accepted."),
	SF(T_ULONGLONG, rejected_total, "Interactions rejected."),
	SF(T_ULONGLONG, saturated, "Duration bins that stopped counting."),
	SF(T_LONGLONG, watermark_ms, "Latest accepted event time, or -1."),
	SF(T_UINT, shards, "Shards configured."),
	SF(T_UINT, shards_used, "Shards that hold any series."),
	SF(T_ULONGLONG, customers, "Customers tracked now."),
	SF(T_ULONGLONG, customers_evicted, "Customers forgotten to make room."),
	SF(T_ULONGLONG, customers_refused, "Interactions refused for want of room."),
	SF(T_ULONGLONG, customers_forgotten, "Customers erased by forget()."),
	SF(T_ULONGLONG, customer_bytes, "Bytes of the customer table."),
	SF(T_ULONGLONG, events_queued, "Events the triggers put on the queue, drained or not."),
	SF(T_ULONGLONG, events_dropped, "Events a trigger matched but the full queue could not take."),
	SF(T_ULONGLONG, signals_unjudged, "Journey interactions whose signals went unjudged for want of memory."),
	SF(T_ULONGLONG, query_cache_bytes, "Bytes the query cache holds (in memory_bytes)."),
	{NULL, 0, 0, NULL}};
static const rderived stats_derived[] = {
	{"rejected", stats_rejected, "Rejections by status code: {code: count}, non-zero only."},
	{NULL, NULL, NULL}};
static const char *const stats_repr_fields[] = {"accepted", "rejected_total", "series", "memory_bytes",
					 "customers", "watermark_ms", NULL};
static const rinfo stats_info = {"Stats", stats_fields, stats_derived, stats_repr_fields};

#define FF(type, name, doc) {#name, type, offsetof(FunnelObject, f.name), doc}
#define FN(o) (&((FunnelObject *)(o))->f)
static PyObject *fun_flag(PyObject *o, uint32_t bit) { return PyBool_FromLong((FN(o)->flags & bit) != 0); }
static PyObject *fun_low(PyObject *o, void *c) { return fun_flag(o, CXM_RESULT_LOW_SAMPLE); }
static PyObject *fun_empty(PyObject *o, void *c) { return fun_flag(o, CXM_RESULT_EMPTY); }
static PyObject *fun_clamped(PyObject *o, void *c) { return fun_flag(o, CXM_RESULT_CLAMPED); }
static PyObject *fun_start(PyObject *o, void *c) { return from_ms(FN(o)->start_ms); }
static PyObject *fun_end(PyObject *o, void *c) { return from_ms(FN(o)->end_ms); }
static PyObject *fun_steps(PyObject *o, void *c)
{
	PyObject *t = ((FunnelObject *)o)->steps;
	if (!t)
		return PyTuple_New(0);
	Py_INCREF(t);
	return t;
}
static const rfield funnel_fields[] = {
	FF(T_ULONGLONG, entered, "Instances begun in the window."),
	FF(T_ULONGLONG, completed, "Instances that reached the last step (the goal)."),
	FF(T_ULONGLONG, abandoned, "Instances ended by the abandonment timeout."),
	FF(T_ULONGLONG, expired, "Instances ended by the conversion window before the goal."),
	FF(T_ULONGLONG, broken, "Instances ended by an out-of-order step (strict)."),
	FF(T_ULONGLONG, displaced, "Instances ended because the customer began another one."),
	FF(T_ULONGLONG, repeats, "Instances begun within repeat of the customer's previous one."),
	FF(T_DOUBLE, conversion, "completed / entered."),
	FF(T_DOUBLE, repeat_rate, "repeats / entered: the repeat-contact rate."),
	FF(T_ULONGLONG, goal_n, "Samples of the time to the goal."),
	FF(T_DOUBLE, goal_p50, "Median time from entry to the goal, seconds (NaN: none)."),
	FF(T_DOUBLE, goal_p90, "Its 90th percentile, seconds."),
	FF(T_DOUBLE, goal_mean, "Its mean, seconds (exact)."),
	FF(T_UINT, n_steps, "The journey's steps."),
	FF(T_UINT, flags, "cxm.RESULT_* bits."),
	FF(T_LONGLONG, start_ms, "The covered interval [start_ms, end_ms) of the counts."),
	FF(T_LONGLONG, end_ms, "Its end."),
	FF(T_LONGLONG, quantile_start_ms, "The interval the times describe (whole buckets)."),
	FF(T_LONGLONG, quantile_end_ms, "Its end."),
	{NULL, 0, 0, NULL}};
static const rderived funnel_derived[] = {
	{"low_sample", fun_low, "Fewer entered than min_samples."},
	{"empty", fun_empty, "None entered."},
	{"clamped", fun_clamped, "A time lay outside 1 s ... 400 days."},
	{"steps", fun_steps, "One FunnelStep per step of the journey."},
	{NULL, NULL, NULL}};
static const char *const funnel_repr_fields[] = {"entered", "completed", "conversion", "abandoned",
					  "expired", "repeat_rate", "goal_p50", "start_ms",
					  "end_ms", "flags", NULL};
static const rinfo funnel_info = {"Funnel", funnel_fields, funnel_derived, funnel_repr_fields};

#define FSF(type, name, doc) {#name, type, offsetof(FunnelStepObject, s.name), doc}
static const rfield funnel_step_fields[] = {
	{"index", T_UINT, offsetof(FunnelStepObject, index), "The step's index (its id)."},
	FSF(T_ULONGLONG, reached, "Instances that reached this step (with count_repeats: visits)."),
	FSF(T_DOUBLE, conversion, "reached / entered."),
	FSF(T_DOUBLE, step_conversion, "reached / reached of the step before (step 0: / entered)."),
	FSF(T_DOUBLE, drop_off, "1 - step_conversion."),
	FSF(T_ULONGLONG, next_n, "Samples of the time from this step to the next one reached."),
	FSF(T_DOUBLE, next_p50, "Its median, seconds (NaN: none, and for the last step)."),
	FSF(T_DOUBLE, next_p90, "Its 90th percentile, seconds."),
	FSF(T_DOUBLE, next_mean, "Its mean, seconds (exact)."),
	{NULL, 0, 0, NULL}};
static const char *const funnel_step_repr_fields[] = {"index", "reached", "conversion", "drop_off",
					       "next_p50", NULL};
static const rinfo funnel_step_info = {"FunnelStep", funnel_step_fields, NULL, funnel_step_repr_fields};

#define HF(type, name, doc) {#name, type, offsetof(ChurnObject, c.name), doc}
#define HN(o) (&((ChurnObject *)(o))->c)
static PyObject *churn_empty(PyObject *o, void *c) { return PyBool_FromLong((HN(o)->flags & CXM_RESULT_EMPTY) != 0); }
static PyObject *churn_start(PyObject *o, void *c) { return from_ms(HN(o)->start_ms); }
static PyObject *churn_end(PyObject *o, void *c) { return from_ms(HN(o)->end_ms); }
static const rfield churn_fields[] = {
	HF(T_DOUBLE, rate, "churned / active; NaN when active is 0."),
	HF(T_ULONGLONG, churned, "Churn events in the window."),
	HF(T_DOUBLE, active, "Customers active before the window (estimate)."),
	HF(T_UINT, flags, "cxm.RESULT_EMPTY when no customer was active."),
	HF(T_LONGLONG, start_ms, "The window [start_ms, end_ms) of the churn events."),
	HF(T_LONGLONG, end_ms, "Its end."),
	HF(T_LONGLONG, active_start_ms, "The denominator's interval [active_start_ms, active_end_ms)."),
	HF(T_LONGLONG, active_end_ms, "Its end."),
	{NULL, 0, 0, NULL}};
static const rderived churn_derived[] = {
	{"empty", churn_empty, "No customer was active."},
	{NULL, NULL, NULL}};
static const char *const churn_repr_fields[] = {"rate", "churned", "active", "start_ms", "end_ms", NULL};
static const rinfo churn_info = {"Churn", churn_fields, churn_derived, churn_repr_fields};

#define EF(type, name, doc) {#name, type, offsetof(EventObject, e.name), doc}
#define EV(o) (&((EventObject *)(o))->e)
static PyObject *event_kind_names[5];
static PyObject *ev_customer(PyObject *o, void *c)
{
	const uint64_t *w = EV(o)->customer;
	if (!w[0] && !w[1])
		Py_RETURN_NONE; /* the interaction had no customer id */
	return hash_bytes(w);
}
static PyObject *ev_kind(PyObject *o, void *c) { return enum_name(event_kind_names, 5, (int)EV(o)->kind); }
static PyObject *ev_time(PyObject *o, void *c) { return from_ms(EV(o)->time_ms); }
static const rfield event_fields[] = {
	EF(T_UINT, rule, "The trigger's id, the alert's or the signal's."),
	EF(T_ULONGLONG, seq, "0, 1, 2, ... over the events matched, queued or dropped: a gap is an event dropped."),
	EF(T_LONGLONG, time_ms, "The interaction's event time, ms since the epoch."),
	EF(T_UINT, touchpoint, "Its touchpoint."),
	EF(T_UINT, metric, "The metric of the measure that matched."),
	EF(T_UINT, item, "Its question (INDEX), else 0; a signal's: the step."),
	EF(T_DOUBLE, value, "Its value."),
	{NULL, 0, 0, NULL}};
static const rderived event_derived[] = {
	{"customer", ev_customer, "The customer id's keyed hash, 16 bytes (as customer_hash() gives), or None."},
	{"kind", ev_kind, "What produced it: 'trigger', 'alert firing', 'alert resolved' or 'signal'."},
	{NULL, NULL, NULL}};
static const char *const event_repr_fields[] = {"rule", "seq", "time_ms", "touchpoint", "metric",
						"value", "customer", NULL};
static const rinfo event_info = {"Event", event_fields, event_derived, event_repr_fields};

#define RECORD_FUNCS(pfx, info)                                                              \
	static PyObject *pfx##_asdict(PyObject *self, PyObject *unused)                       \
	{                                                                                    \
		return record_asdict(self, &info);                                           \
	}                                                                                    \
	static PyObject *pfx##_repr(PyObject *self) { return record_repr(self, &info); }     \
	static PyMethodDef pfx##_methods[] = {                                               \
		{"_asdict", pfx##_asdict, METH_NOARGS, "The fields as a dict."},             \
		{NULL, NULL, 0, NULL}};
RECORD_FUNCS(result, result_info)
RECORD_FUNCS(comparison, comparison_info)
RECORD_FUNCS(stats, stats_info)
RECORD_FUNCS(funnel, funnel_info)
RECORD_FUNCS(funnel_step, funnel_step_info)
RECORD_FUNCS(churn, churn_info)
RECORD_FUNCS(event, event_info)

static PyGetSetDef result_getset[] = {
	{"kind", res_kind, NULL, NULL, NULL},
	{"headline", res_headline, NULL, NULL, NULL},
	{"low_sample", res_low, NULL, NULL, NULL},
	{"empty", res_empty, NULL, NULL, NULL},
	{"clamped", res_clamped, NULL, NULL, NULL},
	{"truncated", res_truncated, NULL, NULL, NULL},
	{"inexact", res_inexact, NULL, NULL, NULL},
	{"item_net", res_item_net, NULL, NULL, NULL},
	{"item_n", res_item_n, NULL, NULL, NULL},
	{"start", res_start, NULL, "start_ms as an aware datetime (UTC).", NULL},
	{"end", res_end, NULL, "end_ms as an aware datetime (UTC).", NULL},
	{"ci", res_ci, NULL, "(ci_low, ci_high).", NULL},
	{NULL, NULL, NULL, NULL, NULL}};
static PyGetSetDef comparison_getset[] = {
	{"headline", cmp_headline, NULL, NULL, NULL},
	{NULL, NULL, NULL, NULL, NULL}};
static PyGetSetDef stats_getset[] = {
	{"rejected", stats_rejected, NULL, NULL, NULL},
	{NULL, NULL, NULL, NULL, NULL}};
static PyGetSetDef funnel_getset[] = {
	{"low_sample", fun_low, NULL, NULL, NULL},
	{"empty", fun_empty, NULL, NULL, NULL},
	{"clamped", fun_clamped, NULL, NULL, NULL},
	{"steps", fun_steps, NULL, NULL, NULL},
	{"start", fun_start, NULL, "start_ms as an aware datetime (UTC).", NULL},
	{"end", fun_end, NULL, "end_ms as an aware datetime (UTC).", NULL},
	{NULL, NULL, NULL, NULL, NULL}};
static PyGetSetDef funnel_step_getset[] = {{NULL, NULL, NULL, NULL, NULL}};
static PyGetSetDef event_getset[] = {
	{"customer", ev_customer, NULL, NULL, NULL},
	{"kind", ev_kind, NULL, NULL, NULL},
	{"time", ev_time, NULL, "time_ms as an aware datetime (UTC).", NULL},
	{NULL, NULL, NULL, NULL, NULL}};
static PyGetSetDef churn_getset[] = {
	{"empty", churn_empty, NULL, NULL, NULL},
	{"start", churn_start, NULL, "start_ms as an aware datetime (UTC).", NULL},
	{"end", churn_end, NULL, "end_ms as an aware datetime (UTC).", NULL},
	{NULL, NULL, NULL, NULL, NULL}};

static void funnel_dealloc(PyObject *self)
{
	Py_CLEAR(((FunnelObject *)self)->steps);
	plain_dealloc(self);
}

static PyObject *no_new(PyTypeObject *tp, PyObject *args, PyObject *kw)
{
	(void)args;
	(void)kw;
	PyErr_Format(PyExc_TypeError, "%R objects come from a context, not from a constructor",
		     (PyObject *)tp);
	return NULL;
}

static PyMemberDef *make_members(const rinfo *info)
{
	size_t n = 0;
	for (const rfield *f = info->fields; f->name; f++)
		n++;
	PyMemberDef *m = PyMem_Calloc(n + 1, sizeof *m);
	if (!m)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		m[i].name = (char *)info->fields[i].name;
		m[i].type = info->fields[i].type;
		m[i].offset = info->fields[i].off;
		m[i].flags = READONLY;
		m[i].doc = (char *)info->fields[i].doc;
	}
	return m; /* lives as long as the process: types refer to it */
}

static PyTypeObject *make_record_type(const char *name, int size, const rinfo *info,
				      PyMethodDef *methods, PyGetSetDef *getset, reprfunc repr,
				      const char *doc, destructor dealloc)
{
	PyMemberDef *members = make_members(info);
	if (!members)
		return (PyTypeObject *)PyErr_NoMemory();
	PyType_Slot slots[] = {
		{Py_tp_doc, (void *)doc},
		{Py_tp_dealloc, dealloc ? dealloc : plain_dealloc},
		{Py_tp_members, members},
		{Py_tp_getset, getset},
		{Py_tp_methods, methods},
		{Py_tp_repr, repr},
		{Py_tp_new, no_new},
		{0, NULL}};
	PyType_Spec spec = {name, size, 0, Py_TPFLAGS_DEFAULT, slots};
	PyTypeObject *tp = (PyTypeObject *)PyType_FromSpec(&spec);
	if (!tp)
		return NULL;
	/* not instantiable from Python: results come from queries */
	PyObject *fields = record_fields(info);
	if (!fields || PyObject_SetAttrString((PyObject *)tp, "_fields", fields) < 0) {
		Py_XDECREF(fields);
		Py_DECREF(tp);
		return NULL;
	}
	Py_DECREF(fields);
	return tp;
}

/* ---- module functions --------------------------------------------------------- */

static PyObject *mod_libversion(PyObject *m, PyObject *const *a, Py_ssize_t n, PyObject *k)
{
	if (nargs_between("libversion", n, 0, 0) || no_kwargs("libversion", k))
		return NULL;
	return PyUnicode_FromString(cxm_libversion());
}
SHIM(mod_libversion)

static PyObject *mod_libversion_number(PyObject *m, PyObject *const *a, Py_ssize_t n, PyObject *k)
{
	if (nargs_between("libversion_number", n, 0, 0) || no_kwargs("libversion_number", k))
		return NULL;
	return PyLong_FromLong(cxm_libversion_number());
}
SHIM(mod_libversion_number)

static PyObject *mod_strerror(PyObject *m, PyObject *const *a, Py_ssize_t n, PyObject *k)
{
	if (nargs_between("strerror", n, 1, 1) || no_kwargs("strerror", k))
		return NULL;
	int overflow;
	long code = PyLong_AsLongAndOverflow(a[0], &overflow);
	if (code == -1 && PyErr_Occurred())
		return NULL;
	if (overflow || code > INT_MAX || code < INT_MIN)
		code = -1;
	return PyUnicode_FromString(cxm_strerror((int)code));
}
SHIM(mod_strerror)

static PyObject *mod_preset(PyObject *m, PyObject *const *a, Py_ssize_t n, PyObject *k)
{
	uint32_t p;
	if (nargs_between("preset", n, 1, 1) || no_kwargs("preset", k) || conv_u32(a[0], &p, "preset") < 0)
		return NULL;
	cxm_metric_def def;
	cxm_metric_def_init(&def, sizeof def);
	cxm_status st = cxm_metric_preset(&def, (cxm_preset)p);
	if (st)
		return raise_status(st, NULL);
	return def_to_dict(&def);
}
SHIM(mod_preset)

static PyObject *mod_snapshot_tiers(PyObject *m, PyObject *const *a, Py_ssize_t n, PyObject *k)
{
	char *p;
	Py_ssize_t len;
	if (nargs_between("snapshot_tiers", n, 1, 1) || no_kwargs("snapshot_tiers", k))
		return NULL;
	if (!PyBytes_Check(a[0])) {
		PyErr_SetString(PyExc_TypeError, "snapshot_tiers() takes bytes");
		return NULL;
	}
	if (PyBytes_AsStringAndSize(a[0], &p, &len) < 0)
		return NULL;
	cxm_tier t[CXM_MAX_TIERS];
	uint32_t nt = 0;
	cxm_status st = cxm_snapshot_tiers(t, &nt, p, (size_t)len);
	if (st)
		return raise_status(st, NULL);
	PyObject *out = PyList_New(nt);
	for (uint32_t i = 0; out && i < nt; i++) {
		PyObject *x = Py_BuildValue("(LI)", (long long)t[i].bucket_ms, (unsigned int)t[i].buckets);
		if (!x) {
			Py_DECREF(out);
			return NULL;
		}
		PyList_SetItem(out, i, x);
	}
	return out;
}
SHIM(mod_snapshot_tiers)

static PyObject *mod_set_converters(PyObject *m, PyObject *const *a, Py_ssize_t n, PyObject *k)
{
	if (nargs_between("_set_converters", n, 3, 3) || no_kwargs("_set_converters", k))
		return NULL;
	for (int i = 0; i < 3; i++)
		if (!PyCallable_Check(a[i])) {
			PyErr_SetString(PyExc_TypeError, "converters must be callable");
			return NULL;
		}
	Py_INCREF(a[0]);
	Py_INCREF(a[1]);
	Py_INCREF(a[2]);
	XSETREF(conv_time, a[0]);
	XSETREF(conv_span, a[1]);
	XSETREF(conv_from_ms, a[2]);
	Py_RETURN_NONE;
}
SHIM(mod_set_converters)

/* _set_bulk(hook): hook(cause, accepted, rejected, rejections, index, what)
 * returns the exception a bulk feed stopped by cause raises (the package's
 * BulkFeedError, with the report). */
static PyObject *mod_set_bulk(PyObject *m, PyObject *const *a, Py_ssize_t n, PyObject *k)
{
	if (nargs_between("_set_bulk", n, 1, 1) || no_kwargs("_set_bulk", k))
		return NULL;
	if (!PyCallable_Check(a[0])) {
		PyErr_SetString(PyExc_TypeError, "the hook must be callable");
		return NULL;
	}
	Py_INCREF(a[0]);
	XSETREF(bulk_hook, a[0]);
	Py_RETURN_NONE;
}
SHIM(mod_set_bulk)

/* _raise_status(code, message): raise what a failing call with that code
 * raises (for tests of codes no Python input can reach). */
static PyObject *mod_raise_status(PyObject *m, PyObject *const *a, Py_ssize_t n, PyObject *k)
{
	if (nargs_between("_raise_status", n, 2, 2) || no_kwargs("_raise_status", k))
		return NULL;
	long code = PyLong_AsLong(a[0]);
	if (code == -1 && PyErr_Occurred())
		return NULL;
	PyObject *b = PyUnicode_AsUTF8String(a[1]);
	if (!b)
		return NULL;
	raise_msg((cxm_status)code, PyBytes_AsString(b));
	Py_DECREF(b);
	return NULL;
}
SHIM(mod_raise_status)

#define MOD_METHODS(X)                                                                       \
	X(libversion, mod_libversion, "libversion()\n--\n\nThe loaded libcxm's version string.") \
	X(libversion_number, mod_libversion_number,                                          \
	  "libversion_number()\n--\n\nThe loaded libcxm's version as major*1000000+minor*1000+patch.") \
	X(strerror, mod_strerror, "strerror(code)\n--\n\nThe name of a status code.")        \
	X(preset, mod_preset, "preset(number)\n--\n\nA preset's definition as a dict.")      \
	X(snapshot_tiers, mod_snapshot_tiers,                                                \
	  "snapshot_tiers(data)\n--\n\nThe tiers a snapshot's first bytes name, [(bucket_ms, buckets), ...].") \
	X(_set_converters, mod_set_converters, NULL)                                         \
	X(_set_bulk, mod_set_bulk, NULL)                                                     \
	X(_raise_status, mod_raise_status, NULL)

static PyMethodDef mod_methods_fast[] = {MOD_METHODS(FAST_DEF){NULL, NULL, 0, NULL}};
static PyMethodDef mod_methods_va[] = {MOD_METHODS(VA_DEF){NULL, NULL, 0, NULL}};

static struct PyModuleDef moddef = {PyModuleDef_HEAD_INIT, "_cxm",
				    "The C half of the cxm package: libcxm through the stable ABI.",
				    -1, NULL, NULL, NULL, NULL, NULL};

/* ---- init ------------------------------------------------------------------------ */

static int add_errors(PyObject *m)
{
	static const struct {
		cxm_status st;
		const char *name;
		int builtin; /* 0 none, 1 ValueError, 2 KeyError, 3 MemoryError, 4 OSError, 5 TypeError */
	} tab[] = {
		{CXM_ERR_INVALID, "InvalidArgumentError", 1},
		{CXM_ERR_UNKNOWN_ID, "UnknownIdError", 2},
		{CXM_ERR_OUT_OF_RANGE, "OutOfRangeError", 1},
		{CXM_ERR_TOO_LATE, "TooLateError", 1},
		{CXM_ERR_TOO_EARLY, "TooEarlyError", 1},
		{CXM_ERR_NOT_FINITE, "NotFiniteError", 1},
		{CXM_ERR_TOO_LONG, "TooLongError", 1},
		{CXM_ERR_NO_MEMORY, "NoMemoryError", 3},
		{CXM_ERR_LIMIT, "LimitError", 0},
		{CXM_ERR_CORRUPT, "CorruptError", 1},
		{CXM_ERR_IO, "FileError", 4},
		{CXM_ERR_VERSION, "VersionError", 0},
		{CXM_ERR_UNSUPPORTED, "UnsupportedError", 0},
		{CXM_ERR_EXISTS, "ExistsError", 1},
		{CXM_ERR_ENCODING, "EncodingError", 1},
		{CXM_ERR_KIND, "KindError", 5},
		{CXM_ERR_REJECTED, "RejectedError", 0},
	};
	PyObject *builtins[6] = {NULL, PyExc_ValueError, PyExc_KeyError, PyExc_MemoryError,
				 PyExc_OSError, PyExc_TypeError};
	PyObject *d = Py_BuildValue("{s:O}", "code", Py_None);
	if (!d)
		return -1;
	Error = PyErr_NewExceptionWithDoc("cxm.Error",
					  "Base of every libcxm error; .code is the cxm_status, "
					  ".status its name (cxm_strerror).",
					  NULL, d);
	Py_DECREF(d);
	if (!Error)
		return -1;
	Py_INCREF(Error);
	if (PyModule_AddObject(m, "Error", Error) < 0)
		return -1;
	PyObject *exc_str = PyObject_GetAttrString(PyExc_Exception, "__str__");
	if (!exc_str)
		return -1;
	for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
		char qual[64];
		snprintf(qual, sizeof qual, "cxm.%s", tab[i].name);
		PyObject *bases = tab[i].builtin ? PyTuple_Pack(2, Error, builtins[tab[i].builtin])
						 : PyTuple_Pack(1, Error);
		PyObject *dict = Py_BuildValue("{s:i}", "code", (int)tab[i].st);
		PyObject *cls = bases && dict ? PyErr_NewExceptionWithDoc(qual, cxm_strerror(tab[i].st), bases, dict)
					      : NULL;
		Py_XDECREF(bases);
		Py_XDECREF(dict);
		if (!cls) {
			Py_DECREF(exc_str);
			return -1;
		}
		/* KeyError quotes its message; a library's message reads better plain */
		if (tab[i].builtin == 2 && PyObject_SetAttrString(cls, "__str__", exc_str) < 0) {
			Py_DECREF(exc_str);
			Py_DECREF(cls);
			return -1;
		}
		error_class[tab[i].st] = cls;
		Py_INCREF(cls);
		if (PyModule_AddObject(m, tab[i].name, cls) < 0) {
			Py_DECREF(cls);
			Py_DECREF(exc_str);
			return -1;
		}
	}
	Py_DECREF(exc_str);
	return 0;
}

static int add_type(PyObject *m, const char *name, PyTypeObject *tp)
{
	if (!tp)
		return -1;
	Py_INCREF(tp);
	if (PyModule_AddObject(m, name, (PyObject *)tp) < 0) {
		Py_DECREF(tp);
		return -1;
	}
	return 0;
}

PyMODINIT_FUNC PyInit__cxm(void);
PyMODINIT_FUNC PyInit__cxm(void)
{
	PyObject *hv = PySys_GetObject("hexversion"); /* borrowed */
	rt_hexversion = hv ? PyLong_AsLong(hv) : 0x03080000;
	if (rt_hexversion == -1 && PyErr_Occurred())
		return NULL;
	rt_fastcall = rt_hexversion >= 0x030A0000;
	rt_utf8 = rt_hexversion >= 0x030A0000;
	rt_buffer = rt_hexversion >= 0x030B0000;

	moddef.m_methods = rt_fastcall ? mod_methods_fast : mod_methods_va;
	for (PyType_Slot *s = ctx_slots; s->slot; s++)
		if (s->slot == Py_tp_methods)
			s->pfunc = rt_fastcall ? ctx_methods_fast : ctx_methods_va;

	if (spec_init(&feed_spec) < 0 || spec_init(&many_spec) < 0 || spec_init(&rec_spec) < 0 ||
	    spec_init(&poll_spec) < 0)
		return NULL;
	if (!(str_code = PyUnicode_InternFromString("code")) ||
	    !(str_status = PyUnicode_InternFromString("status")) ||
	    !(s_time = PyUnicode_InternFromString("time")) ||
	    !(s_touchpoint = PyUnicode_InternFromString("touchpoint")) ||
	    !(s_measures = PyUnicode_InternFromString("measures")) ||
	    !(s_customer = PyUnicode_InternFromString("customer")) ||
	    !(s_segments = PyUnicode_InternFromString("segments")))
		return NULL;
	static const char *kinds[9] = {NULL, "score", "index", "duration", "rate", "amount", "volume", "distinct",
				       "sentiment"};
	static const char *heads[8] = {"default", "net", "top_box", "bottom_box", "mean", "share", "sum", "count"};
	if (!(event_kind_names[CXM_EVENT_TRIGGER] = PyUnicode_InternFromString("trigger")) ||
	    !(event_kind_names[CXM_EVENT_ALERT_FIRING] = PyUnicode_InternFromString("alert firing")) ||
	    !(event_kind_names[CXM_EVENT_ALERT_RESOLVED] = PyUnicode_InternFromString("alert resolved")) ||
	    !(event_kind_names[CXM_EVENT_SIGNAL] = PyUnicode_InternFromString("signal")))
		return NULL;
	for (int i = 0; i < 9; i++)
		if (kinds[i] && !(kind_names[i] = PyUnicode_InternFromString(kinds[i])))
			return NULL;
	for (int i = 0; i < 8; i++)
		if (!(headline_names[i] = PyUnicode_InternFromString(heads[i])))
			return NULL;

	PyObject *m = PyModule_Create(&moddef);
	if (!m)
		return NULL;
	if (add_errors(m) < 0)
		goto fail;
	ContextType = (PyTypeObject *)PyType_FromSpec(&ctx_spec);
	QueryType = (PyTypeObject *)PyType_FromSpec(&query_spec);
	if (add_type(m, "Context", ContextType) < 0 || add_type(m, "Query", QueryType) < 0)
		goto fail;
	ResultType = make_record_type("cxm.Result", sizeof(ResultObject), &result_info,
				      result_methods, result_getset, result_repr,
				      "The answer to a query (cxm_result): immutable.", NULL);
	ComparisonType = make_record_type("cxm.Comparison", sizeof(ComparisonObject),
					  &comparison_info, comparison_methods, comparison_getset,
					  comparison_repr, "Two queries compared (cxm_comparison).", NULL);
	StatsType = make_record_type("cxm.Stats", sizeof(StatsObject), &stats_info, stats_methods,
				     stats_getset, stats_repr, "A context's statistics (cxm_stats).", NULL);
	FunnelType = make_record_type("cxm.Funnel", sizeof(FunnelObject), &funnel_info,
				      funnel_methods, funnel_getset, funnel_repr,
				      "A journey's funnel over a window (cxm_funnel): immutable.",
				      funnel_dealloc);
	FunnelStepType = make_record_type("cxm.FunnelStep", sizeof(FunnelStepObject),
					  &funnel_step_info, funnel_step_methods, funnel_step_getset,
					  funnel_step_repr, "One step of a Funnel (cxm_funnel_step).",
					  NULL);
	ChurnType = make_record_type("cxm.Churn", sizeof(ChurnObject), &churn_info, churn_methods,
				     churn_getset, churn_repr, "A churn rate (cxm_churn).", NULL);
	EventType = make_record_type("cxm.Event", sizeof(EventObject), &event_info, event_methods,
				     event_getset, event_repr,
				     "An event off the trigger queue (cxm_event): immutable.", NULL);
	if (add_type(m, "Event", EventType) < 0 || add_type(m, "Result", ResultType) < 0 || add_type(m, "Comparison", ComparisonType) < 0 ||
	    add_type(m, "Stats", StatsType) < 0 || add_type(m, "Funnel", FunnelType) < 0 ||
	    add_type(m, "FunnelStep", FunnelStepType) < 0 || add_type(m, "Churn", ChurnType) < 0)
		goto fail;
	if (PyModule_AddIntConstant(m, "NONE", (long)CXM_NONE) < 0 ||
	    PyModule_AddObject(m, "TIME_MAX", PyLong_FromLongLong(CXM_TIME_MAX)) < 0 ||
	    PyModule_AddIntConstant(m, "VERSION_NUMBER", CXM_VERSION_NUMBER) < 0 ||
	    PyModule_AddStringConstant(m, "VERSION", CXM_VERSION_STRING) < 0 ||
	    PyModule_AddIntConstant(m, "STATUS_COUNT", CXM_STATUS_COUNT) < 0 ||
	    PyModule_AddIntConstant(m, "MAX_QUESTIONS", CXM_MAX_QUESTIONS) < 0 ||
	    PyModule_AddIntConstant(m, "HAS_FASTCALL", rt_fastcall) < 0 ||
	    PyModule_AddIntConstant(m, "HAS_BUFFER", rt_buffer) < 0 ||
	    PyModule_AddIntConstant(m, "LIMITED_API", Py_LIMITED_API) < 0 ||
	    PyModule_AddIntConstant(m, "RESULT_LOW_SAMPLE", CXM_RESULT_LOW_SAMPLE) < 0 ||
	    PyModule_AddIntConstant(m, "RESULT_EMPTY", CXM_RESULT_EMPTY) < 0 ||
	    PyModule_AddIntConstant(m, "RESULT_CLAMPED", CXM_RESULT_CLAMPED) < 0 ||
	    PyModule_AddIntConstant(m, "RESULT_TRUNCATED", CXM_RESULT_TRUNCATED) < 0 ||
	    PyModule_AddIntConstant(m, "JOURNEY_STRICT", CXM_JOURNEY_STRICT) < 0 ||
	    PyModule_AddIntConstant(m, "JOURNEY_COUNT_REPEATS", CXM_JOURNEY_COUNT_REPEATS) < 0 ||
	    PyModule_AddIntConstant(m, "JOURNEY_EQUAL_TIMES_HOLD", CXM_JOURNEY_EQUAL_TIMES_HOLD) < 0 ||
	    PyModule_AddIntConstant(m, "JOURNEY_RESTART", CXM_JOURNEY_RESTART) < 0 ||
	    PyModule_AddIntConstant(m, "JOURNEY_WINDOW_EXCLUSIVE", CXM_JOURNEY_WINDOW_EXCLUSIVE) < 0 ||
	    PyModule_AddIntConstant(m, "JOURNEY_STRICT_ORDER", CXM_JOURNEY_STRICT_ORDER) < 0 ||
	    PyModule_AddIntConstant(m, "JOURNEY_ALLOW_REENTRY", CXM_JOURNEY_ALLOW_REENTRY) < 0 ||
	    PyModule_AddIntConstant(m, "JOURNEY_STRICT_DEDUP", CXM_JOURNEY_STRICT_DEDUP) < 0 ||
	    PyModule_AddObject(m, "JOURNEY_MAX_WINDOW_MS", PyLong_FromLongLong(CXM_JOURNEY_MAX_WINDOW_MS)) < 0 ||
	    PyModule_AddIntConstant(m, "EXPORT_NO_SEGMENTS", CXM_EXPORT_NO_SEGMENTS) < 0 ||
	    PyModule_AddIntConstant(m, "EXPORT_NO_POINTS", CXM_EXPORT_NO_POINTS) < 0 ||
	    PyModule_AddIntConstant(m, "EXPORT_MAX_BUCKETS", CXM_EXPORT_MAX_BUCKETS) < 0 ||
	    PyModule_AddIntConstant(m, "EXPORT_MAX_LABELS", CXM_EXPORT_MAX_LABELS) < 0 ||
	    PyModule_AddStringConstant(m, "OPENMETRICS_CONTENT_TYPE", CXM_OPENMETRICS_CONTENT_TYPE) < 0 ||
	    PyModule_AddStringConstant(m, "PROMETHEUS_CONTENT_TYPE", CXM_PROMETHEUS_CONTENT_TYPE) < 0 ||
	    PyModule_AddIntConstant(m, "SURVEY_INVITED", CXM_SURVEY_INVITED) < 0 ||
	    PyModule_AddIntConstant(m, "SURVEY_RESPONDED", CXM_SURVEY_RESPONDED) < 0 ||
	    PyModule_AddIntConstant(m, "MAX_SURVEYS", CXM_MAX_SURVEYS) < 0 ||
	    PyModule_AddIntConstant(m, "SURVEY_MAX_CAP", CXM_SURVEY_MAX_CAP) < 0 ||
	    PyModule_AddIntConstant(m, "MAX_SIGNALS", CXM_MAX_SIGNALS) < 0 ||
	    PyModule_AddIntConstant(m, "SIGNAL_MAX_COUNT", CXM_SIGNAL_MAX_COUNT) < 0 ||
	    PyModule_AddIntConstant(m, "DRIVERS_OVERALL", CXM_DRIVERS_OVERALL) < 0 ||
	    PyModule_AddIntConstant(m, "DRIVER_SETS_MAX", CXM_DRIVER_SETS_MAX) < 0 ||
	    PyModule_AddIntConstant(m, "DRIVERS_MAX", CXM_DRIVERS_MAX) < 0)
		goto fail;
	return m;
fail:
	Py_DECREF(m);
	return NULL;
}
