#!/usr/bin/env python3
"""Benchmark of the Python binding against the budgets of docs/python.md.

    PYTHONPATH=build/bindings/python python3 bindings/python/bench.py [--rows N] [--quick]

Measures, on the machine it runs on, in one run:

1. per-call overhead: ctx.feed() and ctx.run() against the same calls
   made from C in a loop (a helper compiled here with cc against the
   libcxm the extension loaded), and against ctypes calling the same C
   functions (a prebuilt struct, and one filled per call);
2. batch throughput from a buffer: ctx.feed_buffer() of a numpy
   structured array against cxm_feed_batch() of the same interactions
   prebuilt in C;
3. the dashboard (100 touchpoints x 6 metrics x 3 windows) from libcxm
   against pandas on the same rows, with the ratio, after checking that
   both count the same.

Budgets (docs/performance.md): <= 100 ns per call above C; <= 10 ns per interaction
above C in a batch from a buffer. Wall-clock figures drift on shared
machines: each is the fastest of several repeats, and ratios come from the
same run. Needs numpy; pandas for part 3 (Debian: python3-numpy,
python3-pandas); cc for the C baselines.
"""
import argparse
import ctypes
import os
import subprocess
import sys
import tempfile
import time
import timeit

HERE = os.path.dirname(os.path.abspath(__file__))
# this directory holds the package's sources without the built extension:
# import cxm from PYTHONPATH (the build tree) or the installed one instead
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != HERE]
import cxm  # noqa: E402

INCLUDE = os.path.normpath(os.path.join(HERE, "..", "..", "include"))
DAY0 = 1_795_305_600_000  # 2026-11-22T00:00:00Z
DAY = 86_400_000
N_TP, N_TIERS, N_REGIONS = 100, 4, 8
METRICS = [("nps", "nps"), ("csat", "csat5"), ("ces", "ces7"), ("aht", "duration"),
           ("resolved", "rate"), ("volume", "volume")]

