#!/usr/bin/python3
"""The meson test 'cxm-exporter' (suite 'prometheus').

usage: test_exporter.py EXPORTER TEST_HOST MAN_PAGE

MAN_PAGE is docs/man/cxm-exporter.1.in: it must name exactly the options
that `cxm-exporter --help` lists.

In a temporary directory, TEST_HOST saves two hosts' snapshots (the second
with one touchpoint more, so that it must become the base of the merge);
cxm-exporter serves them on a free loopback port. The test checks that
- /healthz answers "ok";
- /metrics sums both files (accepted interactions, NPS responses and
  promoters, the extra touchpoint's volume), with the constant label on
  every sample, as 0.0.4 text that `promtool check metrics` accepts without
  a remark, and as OpenMetrics when asked the way Prometheus asks;
- a corrupt file and a file of another customer key are left out, counted
  per scrape in cxm_exporter_snapshot_errors_total{file,reason} and logged
  once, and a repaired file is merged again (and logged once);
- unknown paths and methods get 404 and 405;
- --max-memory bounds a scrape: too little leaves every file out, counted;
- bad command lines and a busy port fail with a message and a non-zero
  status, and SIGTERM and SIGINT stop it with status 0.
Every process it starts is stopped before it returns, pass or fail.
"""
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

PROM_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
               "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")

failures = []
procs = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL: " + what, file=sys.stderr)
    return cond


