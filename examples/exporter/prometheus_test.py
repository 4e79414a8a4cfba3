#!/usr/bin/python3
"""Two simulated nodes, one real Prometheus, PromQL across both.

usage: prometheus_test.py EXPORTER [PROMETHEUS]

Starts two exporters (seeds 1 and 2) and a Prometheus server on loopback
ports that are free, scraping both every second; waits until both nodes'
counters are in; then asks Prometheus's HTTP API for the cross-node NPS,
CSAT top-2-box, first-contact resolution share, counts, handle-time sum and
p90 (histogram_quantile), revenue count and sum, and checks them against
what ONE libcxm context fed with both nodes' traffic reports (`EXPORTER
--expect 1,2`). It checks too that Prometheus scraped OpenMetrics.
Everything it starts it stops, and its temporary directory goes, pass or
fail.
Exit 77 (skipped) when there is no Prometheus server to run.
"""
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

SEEDS = (1, 2)
INTERACTIONS = 4000
DEADLINE_S = 40
# the default bucket bounds of cxm_export_options (cxm.h)
BOUNDS = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 14400, 86400]


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, timeout=2.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


def wait_http(url, procs, what, until):
    while time.monotonic() < until:
        for p in procs:
            if p.poll() is not None:
                raise RuntimeError("%s exited early with %d" % (what, p.returncode))
        try:
            if get(url)[0] == 200:
                return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.1)
    raise RuntimeError("%s did not answer %s in time" % (what, url))


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    exporter = sys.argv[1]
    prometheus = sys.argv[2] if len(sys.argv) > 2 else shutil.which("prometheus") or "/usr/bin/prometheus"
    if not os.access(prometheus, os.X_OK):
        print("no Prometheus server (apt-get install prometheus): skipped")
        return 77
    until = time.monotonic() + DEADLINE_S
    tmp = tempfile.mkdtemp(prefix="cxm-prom-")
    procs = []
    logs = []
    try:
        ports = []
        for seed in SEEDS:
            port = free_port()
            log = open(os.path.join(tmp, "exporter-%d.log" % seed), "w+")
            logs.append(log)
            procs.append(subprocess.Popen(
                [exporter, "--seed", str(seed), "--port", str(port),
                 "--interactions", str(INTERACTIONS)],
                stdout=log, stderr=subprocess.STDOUT))
            ports.append(port)
        for port in ports:
            wait_http("http://127.0.0.1:%d/metrics" % port, procs, "exporter", until)

        pport = free_port()
        cfg = os.path.join(tmp, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: cxm\n    static_configs:\n"
                    "      - targets: [%s]\n" % ", ".join("'127.0.0.1:%d'" % p for p in ports))
        plog = open(os.path.join(tmp, "prometheus.log"), "w+")
        logs.append(plog)
        prom = subprocess.Popen(
            [prometheus, "--config.file=" + cfg, "--storage.tsdb.path=" + os.path.join(tmp, "data"),
             "--web.listen-address=127.0.0.1:%d" % pport, "--log.level=warn"],
            stdout=plog, stderr=subprocess.STDOUT)
        procs.append(prom)
        api = "http://127.0.0.1:%d" % pport
        wait_http(api + "/-/ready", procs, "prometheus", until)

        def query(q):
            url = api + "/api/v1/query?" + urllib.parse.urlencode({"query": q})
            status, body = get(url)
            data = json.loads(body)
            if data.get("status") != "success":
                raise RuntimeError("query %s: %s" % (q, body))
            res = data["data"]["result"]
            return [float(r["value"][1]) for r in res]

        # both nodes scraped, with every interaction in
        want_total = len(SEEDS) * INTERACTIONS
        while True:
            up = query('sum(up{job="cxm"})')
            got = query('sum(cxm_interactions_accepted_total{job="cxm"})')
            if up == [len(SEEDS)] and got == [want_total]:
                break
            if time.monotonic() > until:
                raise RuntimeError("targets not scraped in time: up %s, accepted %s" % (up, got))
            time.sleep(0.2)
        health = json.loads(get(api + "/api/v1/targets")[1])
        for t in health["data"]["activeTargets"]:
            if t["health"] != "up" or t["lastError"]:
                raise RuntimeError("target %s: %s %s" % (t["scrapeUrl"], t["health"], t["lastError"]))

        # Prometheus asked for, and parsed, OpenMetrics
        for log in logs[:len(SEEDS)]:
            log.flush()
            log.seek(0)
            if "first scrape in OpenMetrics format" not in log.read():
                raise RuntimeError("%s: Prometheus did not scrape OpenMetrics" % log.name)

        out = subprocess.run([exporter, "--expect", ",".join(map(str, SEEDS)),
                              "--interactions", str(INTERACTIONS)],
                             check=True, capture_output=True, text=True, timeout=30).stdout
        want = {k: float(v) for k, v in (line.split() for line in out.splitlines())}

        # every interaction of a touchpoint is in its series without a segment
        all_ = 'segment=""'
        promql = {
            "nps": '100 * (sum(cxm_score_top_box_total{metric="nps",%s})'
                   ' - sum(cxm_score_bottom_box_total{metric="nps",%s}))'
                   ' / sum(cxm_score_responses_total{metric="nps",%s})' % (all_, all_, all_),
            "nps_responses": 'sum(cxm_score_responses_total{metric="nps",%s})' % all_,
            "csat_top2box": '100 * sum(cxm_score_answers_total{metric="csat",point=~"4|5",%s})'
                            ' / sum(cxm_score_responses_total{metric="csat",%s})' % (all_, all_),
            "csat_responses": 'sum(cxm_score_responses_total{metric="csat",%s})' % all_,
            "fcr_share": '100 * sum(cxm_rate_outcomes_total{metric="fcr",outcome="yes",%s})'
                         ' / sum(cxm_rate_outcomes_total{metric="fcr",%s})' % (all_, all_),
            "calls": 'sum(cxm_volume_total{metric="calls",%s})' % all_,
            "revenue_count": 'sum(cxm_amount_count{metric="revenue",%s})' % all_,
            "revenue_sum": 'sum(cxm_amount_sum{metric="revenue",%s})' % all_,
            "aht_count": 'sum(cxm_duration_seconds_count{metric="handle time",%s})' % all_,
            "aht_sum": 'sum(cxm_duration_seconds_sum{metric="handle time",%s})' % all_,
            "aht_p90": 'histogram_quantile(0.9, sum by (le) '
                       '(cxm_duration_seconds_bucket{metric="handle time",%s}))' % all_,
        }
        failures = []
        for name, q in promql.items():
            got = query(q)
            if len(got) != 1:
                failures.append("%s: %s gave %s" % (name, q, got))
                continue
            g, w = got[0], want[name]
            if name == "aht_p90":
                # PromQL interpolates inside the classic bucket that holds
                # the 90th percentile; libcxm's sketch answers within 1 %.
                # Both must name the same bucket.
                def bucket(v):
                    return next((i for i, b in enumerate(BOUNDS) if v <= b), len(BOUNDS))
                ok = bucket(g) == bucket(w * 0.99) or bucket(g) == bucket(w * 1.01)
            else:
                ok = math.isclose(g, w, rel_tol=1e-9, abs_tol=1e-9)
            print("%-15s promql %-22.12g libcxm %-22.12g %s" % (name, g, w, "ok" if ok else "MISMATCH"))
            if not ok:
                failures.append("%s: PromQL %r, one context %r" % (name, g, w))
        # the per-node series really are two: sums above span both nodes
        nodes = query('count(cxm_volume_total{metric="calls",%s})' % all_)
        if nodes != [len(SEEDS) * 5]:
            failures.append("expected %d call series (2 nodes x 5 touchpoints), got %s"
                            % (len(SEEDS) * 5, nodes))
        if failures:
            for f in failures:
                print("FAIL:", f, file=sys.stderr)
            return 1
        print("prometheus: %d nodes, %d interactions, PromQL agrees with one context"
              % (len(SEEDS), want_total))
        return 0
    except Exception as e:  # report with the servers' logs, then clean up
        print("FAIL: %s" % e, file=sys.stderr)
        for log in logs:
            log.flush()
            log.seek(0)
            tail = log.read()[-2000:]
            if tail:
                print("--- %s ---\n%s" % (log.name, tail), file=sys.stderr)
        return 1
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for log in logs:
            log.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    # meson's timeout (and a person's kill) sends SIGTERM: turn it into an
    # exit so that main()'s finally stops the exporters and Prometheus
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    sys.exit(main())