HELPER_C = r"""
#include <cxm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

/* The model bench.py defines, with the same ids, and the default clock as
 * the Python side's context has (the data lies in the past; queries name
 * their end). */
static cxm_context *model(void)
{
	cxm_context *ctx;
	if (cxm_context_new(&ctx, NULL)) exit(1);
	char name[32];
	cxm_id id;
	for (int i = 0; i < %(N_TP)d; i++) {
		snprintf(name, sizeof name, "tp%%03d", i);
		cxm_touchpoint_define(&id, ctx, name, CXM_CHANNEL_PHONE, CXM_NONE, 0);
	}
	cxm_preset presets[] = {CXM_PRESET_NPS, CXM_PRESET_CSAT5, CXM_PRESET_CES7, CXM_PRESET_DURATION, CXM_PRESET_RATE, CXM_PRESET_VOLUME};
	const char *names[] = {"nps", "csat", "ces", "aht", "resolved", "volume"};
	for (int i = 0; i < 6; i++) {
		cxm_metric_def d = {.size = sizeof d};
		cxm_metric_preset(&d, presets[i]);
		cxm_metric_define(&id, ctx, names[i], &d);
	}
	uint32_t v;
	cxm_segment_define(&id, ctx, "tier", %(N_TIERS)d);
	for (int i = 0; i < %(N_TIERS)d; i++) { snprintf(name, sizeof name, "t%%d", i); cxm_segment_value(&v, ctx, 0, name); }
	cxm_segment_define(&id, ctx, "region", %(N_REGIONS)d);
	for (int i = 0; i < %(N_REGIONS)d; i++) { snprintf(name, sizeof name, "r%%d", i); cxm_segment_value(&v, ctx, 1, name); }
	return ctx;
}

/* ns per call: out[0] cxm_feed with one measure, out[1] without, out[2]
 * cxm_query_run of a touchpoint's NPS over 24 h; the fastest of 5. */
void bench_calls(long n, double *out)
{
	cxm_context *ctx = model();
	struct timespec rt;
	clock_gettime(CLOCK_REALTIME, &rt);
	int64_t wall = (int64_t)rt.tv_sec * 1000 + rt.tv_nsec / 1000000;
	cxm_measure m = {0, 0, 9};
	cxm_interaction ix = CXM_INTERACTION_INIT;
	ix.time_ms = wall - 1000;
	ix.touchpoint = 3;
	ix.measures = &m;
	for (int k = 0; k < 2; k++) {
		ix.n_measures = k == 0;
		double best = 1e9;
		for (int r = 0; r < 5; r++) {
			double a = now();
			for (long i = 0; i < n; i++) cxm_feed(ctx, &ix);
			double t = (now() - a) / n;
			if (t < best) best = t;
		}
		out[k] = best * 1e9;
	}
	cxm_query q = CXM_QUERY_INIT;
	q.metric = 0; q.scope = CXM_SCOPE_TOUCHPOINT; q.id = 3; q.span_ms = 86400000; q.end_ms = wall;
	cxm_result res;
	res.size = sizeof res;
	double best = 1e9;
	for (int r = 0; r < 5; r++) {
		double a = now();
		for (long i = 0; i < n / 10; i++) cxm_query_run(&res, ctx, &q);
		double t = (now() - a) / (n / 10);
		if (t < best) best = t;
	}
	out[2] = best * 1e9;
	cxm_context_free(ctx);
}

/* ns per interaction of cxm_feed_batch (batches of 1024) over records
 * [prime, n) of bench.py's record layout, into a fresh context that was
 * fed records [0, prime) first; the interactions are built before timing,
 * as a C program would have them. Returns -1 if any is rejected. */
double bench_batch(const unsigned char *buf, long n, long prime)
{
	const size_t rs = %(RS)d;
	cxm_interaction *ix = calloc(n, sizeof *ix);
	cxm_measure *ms = calloc(n * 5, sizeof *ms);
	uint32_t *seg = calloc(n * 2, sizeof *seg);
	if (!ix || !ms || !seg) return -1;
	for (long i = 0; i < n; i++) {
		const unsigned char *r = buf + i * rs;
		cxm_interaction *x = &ix[i];
		x->size = sizeof *x;
		memcpy(&x->time_ms, r + %(O_TIME)d, 8);
		memcpy(&x->touchpoint, r + %(O_TP)d, 4);
		memcpy(&seg[2 * i], r + %(O_TIER)d, 4);
		memcpy(&seg[2 * i + 1], r + %(O_REGION)d, 4);
		x->segments = &seg[2 * i];
		x->n_segments = 2;
		size_t len = 16;
		while (len && r[%(O_CUST)d + len - 1] == 0) len--;
		x->customer = r + %(O_CUST)d;
		x->customer_len = len;
		cxm_measure *m = &ms[5 * i];
		int k = 0;
		float f4; double f8;
		int offs[3] = {%(O_NPS)d, %(O_CSAT)d, %(O_CES)d};
		for (int q = 0; q < 3; q++) {
			memcpy(&f4, r + offs[q], 4);
			if (f4 == f4) { m[k].metric = q; m[k].value = f4; k++; }
		}
		memcpy(&f8, r + %(O_AHT)d, 8); m[k].metric = 3; m[k].value = f8; k++;
		memcpy(&f4, r + %(O_RES)d, 4); m[k].metric = 4; m[k].value = f4; k++;
		x->measures = m;
		x->n_measures = k;
	}
	cxm_rejection rej[1024];
	size_t acc_total = 0;
	cxm_context *ctx = model();
	double a = 0;
	for (long i = 0; i < n;) {
		long end = i < prime ? prime : n;
		if (i == prime)
			a = now();
		size_t m = end - i < 1024 ? end - i : 1024, acc = 0, nrej = 0;
		cxm_feed_batch(&acc, ctx, ix + i, m, rej, 1024, &nrej);
		acc_total += acc;
		i += m;
	}
	double t = (now() - a) / (n - prime);
	cxm_context_free(ctx);
	free(ix);
	free(ms);
	free(seg);
	return acc_total == (size_t)n ? t * 1e9 : -1;
}
"""


