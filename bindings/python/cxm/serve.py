"""Serve a context's exposition to Prometheus: ``GET /metrics``.

``cxm.serve(ctx)`` starts an HTTP server of the standard library
(``http.server.ThreadingHTTPServer``) in a daemon thread and returns a
``Server``; each scrape is one ``ctx.export()``, in the format the scraper
asks for, as the C exporters answer it (docs/prometheus.md)::

    with cxm.Context() as ctx, cxm.serve(ctx, 9464, labels={"node": "a"}):
        ...   # feed as usual; Prometheus scrapes http://127.0.0.1:9464/metrics

A context may be read from any thread while others feed it
(docs/threading.md), and ``export`` releases the GIL, so a scrape runs
beside the program's own calls. The server adds no computation: the text
is libcxm's (``cxm_export_write``).
"""

import functools
import sys
import threading
from typing import TYPE_CHECKING, Mapping, Optional

from . import _cxm

if TYPE_CHECKING:  # pragma: no cover
    from . import Context

__all__ = ["serve", "Server"]

_HEALTHY = "ok\n"
_TEXT = "text/plain; charset=utf-8"
_NOT_FOUND = "cxm.serve: not found; GET /metrics or /healthz\n"


def _wants_openmetrics(accept: Optional[str]) -> bool:
    # What Prometheus asks for by default; anything else gets the 0.0.4 text
    # (the rule of cxm-exporter, with media types compared without case).
    return accept is not None and "application/openmetrics-text" in accept.lower()


@functools.lru_cache(maxsize=None)
def _http_classes():
    """The handler and server classes, made on first use: http.server and
    the email package it imports take about 20 ms, which ``import cxm``
    should not pay for a server it may never start."""
    import http.server
    import socket
    import socketserver

    class _Handler(http.server.BaseHTTPRequestHandler):
        # one request per connection, so that nothing is served after
        # close() on a connection kept alive from before
        protocol_version = "HTTP/1.0"
        server_version = "cxm.serve"
        sys_version = ""
        timeout = 30  # a client that stops sending does not keep its thread

        def do_GET(self):
            self._answer(True)

        def do_HEAD(self):
            self._answer(False)

        def _not_allowed(self):
            if self._path() not in ("/metrics", "/healthz"):
                return self._reply(404, _TEXT, _NOT_FOUND, True)
            self._reply(405, _TEXT, "cxm.serve: only GET and HEAD\n", True, {"Allow": "GET, HEAD"})

        do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_allowed

        def _path(self) -> str:
            return self.path.split("?", 1)[0]

        def _answer(self, body: bool) -> None:
            srv = self.server
            path = self._path()
            if path == "/healthz":
                if srv.cxm_ctx.closed:
                    return self._reply(503, _TEXT, "cxm.serve: the context is closed\n", body)
                return self._reply(200, _TEXT, _HEALTHY, body)
            if path != "/metrics":
                return self._reply(404, _TEXT, _NOT_FOUND, body)
            om = srv.cxm_openmetrics
            if om is None:
                om = _wants_openmetrics(self.headers.get("Accept"))
            try:
                text = srv.cxm_ctx.export("openmetrics" if om else "prometheus",
                                          labels=srv.cxm_labels)
            except (_cxm.Error, ValueError, MemoryError) as e:
                # a closed context is a ValueError, as a closed file's is
                return self._reply(500, _TEXT, f"cxm.serve: {e}\n", body)
            self._reply(200, _cxm.OPENMETRICS_CONTENT_TYPE if om else _cxm.PROMETHEUS_CONTENT_TYPE,
                        text, body)

        def _reply(self, status, ctype, text, body, headers=None):
            data = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if body:
                self.wfile.write(data)

        def log_message(self, format, *args):  # noqa: A002  (the base class's name)
            pass  # a library does not print; Prometheus records failed scrapes itself

    class _HTTPServer(http.server.ThreadingHTTPServer):
        daemon_threads = True  # a stuck scrape never holds the program at exit
        allow_reuse_address = True

        def server_bind(self):
            # HTTPServer.server_bind asks the resolver for the host's name
            # (socket.getfqdn), which may wait on DNS; the name is not needed.
            socketserver.TCPServer.server_bind(self)
            self.server_name, self.server_port = self.server_address[:2]

        def handle_error(self, request, client_address):
            # a scraper that hangs up mid-answer is not worth a traceback
            if isinstance(sys.exc_info()[1], OSError):
                return
            super().handle_error(request, client_address)

    class _HTTPServer6(_HTTPServer):
        address_family = socket.AF_INET6

    return _Handler, _HTTPServer, _HTTPServer6


class Server:
    """A running ``serve()``: ``port`` (the one bound, also when 0 was
    asked), ``host``, ``url``; ``close()`` or the end of a ``with`` block
    stops it and frees the port. It serves until then, or until the
    program ends (the thread is a daemon)."""

    def __init__(self, ctx: "Context", port: int = 9464, *, host: str = "127.0.0.1",
                 labels: Optional[Mapping[str, str]] = None,
                 openmetrics: Optional[bool] = None) -> None:
        if not isinstance(ctx, _cxm.Context):
            raise TypeError(f"ctx must be a cxm.Context, not {type(ctx).__name__}")
        if isinstance(port, bool) or not isinstance(port, int):
            raise TypeError(f"port must be an int, not {type(port).__name__}")
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be in 0 .. 65535, got {port}")
        if not isinstance(host, str):
            raise TypeError(f"host must be a str, not {type(host).__name__}")
        if openmetrics is not None and not isinstance(openmetrics, bool):
            raise TypeError("openmetrics must be None (as the scraper asks), True or False")
        labels = dict(labels) if labels is not None else {}
        # one export now, so that bad labels (or a closed context) raise here
        # rather than fail every scrape
        ctx.export("prometheus", labels=labels, segments=False, points=False)
        handler, server4, server6 = _http_classes()
        httpd = (server6 if ":" in host else server4)((host, port), handler)
        httpd.cxm_ctx = ctx
        httpd.cxm_labels = labels
        httpd.cxm_openmetrics = openmetrics
        self.host = host
        self.port: int = httpd.server_address[1]
        self._httpd = httpd
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"cxm.serve {host}:{self.port}", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The address of the metrics: ``http://HOST:PORT/metrics``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    @property
    def closed(self) -> bool:
        return self._httpd is None

    def close(self) -> None:
        """Stop serving and close the listening socket; a second call does
        nothing. A scrape already being answered finishes in its thread."""
        with self._lock:
            httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        self._thread.join()

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else self.url
        return f"<cxm.Server {state}>"


def serve(ctx: "Context", port: int = 9464, *, host: str = "127.0.0.1",
          labels: Optional[Mapping[str, str]] = None,
          openmetrics: Optional[bool] = None) -> Server:
    """Serve ``ctx.export()`` on ``http://host:port/metrics`` from a daemon
    thread, and ``/healthz`` (``ok``). ``port=0`` takes a free port
    (``Server.port``); ``host`` defaults to loopback (``"0.0.0.0"`` or
    ``"::"`` for every interface). ``labels``: constant labels on every
    sample, as ``export`` takes them. ``openmetrics``: None answers
    OpenMetrics when the scraper's Accept header names
    ``application/openmetrics-text`` (Prometheus does) and the 0.0.4 text
    otherwise; True or False always gives one of them. Other paths are 404,
    other methods 405. Returns the running ``Server``; close it (or use it
    as a context manager) to stop."""
    return Server(ctx, port, host=host, labels=labels, openmetrics=openmetrics)
