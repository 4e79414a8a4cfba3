"""cxm.serve(): GET /metrics over HTTP from a daemon thread, the content
negotiation of the C exporters, /healthz, 404 and 405, scrapes while
another thread feeds, and close() freeing the port and its thread. Every
server listens on a free loopback port (port 0) and is closed by the test."""
import errno
import re
import socket
import subprocess
import textwrap
import threading
import time
import unittest
import urllib.error
import urllib.request

import cxm
from cxm.serve import Server, serve
from support import PY, T0, Model, make_ctx, python_env

# what Prometheus 2.x sends by default
PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                     "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
# no http_proxy from the environment: the server is on loopback
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fetch(url, accept=None, method="GET"):
    """(status, headers, body) of one request; HTTP errors are answers too."""
    req = urllib.request.Request(url, method=method)
    if accept is not None:
        req.add_header("Accept", accept)
    try:
        with OPENER.open(req, timeout=10) as r:
            return r.status, r.headers, r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        with e:
            return e.code, e.headers, e.read().decode("utf-8")


def value(text, sample):
    """The value of the sample written exactly as `sample` (name{labels})."""
    m = re.search("^" + re.escape(sample) + r" (\S+)$", text, re.M)
    if m is None:
        raise AssertionError(f"no sample {sample} in\n{text[:2000]}")
    return float(m.group(1))


def serve_threads():
    return [t for t in threading.enumerate() if t.name.startswith("cxm.serve ")]


def port_is_free(port):
    """Nothing accepts on the port, and a new server may bind it (with
    SO_REUSEADDR, as servers do: answered scrapes leave TIME_WAIT behind)."""
    c = socket.socket()
    c.settimeout(5)
    try:
        refused = c.connect_ex(("127.0.0.1", port)) == errno.ECONNREFUSED
    finally:
        c.close()
    s = socket.socket()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(1)
    except OSError:
        return False
    finally:
        s.close()
    return refused


NPS = 'metric="nps",touchpoint="agent call",channel="phone",journey="support",step="resolution"'