def libcxm_path():
    """The libcxm the extension loaded (from /proc/self/maps)."""
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if "/libcxm.so" in path:
                return path
    raise SystemExit("bench: cannot find the loaded libcxm in /proc/self/maps")


def record_dtype(np):
    return np.dtype([("time", "<i8"), ("touchpoint", "<u4"), ("tier", "<u4"), ("region", "<u4"),
                     ("nps", "<f4"), ("csat", "<f4"), ("ces", "<f4"), ("aht", "<f8"),
                     ("resolved", "<f4"), ("customer", "S16")])


def build_helper(dtype, workdir):
    """The C baseline as a shared object loaded into this process, so that
    C and Python repeats interleave under the same conditions."""
    off = {name: dtype.fields[name][1] for name in dtype.names}
    src = HELPER_C % dict(N_TP=N_TP, N_TIERS=N_TIERS, N_REGIONS=N_REGIONS,
                          RS=dtype.itemsize, O_TIME=off["time"], O_TP=off["touchpoint"],
                          O_TIER=off["tier"], O_REGION=off["region"], O_NPS=off["nps"],
                          O_CSAT=off["csat"], O_CES=off["ces"], O_AHT=off["aht"],
                          O_RES=off["resolved"], O_CUST=off["customer"])
    c = os.path.join(workdir, "helper.c")
    so = os.path.join(workdir, "helper.so")
    with open(c, "w") as f:
        f.write(src)
    lib = libcxm_path()
    cc = os.environ.get("CC", "cc")
    subprocess.run([cc, "-O2", "-std=c11", "-D_POSIX_C_SOURCE=200809L", "-shared", "-fPIC",
                    "-I", INCLUDE, c, "-o", so, lib, f"-Wl,-rpath,{os.path.dirname(lib)}"],
                   check=True)
    h = ctypes.CDLL(so)
    h.bench_calls.argtypes = [ctypes.c_long, ctypes.POINTER(ctypes.c_double)]
    h.bench_calls.restype = None
    h.bench_batch.argtypes = [ctypes.c_void_p, ctypes.c_long, ctypes.c_long]
    h.bench_batch.restype = ctypes.c_double
    return h


def make_ctx():
    # libcxm's own clock, as the C helper's: a Python clock would cost a
    # Python call in every feed
    ctx = cxm.Context()
    tps = [ctx.touchpoint(f"tp{i:03d}", "phone") for i in range(N_TP)]
    mets = [ctx.metric(n, p) for n, p in METRICS]
    tier = ctx.segment("tier", N_TIERS)
    for i in range(N_TIERS):
        ctx.segment_value(tier, f"t{i}")
    region = ctx.segment("region", N_REGIONS)
    for i in range(N_REGIONS):
        ctx.segment_value(region, f"r{i}")
    return ctx, tps, mets