def host(helper, path, key, seed, count, *flags):
    out = subprocess.run([helper, path, key, str(seed), str(count)] + list(flags),
                         stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout
    return {k: int(v) for k, v in (line.split() for line in out.splitlines())}


def start(exporter, *args):
    """Start the exporter on a free port (--port 0) and return (proc, base URL)."""
    p = subprocess.Popen([exporter] + list(args) + ["--port", "0"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, universal_newlines=True)
    procs.append(p)
    ready, _, _ = select.select([p.stdout], [], [], 10)
    line = p.stdout.readline() if ready else ""
    m = re.search(r"on (http://\S+)/metrics$", line.strip())
    if not m:
        p.kill()
        _, err = p.communicate()
        raise SystemExit("the exporter did not start: %r %s" % (line, err))
    return p, m.group(1)


def stop(p, sig):
    p.send_signal(sig)
    try:
        _, err = p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        check(False, "the exporter did not stop within 10 s of signal %d" % sig)
        return None, ""
    return p.returncode, err


def get(url, accept=None, method="GET"):
    req = urllib.request.Request(url, method=method)
    if accept:
        req.add_header("Accept", accept)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode("utf-8")


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def samples(text):
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not check(m, "not a sample line: %r" % line):
            continue
        out.append((m.group(1), dict(LABEL.findall(m.group(2) or "")), float(m.group(3))))
    return out


def total(ss, name, **labels):
    return sum(v for n, ls, v in ss
               if n == name and all(ls.get(k, "") == w for k, w in labels.items()))


def promtool_check(promtool, text, what):
    r = subprocess.run([promtool, "check", "metrics"], input=text, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, universal_newlines=True)
    check(r.returncode == 0 and not r.stdout.strip(),
          "promtool check metrics (%s): status %d: %s" % (what, r.returncode, r.stdout.strip()))


def bad_command_lines(exporter, d, keyfile, key):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = str(busy.getsockname()[1])
    cases = [
        ([], 2, "--dir is required"),
        (["--dir", d, "--port", "9464"], 2, "--key or --key-file is required"),
        (["--dir", d, "--port", "70000", "--key", key], 2, "not a port number"),
        (["--dir", d, "--port", "0", "--key", "abc"], 2, "32 hex digits"),
        (["--dir", d, "--port", "0", "--key", "0" * 32], 2, "all zero"),
        (["--dir", d, "--port", "0", "--key", key, "--label", "bad-name=x"], 2, "--label"),
        (["--dir", d, "--port", "0", "--key", key, "--label", "file=x"], 2, "exporter's own"),
        (["--dir", d, "--port", "0", "--key", key, "--max-memory", "12X"], 2, "not a size"),
        (["--dir", d, "--port", "0", "--key", key, "--bind", "localhost"], 2, "not an IPv4"),
        (["--dir", d, "--port", "0", "--key", key, "--frobnicate"], 2, "unknown option"),
        (["--dir", os.path.join(d, "missing"), "--port", "0", "--key", key], 1,
         "No such file or directory"),
        (["--dir", keyfile, "--port", "0", "--key", key], 1, "not a directory"),
        (["--dir", d, "--port", "0", "--key-file", os.path.join(d, "nokey")], 1,
         "cannot read the key file"),
        (["--dir", d, "--port", "0", "--key-file", os.path.join(d, "a.cxms")], 1,
         "32 hex digits"),
        (["--dir", d, "--port", port, "--key", key], 1, "cannot listen"),
    ]
    try:
        for args, status, msg in cases:
            r = subprocess.run([exporter] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               universal_newlines=True, timeout=10)
            check(r.returncode == status and msg in r.stderr,
                  "%s: status %d (want %d), stderr %r (want %r)"
                  % (" ".join(args), r.returncode, status, r.stderr.strip(), msg))
    finally:
        busy.close()
    r = subprocess.run([exporter, "--help"], stdout=subprocess.PIPE, universal_newlines=True)
    check(r.returncode == 0 and "--max-memory" in r.stdout, "--help")
    return set(re.findall(r"--[a-z][a-z-]*", r.stdout))


def man_options(page):
    with open(page, encoding="utf-8") as f:
        text = f.read()
    return {"--" + o.replace("\\-", "-")
            for o in re.findall(r"\\-\\-([a-z](?:[a-z]|\\-)*)", text)}


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    exporter, helper, man_page = sys.argv[1:4]
    promtool = shutil.which("promtool") or "/usr/bin/promtool"
    if not os.access(promtool, os.X_OK):
        sys.exit("promtool not found: apt-get install prometheus")
    tmp = tempfile.mkdtemp(prefix="cxm-exporter-test.")
    try:
        run(exporter, helper, promtool, man_page, tmp)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        sys.exit("%d check(s) failed" % len(failures))
    print("cxm-exporter: every check passed")


def run(exporter, helper, promtool, man_page, tmp):
    d = os.path.join(tmp, "snapshots")
    os.mkdir(d)
    key = os.urandom(16).hex()
    keyfile = os.path.join(tmp, "customer.key")
    fd = os.open(keyfile, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, (key + "\n").encode())
    os.close(fd)
    # b has a touchpoint that a lacks and sorts after it: the merge must rebase.
    a = host(helper, os.path.join(d, "a.cxms"), key, 1, 400)
    b = host(helper, os.path.join(d, "b.cxms"), key, 2, 300, "--extra")
    check(b["callback"] > 0, "the test host fed the extra touchpoint")
    # Not snapshots of the directory: ignored.
    with open(os.path.join(d, "notes.txt"), "w") as f:
        f.write("not a snapshot\n")
    shutil.copy(os.path.join(d, "a.cxms"), os.path.join(d, "a.cxms.tmp-1-1"))
    shutil.copy(os.path.join(d, "a.cxms"), os.path.join(d, ".hidden.cxms"))

    in_help = bad_command_lines(exporter, d, keyfile, key)
    in_page = man_options(man_page)
    check(in_help and in_help == in_page,
          "cxm-exporter(1) and --help disagree: only in --help %s, only in the page %s"
          % (sorted(in_help - in_page), sorted(in_page - in_help)))

    p, url = start(exporter, "--dir", d, "--key-file", keyfile, "--label", "node=test \"1\"")
    status, _, body = get(url + "/healthz")
    check(status == 200 and body == "ok\n", "/healthz: %d %r" % (status, body))
    check(get(url + "/nowhere")[0] == 404, "404 for an unknown path")
    check(get(url + "/metrics", method="POST")[0] == 405, "405 for POST")
    check(get(url + "/metrics", method="HEAD")[0] == 200, "200 for HEAD")

    def scrape(accept="text/plain"):
        status, ctype, text = get(url + "/metrics", accept)
        check(status == 200, "/metrics: status %d: %s" % (status, text[:300]))
        return ctype, text

    want = {k: a[k] + b[k] for k in a}
    ctype, text = scrape()
    check(ctype.startswith("text/plain; version=0.0.4"), "0.0.4 content type: %r" % ctype)
    promtool_check(promtool, text, "two files")
    ss = samples(text)
    check(all(ls.get("node") == 'test \\"1\\"' for _, ls, _ in ss),
          "the constant label, escaped, on every sample")
    got = total(ss, "cxm_interactions_accepted_total")
    check(got == want["accepted"],
          "cxm_interactions_accepted_total %s, want %d + %d" % (got, a["accepted"], b["accepted"]))
    for family, k in (("cxm_score_responses_total", "nps_responses"),
                      ("cxm_score_top_box_total", "nps_top"),
                      ("cxm_score_bottom_box_total", "nps_bottom")):
        got = total(ss, family, metric="nps", segment="")
        check(got == want[k], "%s{metric=nps} %s, want %d" % (family, got, want[k]))
    got = total(ss, "cxm_duration_seconds_count", metric="handle time", touchpoint="callback",
                segment="")
    check(got == b["callback"], "the extra touchpoint counted: %s, want %d" % (got, b["callback"]))
    check(total(ss, "cxm_exporter_snapshots", state="merged") == 2
          and total(ss, "cxm_exporter_snapshots", state="skipped") == 0,
          "cxm_exporter_snapshots: 2 merged, 0 skipped")
    check("cxm_exporter_snapshot_errors_total" not in text, "no errors family without errors")

    ctype, om = scrape(PROM_ACCEPT)
    check(ctype.startswith("application/openmetrics-text; version=1.0.0"),
          "OpenMetrics content type: %r" % ctype)
    check(om.endswith("\n# EOF\n") and om.count("# EOF") == 1, "OpenMetrics ends with one # EOF")
    check("# TYPE cxm_exporter_snapshots gauge" in om, "OpenMetrics TYPE of the own family")
    check(total(samples(om[:-len("# EOF\n")]), "cxm_interactions_accepted_total")
          == want["accepted"], "OpenMetrics: the same sum")

    # A corrupt file (a truncated snapshot) and one of another customer key.
    with open(os.path.join(d, "a.cxms"), "rb") as f:
        raw = f.read()
    with open(os.path.join(d, "c.cxms"), "wb") as f:
        f.write(raw[:len(raw) // 2])
    host(helper, os.path.join(d, "d.cxms"), os.urandom(16).hex(), 4, 50)
    for _ in range(3):
        _, text = scrape()
    promtool_check(promtool, text, "with errors")
    ss = samples(text)
    check(total(ss, "cxm_interactions_accepted_total") == want["accepted"],
          "bad files add nothing")
    errs = {(ls["file"], ls["reason"]): v for n, ls, v in ss
            if n == "cxm_exporter_snapshot_errors_total"}
    check(errs == {("c.cxms", "corrupt"): 3, ("d.cxms", "exists"): 3},
          "errors counted per scrape by file and reason: %r" % errs)
    check(total(ss, "cxm_exporter_snapshots", state="skipped") == 2, "2 skipped")
    check(total(ss, "cxm_exporter_context_bytes") > 0, "cxm_exporter_context_bytes")
    _, om = scrape(PROM_ACCEPT)
    check("\n# TYPE cxm_exporter_snapshot_errors counter\n" in om
          and 'file="c.cxms",reason="corrupt"} 4\n' in om,
          "OpenMetrics: the errors family, counted at every scrape")

    # Repaired: merged again.
    c = host(helper, os.path.join(d, "c.cxms"), key, 3, 100)
    _, text = scrape()
    ss = samples(text)
    check(total(ss, "cxm_interactions_accepted_total") == want["accepted"] + c["accepted"],
          "the repaired file is merged")
    check(total(ss, "cxm_exporter_snapshot_errors_total", file="c.cxms") == 4,
          "its counter stays")

    code, err = stop(p, signal.SIGTERM)
    check(code == 0, "SIGTERM: exit status %s" % code)
    check(err.count("c.cxms: left out") == 1 and err.count("d.cxms: left out") == 1,
          "each bad file logged once: %r" % err)
    check(err.count("c.cxms: merged again") == 1, "the repair logged once: %r" % err)
    check("SIGTERM: stopping" in err, "SIGTERM logged")
    check("a.cxms" not in err and "b.cxms" not in err, "good files not logged: %r" % err)

    # Too little memory for any file: all left out, counted, still serving.
    p, url = start(exporter, "--dir", d, "--key", key, "--max-memory", "64K")
    _, text = scrape()
    ss = samples(text)
    check(total(ss, "cxm_exporter_snapshots", state="merged") == 0
          and total(ss, "cxm_exporter_snapshots", state="skipped") == 4,
          "--max-memory 64K: nothing merged: %r" % [s for s in ss if s[0].startswith("cxm_exp")])
    check(total(ss, "cxm_exporter_context_bytes") == 0, "no context, 0 bytes")
    reasons = {ls["reason"] for n, ls, v in ss if n == "cxm_exporter_snapshot_errors_total"
               and ls["file"] in ("a.cxms", "b.cxms")}
    check(reasons and reasons <= {"limit", "no_memory"}, "memory reasons: %r" % reasons)
    promtool_check(promtool, text, "nothing merged")
    code, err = stop(p, signal.SIGINT)
    check(code == 0, "SIGINT: exit status %s" % code)


if __name__ == "__main__":
    main()
