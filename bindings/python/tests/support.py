"""Shared by the tests: a context with a clock the test moves, and a small
model (a journey of two steps, three touchpoints, the usual metrics)."""
import os
import sys

import cxm

T0 = 1_795_348_800_000  # 2026-11-22T12:00:00Z
MIN = 60_000
HOUR = 3_600_000


class Clock:
    """A clock the test sets; the context reads it as now."""

    def __init__(self, now=T0):
        self.now = now

    def __call__(self):
        return self.now


def make_ctx(now=T0, **config):
    # a fixed key: distinct counts (HyperLogLog of keyed hashes) repeat exactly
    config.setdefault("customer_key", bytes(range(16)))
    clock = Clock(now)
    ctx = cxm.Context(clock=clock, **config)
    ctx.test_clock = clock
    return ctx


class Model:
    """Definitions on ctx, as attributes."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.support = ctx.journey("support", ["contact", "resolution"])
        self.ivr = ctx.touchpoint("ivr", "phone", self.support, "contact")
        self.chat = ctx.touchpoint("chat bot", cxm.Channel.CHAT, self.support, 0)
        self.agent = ctx.touchpoint("agent call", "phone", "support", "resolution")
        self.web = ctx.touchpoint("web", "web")
        self.nps = ctx.metric("nps")
        self.csat = ctx.metric("csat", "csat5")
        self.ces = ctx.metric("ces")
        self.cxi = ctx.metric("cxi")
        self.aht = ctx.metric("aht", "duration")
        self.resolved = ctx.metric("resolved", "rate")
        self.revenue = ctx.metric("revenue", "amount")
        self.volume = ctx.metric("volume")
        self.distinct = ctx.metric("customers", "distinct")
        self.tier = ctx.segment("tier", 4)
        self.region = ctx.segment("region", 8)
        self.gold = ctx.segment_value(self.tier, "gold")
        self.silver = ctx.segment_value(self.tier, "silver")


def numpy_or_none():
    try:
        import numpy
    except ImportError:
        return None
    return numpy


def build_dir():
    """The build directory's bindings/python (the package lives in cxm/)."""
    d = os.environ.get("CXM_PY_BUILD_DIR")
    if d:
        return d
    return os.path.dirname(os.path.dirname(os.path.abspath(cxm.__file__)))


def python_env():
    """The environment for a subprocess that imports the same cxm."""
    env = dict(os.environ)
    env["PYTHONPATH"] = build_dir()
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


PY = sys.executable