def generate(np, n, seed=7):
    """The reference day's shape: n interactions over 24 h, each with a
    handle time and a resolved flag, one in four also an NPS, CSAT or CES
    answer; customers and their segments fixed per customer."""
    rng = np.random.default_rng(seed)
    a = np.zeros(n, dtype=record_dtype(np))
    a["time"] = DAY0 + np.sort(rng.integers(0, DAY, n))
    a["touchpoint"] = rng.integers(0, N_TP, n)
    cust = rng.integers(0, max(n // 10, 1), n)
    a["tier"] = cust % N_TIERS
    a["region"] = (cust // N_TIERS) % N_REGIONS
    a["customer"] = np.char.add(b"cust-", np.char.zfill(cust.astype("S7"), 7))
    survey = rng.random(n)
    nan = np.float32("nan")
    a["nps"] = np.where(survey < 0.25 / 3, rng.integers(0, 11, n), nan)
    a["csat"] = np.where((survey >= 0.25 / 3) & (survey < 0.5 / 3), rng.integers(1, 6, n), nan)
    a["ces"] = np.where((survey >= 0.5 / 3) & (survey < 0.25), rng.integers(1, 8, n), nan)
    a["aht"] = rng.lognormal(5.3, 0.6, n)
    a["resolved"] = (rng.random(n) < 0.72).astype("f4")
    return a


def best_ns(stmt, glb, number, repeat=5):
    return min(timeit.repeat(stmt, globals=glb, number=number, repeat=repeat)) / number * 1e9


# ---- 1. per call --------------------------------------------------------------

class Measure(ctypes.Structure):
    _fields_ = [("metric", ctypes.c_uint32), ("item", ctypes.c_uint32), ("value", ctypes.c_double)]


class MetricDef(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("kind", ctypes.c_int), ("headline", ctypes.c_int),
                ("scale_min", ctypes.c_int32), ("scale_max", ctypes.c_int32),
                ("questions", ctypes.c_uint32), ("has_na", ctypes.c_int32),
                ("na_value", ctypes.c_int32), ("top_min", ctypes.c_int32 * 8),
                ("bottom_max", ctypes.c_int32 * 8), ("duration_lo", ctypes.c_double),
                ("duration_hi", ctypes.c_double), ("relative_error", ctypes.c_double),
                ("precision", ctypes.c_uint32), ("reserved0", ctypes.c_uint32),
                ("reserved", ctypes.c_uint64 * 4)]


class Interaction(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("time_ms", ctypes.c_int64),
                ("touchpoint", ctypes.c_uint32), ("reserved0", ctypes.c_uint32),
                ("customer", ctypes.c_void_p), ("customer_len", ctypes.c_size_t),
                ("segments", ctypes.POINTER(ctypes.c_uint32)), ("n_segments", ctypes.c_size_t),
                ("measures", ctypes.POINTER(Measure)), ("n_measures", ctypes.c_size_t),
                ("reserved", ctypes.c_uint64 * 4)]


def per_call(helper, calls):
    out = (ctypes.c_double * 3)()
    helper.bench_calls(calls, out)
    c_feed, c_feed0, c_query = out

    ctx, tps, mets = make_ctx()
    t = int(time.time() * 1000) - 1000
    tp, nps = tps[3], mets[0]
    g = {"feed": ctx.feed, "run": ctx.run, "t": t, "tp": tp, "m": {nps: 9}, "mt": ((nps, 9),),
         "q": ctx.make_query(nps, DAY, end=t + 1000, touchpoint=tp)}
    py_feed = best_ns("feed(t, tp, m)", g, calls)
    py_feed_pairs = best_ns("feed(t, tp, mt)", g, calls)
    py_feed0 = best_ns("feed(t, tp)", g, calls)
    py_query = best_ns("run(q)", g, calls // 10)
    ctx.close()

    lib = ctypes.CDLL(libcxm_path())
    lib.cxm_feed.argtypes = [ctypes.c_void_p, ctypes.POINTER(Interaction)]
    lib.cxm_feed.restype = ctypes.c_int
    lib.cxm_context_new.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p]
    lib.cxm_touchpoint_define.argtypes = [ctypes.POINTER(ctypes.c_uint32), ctypes.c_void_p,
                                          ctypes.c_char_p, ctypes.c_int, ctypes.c_uint32,
                                          ctypes.c_uint32]
    lib.cxm_metric_define.argtypes = [ctypes.POINTER(ctypes.c_uint32), ctypes.c_void_p,
                                      ctypes.c_char_p, ctypes.c_void_p]
    lib.cxm_metric_preset.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.cxm_metric_def_init.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    lib.cxm_context_free.argtypes = [ctypes.c_void_p]
    cptr = ctypes.c_void_p()
    lib.cxm_context_new(ctypes.byref(cptr), None)
    tid, mid = ctypes.c_uint32(), ctypes.c_uint32()
    for i in range(4):
        lib.cxm_touchpoint_define(ctypes.byref(tid), cptr, f"tp{i}".encode(), 1, 0xFFFFFFFF, 0)
    d = MetricDef(size=ctypes.sizeof(MetricDef))
    lib.cxm_metric_preset(ctypes.byref(d), 1)
    if lib.cxm_metric_define(ctypes.byref(mid), cptr, b"nps", ctypes.byref(d)):
        raise SystemExit("bench: ctypes could not define the metric")
    m = Measure(mid.value, 0, 9.0)
    ix = Interaction(size=ctypes.sizeof(Interaction), time_ms=int(time.time() * 1000),
                     touchpoint=tid.value, measures=ctypes.pointer(m), n_measures=1)
    ref = ctypes.byref(ix)

    def filled(t, tp, v, feed=lib.cxm_feed, ix=ix, m=m, ref=ref, ctx=cptr):
        ix.time_ms = t
        ix.touchpoint = tp
        m.value = v
        return feed(ctx, ref)
    g2 = {"feed": lib.cxm_feed, "ctx": cptr, "ref": ref, "filled": filled,
          "t": int(time.time() * 1000), "tp": tid.value}
    ct_prebuilt = best_ns("feed(ctx, ref)", g2, calls)
    ct_filled = best_ns("filled(t, tp, 9.0)", g2, calls)
    lib.cxm_context_free(cptr)
    return dict(c_feed=c_feed, c_feed0=c_feed0, c_query=c_query, py_feed=py_feed,
                py_feed_pairs=py_feed_pairs, py_feed0=py_feed0, py_query=py_query,
                ct_prebuilt=ct_prebuilt, ct_filled=ct_filled)


# ---- 2. batch from a buffer -----------------------------------------------------

def batch(np, helper, data, reps):
    """C and Python repeats interleaved, each going first in turn (the
    memory a freed context leaves behind favours whoever comes next);
    the fastest of each."""
    best = c_batch = float("inf")
    layout = None
    prime = len(data) // 10
    ctx = None

    def c_run():
        c = helper.bench_batch(data.ctypes.data, len(data), prime)
        if c < 0:
            raise SystemExit("bench: the C baseline rejected interactions")
        return c
    for k in range(reps):
        if ctx is not None:
            ctx.close()
        if k % 2 == 0:
            c_batch = min(c_batch, c_run())
        ctx, tps, mets = make_ctx()
        if layout is None:
            layout = cxm.Layout.from_dtype(ctx, data.dtype)
        head = ctx.feed_buffer(data[:prime].view(np.uint8), layout)
        t0 = time.perf_counter()
        rep = ctx.feed_buffer(data[prime:].view(np.uint8), layout)
        t1 = time.perf_counter()
        if head.accepted + rep.accepted != len(data):
            raise SystemExit(f"bench: feed_buffer accepted {rep.accepted} of {len(data)}: {rep}")
        best = min(best, (t1 - t0) / (len(data) - prime) * 1e9)
        if k % 2 == 1:
            ctx.close()
            ctx = None
            c_batch = min(c_batch, c_run())
    if ctx is None:
        ctx, tps, mets = make_ctx()
        ctx.feed_buffer(data, layout)
    return dict(c_batch=c_batch, py_buffer=best), ctx


# ---- 3. the dashboard against pandas --------------------------------------------

WINDOWS = [("1h", 3_600_000), ("6h", 6 * 3_600_000), ("24h", DAY)]


def dashboard_cxm(ctx, reps):
    end = DAY0 + DAY - 1
    t0 = time.perf_counter()
    queries = [(w, name, tp, ctx.make_query(name, span, end=end, touchpoint=tp))
               for w, span in WINDOWS for name, _ in METRICS for tp in range(N_TP)]
    t_build = time.perf_counter() - t0
    best, cells = float("inf"), None
    run = ctx.run
    for _ in range(reps):
        t0 = time.perf_counter()
        res = [run(q) for _, _, _, q in queries]
        best = min(best, time.perf_counter() - t0)
        cells = {(w, name, tp): r for (w, name, tp, _), r in zip(queries, res)}
    return best, t_build, cells


def pandas_frame(pd, np, data):
    """The rows as a pandas user would hold them, with the box columns
    (promoter, detractor, top two) computed once, vectorised."""
    df = pd.DataFrame({k: data[k] for k in ("time", "touchpoint", "nps", "csat", "ces", "aht",
                                            "resolved")})
    df["prom"] = np.where(df["nps"].isna(), np.nan, (df["nps"] >= 9).astype("f8"))
    df["det"] = np.where(df["nps"].isna(), np.nan, (df["nps"] <= 6).astype("f8"))
    df["csat_top"] = np.where(df["csat"].isna(), np.nan, (df["csat"] >= 4).astype("f8"))
    return df


def dashboard_pandas(pd, df, reps):
    """The same cells with vectorised groupby aggregations per window."""
    end = DAY0 + DAY
    best, out = float("inf"), None
    for _ in range(reps):
        t0 = time.perf_counter()
        out = {}
        for w, span in WINDOWS:
            d = df[(df["time"] >= end - span) & (df["time"] < end)]
            g = d.groupby("touchpoint")
            a = g.agg(nps_n=("nps", "count"), prom=("prom", "sum"), det=("det", "sum"),
                      csat_n=("csat", "count"), csat_top=("csat_top", "sum"),
                      ces_n=("ces", "count"), ces_mean=("ces", "mean"),
                      aht_n=("aht", "count"), aht_mean=("aht", "mean"),
                      res_n=("resolved", "count"), res_share=("resolved", "mean"),
                      volume=("time", "size"))
            a["nps"] = 100 * (a["prom"] - a["det"]) / a["nps_n"]
            a["csat"] = 100 * a["csat_top"] / a["csat_n"]
            q = g["aht"].quantile([0.5, 0.9, 0.99]).unstack()
            out[w] = (a, q)
        best = min(best, time.perf_counter() - t0)
    return best, out


def check(cells, pdout):
    """Sample sizes equal in every cell; NPS and mean handle time equal."""
    bad = 0
    for w, _ in WINDOWS:
        a, _q = pdout[w]
        for tp in range(N_TP):
            row = a.loc[tp] if tp in a.index else None
            n_pd = {"nps": "nps_n", "csat": "csat_n", "ces": "ces_n", "aht": "aht_n",
                    "resolved": "res_n", "volume": "volume"}
            for name, col in n_pd.items():
                if cells[w, name, tp].n != (0 if row is None else int(row[col])):
                    bad += 1
            if row is not None and row["nps_n"] and abs(cells[w, "nps", tp].value - row["nps"]) > 1e-9:
                bad += 1
            if row is not None and abs(cells[w, "aht", tp].mean - row["aht_mean"]) > 1e-9 * row["aht_mean"]:
                bad += 1
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="interactions (1 000 000)")
    ap.add_argument("--calls", type=int, default=1_000_000, help="calls per timing (1 000 000)")
    ap.add_argument("--reps", type=int, default=4, help="repeats of the batch and dashboard (4)")
    ap.add_argument("--quick", action="store_true", help="100 k rows, 200 k calls")
    args = ap.parse_args()
    if args.quick:
        args.rows, args.calls = 100_000, 200_000
    try:
        import numpy as np
    except ImportError:
        raise SystemExit("bench: needs numpy (apt-get install python3-numpy)")
    try:
        import pandas as pd
    except ImportError:
        pd = None
    print(f"cxm {cxm.__version__} (libcxm {cxm.libversion()}), Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs; rows {args.rows:,}, calls {args.calls:,}")
    with tempfile.TemporaryDirectory(prefix="cxm-bench-") as workdir:
        data = generate(np, args.rows)
        helper = build_helper(data.dtype, workdir)

        pc = per_call(helper, args.calls)
        print("\n1. per call (fastest of 5)                  ns/call   above C")
        rows = [("C: cxm_feed, one measure", pc["c_feed"], None),
                ("Python: ctx.feed(t, tp, {nps: 9})", pc["py_feed"], pc["py_feed"] - pc["c_feed"]),
                ("Python: ctx.feed(t, tp, ((nps, 9),))", pc["py_feed_pairs"], pc["py_feed_pairs"] - pc["c_feed"]),
                ("ctypes: cxm_feed(ctx, prebuilt struct)", pc["ct_prebuilt"], pc["ct_prebuilt"] - pc["c_feed"]),
                ("ctypes: fill struct + cxm_feed", pc["ct_filled"], pc["ct_filled"] - pc["c_feed"]),
                ("C: cxm_feed, no measure", pc["c_feed0"], None),
                ("Python: ctx.feed(t, tp)", pc["py_feed0"], pc["py_feed0"] - pc["c_feed0"]),
                ("C: cxm_query_run, NPS 24 h, one touchpoint", pc["c_query"], None),
                ("Python: ctx.run(q)", pc["py_query"], pc["py_query"] - pc["c_query"])]
        for label, ns, above in rows:
            print(f"   {label:<42} {ns:8.1f}  {'' if above is None else f'{above:+8.1f}'}")
        over = pc["py_feed"] - pc["c_feed"]
        print(f"   budget: <= 100 ns above C per call: feed {over:+.0f} ns "
              f"({'met' if over <= 100 else 'NOT met'}); ctypes' filled call is "
              f"{pc['ct_filled'] / pc['py_feed']:.1f}x the binding's")

        # the same records within one minute: libcxm's roll-ups, which
        # dominate the day, drop out, and the binding's share shows
        minute = data.copy()
        minute["time"] = DAY0 + DAY - 60_000 + np.arange(len(data)) * 60_000 // len(data)
        bm, mctx = batch(np, helper, minute, args.reps)
        mctx.close()
        b, ctx = batch(np, helper, data, args.reps)
        print(f"\n2. batch from a buffer, {args.rows:,} interactions (the first 10 % create the series "
              f"untimed; C and Python interleaved, fastest of {args.reps})")
        print(f"   {'':<44} {'C batch':>9} {'feed_buffer':>12} {'above C':>9}   ns/interaction")
        for label, r in (("the day (24 h of event time)", b), ("the same rows within one minute", bm)):
            print(f"   {label:<44} {r['c_batch']:9.1f} {r['py_buffer']:12.1f} "
                  f"{r['py_buffer'] - r['c_batch']:+9.1f}")
        over_b = bm["py_buffer"] - bm["c_batch"]
        print(f"   budget: <= 10 ns per interaction above C: {over_b:+.1f} ns on the minute "
              f"({'met' if over_b <= 10 else 'NOT met'}); the day runs at "
              f"{1e3 / b['py_buffer']:.2f} M interactions/s from Python, {1e3 / b['c_batch']:.2f} M/s from C")

        t_cxm, t_build, cells = dashboard_cxm(ctx, args.reps)
        nq = len(cells)
        print(f"\n3. dashboard: {N_TP} touchpoints x {len(METRICS)} metrics x {len(WINDOWS)} windows "
              f"= {nq} cells (fastest of {args.reps})")
        print(f"   libcxm through Python: {t_cxm * 1e3:8.2f} ms ({t_cxm / nq * 1e6:.2f} us a query; "
              f"building the {nq} Query objects once: {t_build * 1e3:.1f} ms)")
        if pd is None:
            print("   pandas: not installed (apt-get install python3-pandas): no ratio")
        else:
            t0 = time.perf_counter()
            df = pandas_frame(pd, np, data)
            t_frame = time.perf_counter() - t0
            t_pd, pdout = dashboard_pandas(pd, df, args.reps)
            bad = check(cells, pdout)
            print(f"   pandas {pd.__version__} groupby:       {t_pd * 1e3:8.2f} ms (the DataFrame and its box "
                  f"columns, made once before: {t_frame * 1e3:.0f} ms)")
            print(f"   ratio pandas / libcxm: {t_pd / t_cxm:.0f}x; cells that differ: {bad} of {nq * 2}"
                  f" checked (sample sizes, NPS, mean handle time)")
        ctx.close()


if __name__ == "__main__":
    main()
