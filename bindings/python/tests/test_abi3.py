"""The one built module, cxm/_cxm.abi3.so, imports and passes the stdlib
test files in every CPython 3.8-3.13 found on the machine (pyenv's, or
python3.X on PATH). Missing versions are reported, not failed."""
import glob
import os
import re
import shutil
import subprocess
import sys
import unittest

import cxm
from support import python_env

MINORS = range(8, 14)
SUITES = ["test_context", "test_model", "test_feed", "test_query", "test_errors", "test_bulk",
          "test_threads", "test_triggers", "test_governor", "test_serve", "test_alerts",
          "test_signals", "test_group", "test_watermark", "test_replay_exports", "test_drivers",
          "test_cohorts"]
SMOKE = r"""
import sys, cxm
from datetime import datetime, timezone
with cxm.Context() as c:
    tp = c.touchpoint("t", "phone"); n = c.metric("nps")
    now = datetime.now(timezone.utc)
    c.feed(now, tp, {n: 9}, customer="x")
    assert c.feed_many([(now, tp, {n: 10})]).accepted == 1
    assert c.query(n, "1h").n == 2
print(sys.version.split()[0], cxm._cxm.__file__, cxm._cxm.HAS_FASTCALL, cxm._cxm.HAS_BUFFER)
"""


def interpreters():
    """{minor: path} of the CPython 3.8-3.13 interpreters found."""
    roots = [os.environ.get("PYENV_ROOT"), os.path.expanduser("~/.pyenv")]
    found = {}
    for root in filter(None, roots):
        for exe in sorted(glob.glob(os.path.join(root, "versions", "3.*", "bin", "python3"))):
            m = re.search(r"versions/3\.(\d+)\.\d+/", exe)
            if m and int(m.group(1)) in MINORS:
                found.setdefault(int(m.group(1)), exe)
    for minor in MINORS:
        if minor not in found:
            exe = shutil.which(f"python3.{minor}")
            if exe:
                found[minor] = exe
    return found


class Abi3(unittest.TestCase):
    def test_the_file_is_abi3(self):
        self.assertTrue(cxm._cxm.__file__.endswith("_cxm.abi3.so"))
        self.assertEqual(cxm._cxm.LIMITED_API, 0x03080000)

    def test_every_interpreter(self):
        found = interpreters()
        if not found:
            self.skipTest("no CPython 3.8-3.13 besides this one (pyenv install 3.8 ... 3.13)")
        here = os.path.dirname(os.path.abspath(__file__))
        report, failures = [], []
        for minor in MINORS:
            exe = found.get(minor)
            if exe is None:
                report.append(f"3.{minor}: not installed, skipped")
                continue
            smoke = subprocess.run([exe, "-c", SMOKE], env=python_env(), capture_output=True,
                                   text=True, timeout=120)
            if smoke.returncode:
                failures.append(f"3.{minor} ({exe}): import/smoke failed:\n{smoke.stderr[-2000:]}")
                report.append(f"3.{minor}: FAILED to import")
                continue
            version, path, fast, buf = smoke.stdout.split()
            tests = subprocess.run([exe, "-m", "unittest"] + SUITES, env=python_env(), cwd=here,
                                   capture_output=True, text=True, timeout=600)
            summary = tests.stderr.strip().splitlines()
            ran = next((ln for ln in summary if ln.startswith("Ran ")), "?")
            status = summary[-1] if summary else "?"
            if tests.returncode:
                failures.append(f"3.{minor} ({exe}): tests failed:\n{tests.stderr[-3000:]}")
            calls = "METH_FASTCALL" if fast == "1" else "METH_VARARGS shims"
            buffers = "buffer protocol" if buf == "1" else "bytes copies"
            report.append(f"3.{minor}: {version} imports {os.path.basename(path)} ({calls}, {buffers}); "
                          f"{ran}: {status}")
        sys.stderr.write("\nabi3 import across interpreters:\n  " + "\n  ".join(report) + "\n")
        self.assertEqual(failures, [], "\n\n".join(failures))


if __name__ == "__main__":
    unittest.main()
