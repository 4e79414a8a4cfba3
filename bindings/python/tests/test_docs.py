"""docs/python.md's examples run as printed."""
import os
import re
import subprocess
import unittest

from support import PY, python_env

DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "docs", "python.md")


class Guide(unittest.TestCase):
    def test_complete_example(self):
        if not os.path.exists(DOC):
            self.skipTest("docs/python.md is not in this tree")
        try:
            import pandas  # noqa: F401  (the example ends by handing results to pandas)
        except ImportError:
            self.skipTest("pandas is not installed (apt-get install python3-pandas)")
        with open(DOC, encoding="utf-8") as f:
            text = f.read()
        code = re.search(r"## A complete example\n\n```python\n(.*?)```", text, re.S).group(1)
        p = subprocess.run([PY, "-c", code], env=python_env(), capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("5000 0", p.stdout)
        self.assertIn("% resolved", p.stdout)

    def test_merge_example_prints_what_the_guide_says(self):
        if not os.path.exists(DOC):
            self.skipTest("docs/python.md is not in this tree")
        with open(DOC, encoding="utf-8") as f:
            text = f.read()
        m = re.search(r"### Example: two nodes merged[^\n]*\n\n```python\n(.*?)```\n\nprints\n\n```\n(.*?)```",
                      text, re.S)
        self.assertIsNotNone(m)
        p = subprocess.run([PY, "-c", m.group(1)], env=python_env(), capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, m.group(2))

    def test_trigger_example_prints_what_the_guide_says(self):
        if not os.path.exists(DOC):
            self.skipTest("docs/python.md is not in this tree")
        with open(DOC, encoding="utf-8") as f:
            text = f.read()
        m = re.search(r"### Example: a call-back list[^\n]*\n\n```python\n(.*?)```\n\nprints\n\n```\n(.*?)```",
                      text, re.S)
        self.assertIsNotNone(m)
        p = subprocess.run([PY, "-c", m.group(1)], env=python_env(), capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, m.group(2))

    def test_governor_example_prints_what_the_guide_says(self):
        if not os.path.exists(DOC):
            self.skipTest("docs/python.md is not in this tree")
        with open(DOC, encoding="utf-8") as f:
            text = f.read()
        m = re.search(r"### Example: ask, or not[^\n]*\n\n```python\n(.*?)```\n\nprints\n\n```\n(.*?)```",
                      text, re.S)
        self.assertIsNotNone(m)
        p = subprocess.run([PY, "-c", m.group(1)], env=python_env(), capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, m.group(2))

    def test_alert_example_prints_what_the_guide_says(self):
        if not os.path.exists(DOC):
            self.skipTest("docs/python.md is not in this tree")
        with open(DOC, encoding="utf-8") as f:
            text = f.read()
        m = re.search(r"### Example: NPS low at the agent[^\n]*\n\n```python\n(.*?)```\n\nprints\n\n```\n(.*?)```",
                      text, re.S)
        self.assertIsNotNone(m)
        p = subprocess.run([PY, "-c", m.group(1)], env=python_env(), capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, m.group(2))


if __name__ == "__main__":
    unittest.main()