class Serving(unittest.TestCase):
    def setUp(self):
        self.ctx = make_ctx()
        self.m = Model(self.ctx)
        self.server = serve(self.ctx, 0, labels={"node": "a"})
        self.addCleanup(self.ctx.close)
        self.addCleanup(self.server.close)  # runs first

    def feed(self, *scores):
        for s in scores:
            self.ctx.feed(T0 - 1000, self.m.agent, {self.m.nps: s}, customer="c-1")

    def test_exported_from_the_package(self):
        self.assertIs(cxm.serve, serve)
        self.assertIs(cxm.Server, Server)
        self.assertIn("serve", cxm.__all__)

    def test_a_free_port_and_its_url(self):
        port = self.server.port
        self.assertIsInstance(port, int)
        self.assertGreater(port, 0)
        self.assertEqual(self.server.url, f"http://127.0.0.1:{port}/metrics")
        self.assertFalse(self.server.closed)
        self.assertIn(self.server.url, repr(self.server))

    def test_openmetrics_when_the_scraper_asks(self):
        self.feed(9, 10, 3)
        for accept in (PROMETHEUS_ACCEPT, "application/openmetrics-text; version=1.0.0",
                       "Application/OpenMetrics-Text"):
            status, headers, body = fetch(self.server.url, accept)
            self.assertEqual(status, 200)
            self.assertEqual(headers["Content-Type"], cxm.OPENMETRICS_CONTENT_TYPE)
            self.assertEqual(headers["Content-Type"],
                             "application/openmetrics-text; version=1.0.0; charset=utf-8")
            self.assertTrue(body.endswith("# EOF\n"))
            self.assertEqual(body, self.ctx.export("openmetrics", labels={"node": "a"}))
            self.assertEqual(int(headers["Content-Length"]), len(body.encode("utf-8")))
        self.assertEqual(value(body, f'cxm_score_responses_total{{node="a",{NPS}}}'), 3)
        self.assertEqual(value(body, f'cxm_score_top_box_total{{node="a",{NPS}}}'), 2)
        self.assertEqual(value(body, f'cxm_score_bottom_box_total{{node="a",{NPS}}}'), 1)
        self.assertEqual(value(body, 'cxm_interactions_accepted_total{node="a"}'), 3)

    def test_text_format_otherwise(self):
        self.feed(9)
        for accept in (None, "text/plain", "*/*", "text/plain;version=0.0.4"):
            status, headers, body = fetch(self.server.url, accept)
            self.assertEqual(status, 200)
            self.assertEqual(headers["Content-Type"], cxm.PROMETHEUS_CONTENT_TYPE)
            self.assertEqual(headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8")
            self.assertNotIn("# EOF", body)
            self.assertEqual(body, self.ctx.export("prometheus", labels={"node": "a"}))
        self.assertEqual(value(body, 'cxm_interactions_accepted_total{node="a"}'), 1)

    def test_each_scrape_reads_the_context_now(self):
        self.feed(9)
        body = fetch(self.server.url)[2]
        self.assertEqual(value(body, f'cxm_score_responses_total{{node="a",{NPS}}}'), 1)
        self.feed(0, 0)
        body = fetch(self.server.url + "?x=1")[2]  # a query string is ignored
        self.assertEqual(value(body, f'cxm_score_responses_total{{node="a",{NPS}}}'), 3)
        self.assertEqual(value(body, f'cxm_score_bottom_box_total{{node="a",{NPS}}}'), 2)

    def test_head_gives_the_headers_only(self):
        self.feed(9)
        status, headers, body = fetch(self.server.url, PROMETHEUS_ACCEPT, method="HEAD")
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], cxm.OPENMETRICS_CONTENT_TYPE)
        self.assertGreater(int(headers["Content-Length"]), 100)
        # urllib drops a body after HEAD: read the raw answer to see there is none
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as c:
            c.sendall(b"HEAD /metrics HTTP/1.0\r\n\r\n")
            raw = b""
            while True:
                chunk = c.recv(65536)
                if not chunk:
                    break
                raw += chunk
        head, sep, rest = raw.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.0 200 "), raw[:200])
        self.assertEqual((sep, rest), (b"\r\n\r\n", b""))

    def test_other_paths_and_methods(self):
        base = f"http://127.0.0.1:{self.server.port}"
        for path in ("/", "/metrics/", "/metricsx", "/favicon.ico"):
            status, headers, body = fetch(base + path)
            self.assertEqual(status, 404, path)
            self.assertIn("not found", body)
        status, headers, body = fetch(self.server.url, method="POST")
        self.assertEqual(status, 405)
        self.assertEqual(headers["Allow"], "GET, HEAD")
        self.assertEqual(fetch(base + "/other", method="POST")[0], 404)

    def test_healthz(self):
        status, headers, body = fetch(f"http://127.0.0.1:{self.server.port}/healthz")
        self.assertEqual((status, body), (200, "ok\n"))
        self.assertEqual(headers["Content-Type"], "text/plain; charset=utf-8")

    def test_a_closed_context_fails_the_scrape_not_the_server(self):
        self.ctx.close()
        status, _, body = fetch(self.server.url)
        self.assertEqual(status, 500)
        self.assertIn("closed", body)
        status, _, body = fetch(f"http://127.0.0.1:{self.server.port}/healthz")
        self.assertEqual(status, 503)
        self.assertIn("closed", body)

    def test_scrapes_while_another_thread_feeds(self):
        stop = threading.Event()
        started = threading.Event()
        fed = []

        def feeder():
            i = 0
            while not stop.is_set():
                self.ctx.feed(T0 - 1000, self.m.agent, {self.m.nps: i % 11}, customer=f"c{i}")
                i += 1
                started.set()
            fed.append(i)

        t = threading.Thread(target=feeder)
        t.start()
        seen = []
        try:
            self.assertTrue(started.wait(30))
            # at least 20 scrapes, and on until two saw different counts: on a
            # loaded machine the feeding thread may wait long for the GIL
            deadline = time.monotonic() + 30
            while len(seen) < 20 or (len(set(seen)) < 2 and time.monotonic() < deadline):
                status, _, body = fetch(self.server.url, PROMETHEUS_ACCEPT)
                self.assertEqual(status, 200)
                self.assertTrue(body.endswith("# EOF\n"))
                seen.append(value(body, 'cxm_interactions_accepted_total{node="a"}'))
        finally:
            stop.set()
            t.join()
        self.assertEqual(seen, sorted(seen))  # counters never go back
        self.assertGreater(len(set(seen)), 1, "the scrapes did not overlap the feeding")
        body = fetch(self.server.url)[2]
        self.assertEqual(value(body, f'cxm_score_responses_total{{node="a",{NPS}}}'), fed[0])
        self.assertEqual(value(body, 'cxm_interactions_accepted_total{node="a"}'), fed[0])


class Lifetime(unittest.TestCase):
    def setUp(self):
        self.ctx = make_ctx()
        Model(self.ctx)
        self.addCleanup(self.ctx.close)

    def test_close_frees_the_port_and_the_thread(self):
        before = len(serve_threads())
        server = serve(self.ctx, 0)
        port = server.port
        self.assertEqual(len(serve_threads()), before + 1)
        self.assertEqual(fetch(server.url)[0], 200)
        self.assertFalse(port_is_free(port))
        server.close()
        self.assertTrue(server.closed)
        self.assertIn("closed", repr(server))
        self.assertEqual(len(serve_threads()), before)
        self.assertTrue(port_is_free(port))
        server.close()  # a second close does nothing
        with self.assertRaises(urllib.error.URLError):
            OPENER.open(server.url, timeout=5)

    def test_context_manager(self):
        with serve(self.ctx, 0) as server:
            port = server.port
            self.assertEqual(fetch(server.url)[0], 200)
        self.assertTrue(server.closed)
        self.assertTrue(port_is_free(port))

    def test_the_same_port_again_after_close(self):
        with serve(self.ctx, 0) as server:
            port = server.port
            fetch(server.url)
        with serve(self.ctx, port) as again:
            self.assertEqual(again.port, port)
            self.assertEqual(fetch(again.url)[0], 200)

    def test_a_port_in_use(self):
        with serve(self.ctx, 0) as server:
            with self.assertRaises(OSError) as cm:
                serve(self.ctx, server.port)
            self.assertEqual(cm.exception.errno, errno.EADDRINUSE)

    def test_forced_formats(self):
        with serve(self.ctx, 0, openmetrics=True) as server:
            self.assertEqual(fetch(server.url)[1]["Content-Type"], cxm.OPENMETRICS_CONTENT_TYPE)
        with serve(self.ctx, 0, openmetrics=False) as server:
            headers = fetch(server.url, PROMETHEUS_ACCEPT)[1]
            self.assertEqual(headers["Content-Type"], cxm.PROMETHEUS_CONTENT_TYPE)

    def test_ipv6_loopback(self):
        if not socket.has_ipv6:
            self.skipTest("no IPv6")
        try:
            server = serve(self.ctx, 0, host="::1")
        except OSError as e:
            self.skipTest(f"no IPv6 loopback: {e}")
        with server:
            self.assertEqual(server.url, f"http://[::1]:{server.port}/metrics")
            self.assertEqual(fetch(server.url)[0], 200)

    def test_bad_arguments(self):
        before = len(serve_threads())
        with self.assertRaises(TypeError):
            serve(object(), 0)
        with self.assertRaises(TypeError):
            serve(self.ctx, "9464")
        with self.assertRaises(TypeError):
            serve(self.ctx, True)
        with self.assertRaises(ValueError):
            serve(self.ctx, -1)
        with self.assertRaises(ValueError):
            serve(self.ctx, 65536)
        with self.assertRaises(TypeError):
            serve(self.ctx, 0, host=None)
        with self.assertRaises(TypeError):
            serve(self.ctx, 0, openmetrics="yes")
        # labels are checked at once (by libcxm), not at the first scrape
        with self.assertRaises(cxm.InvalidArgumentError):
            serve(self.ctx, 0, labels={"metric": "x"})  # a label the exposition sets
        with self.assertRaises(cxm.EncodingError):
            serve(self.ctx, 0, labels={"node": ""})
        closed = make_ctx()
        closed.close()
        with self.assertRaises(ValueError):
            serve(closed, 0)
        self.assertEqual(len(serve_threads()), before)

    def test_silent_and_exits_cleanly(self):
        # a library does not print: not a request line, not a hung-up client
        code = textwrap.dedent("""
            import socket, urllib.error, urllib.request
            import cxm
            ctx = cxm.Context()
            ctx.metric("nps")
            server = cxm.serve(ctx, 0)
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            print(len(opener.open(server.url, timeout=10).read()) > 0)
            try:
                opener.open(server.url + "x", timeout=10)
            except urllib.error.HTTPError as e:
                print(e.code)
            with socket.create_connection(("127.0.0.1", server.port)) as c:
                c.sendall(b"GET /metrics HTTP/1.0\\r\\n\\r\\n")  # and hang up unread
            server.close()
            ctx.close()
            print("done")
        """)
        p = subprocess.run([PY, "-c", code], env=python_env(), capture_output=True, text=True,
                           timeout=60)
        self.assertEqual((p.returncode, p.stderr), (0, ""))
        self.assertEqual(p.stdout, "True\n404\ndone\n")

    def test_labels_are_copied(self):
        labels = {"node": "a"}
        with serve(self.ctx, 0, labels=labels) as server:
            labels["node"] = "b"
            body = fetch(server.url)[2]
        self.assertIn('cxm_interactions_accepted_total{node="a"} 0', body)


if __name__ == "__main__":
    unittest.main()
