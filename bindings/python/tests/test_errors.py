"""One function maps every status to its exception (src/_cxm.c raise_msg)."""
import pickle
import unittest

import cxm
from support import T0, make_ctx

EXPECTED = {
    cxm.Status.INVALID: (cxm.InvalidArgumentError, ValueError),
    cxm.Status.UNKNOWN_ID: (cxm.UnknownIdError, KeyError),
    cxm.Status.OUT_OF_RANGE: (cxm.OutOfRangeError, ValueError),
    cxm.Status.TOO_LATE: (cxm.TooLateError, ValueError),
    cxm.Status.TOO_EARLY: (cxm.TooEarlyError, ValueError),
    cxm.Status.NOT_FINITE: (cxm.NotFiniteError, ValueError),
    cxm.Status.TOO_LONG: (cxm.TooLongError, ValueError),
    cxm.Status.NO_MEMORY: (cxm.NoMemoryError, MemoryError),
    cxm.Status.LIMIT: (cxm.LimitError, None),
    cxm.Status.CORRUPT: (cxm.CorruptError, ValueError),
    cxm.Status.IO: (cxm.FileError, OSError),
    cxm.Status.VERSION: (cxm.VersionError, None),
    cxm.Status.UNSUPPORTED: (cxm.UnsupportedError, None),
    cxm.Status.EXISTS: (cxm.ExistsError, ValueError),
    cxm.Status.ENCODING: (cxm.EncodingError, ValueError),
    cxm.Status.KIND: (cxm.KindError, TypeError),
    cxm.Status.REJECTED: (cxm.RejectedError, None),
}


class Mapping(unittest.TestCase):
    def test_every_status_has_its_class(self):
        self.assertEqual(set(EXPECTED), set(cxm.Status) - {cxm.Status.OK})
        for status, (cls, builtin) in EXPECTED.items():
            with self.subTest(status=status):
                self.assertTrue(issubclass(cls, cxm.Error))
                if builtin is not None:
                    self.assertTrue(issubclass(cls, builtin))
                self.assertEqual(cls.code, status)
                self.assertEqual(cls.__module__, "cxm")
                with self.assertRaises(cls) as cm:
                    cxm._cxm._raise_status(int(status), "detail")
                e = cm.exception
                self.assertIs(type(e), cls)
                self.assertEqual((e.code, e.status, str(e)), (status, cxm.strerror(status), "detail"))
                self.assertEqual(e.args, ("detail",))

    def test_fallbacks(self):
        with self.assertRaises(cxm.OutOfRangeError) as cm:
            cxm._cxm._raise_status(3, "")
        self.assertEqual(str(cm.exception), "out of range")  # no detail: the code's name
        with self.assertRaises(cxm.Error) as cm:
            cxm._cxm._raise_status(99, "odd")
        self.assertIs(type(cm.exception), cxm.Error)
        self.assertEqual(cm.exception.code, 99)
        self.assertIsNone(cxm.Error.code)

    def test_key_error_message_is_not_quoted(self):
        with make_ctx() as ctx:
            with self.assertRaises(KeyError) as cm:
                ctx.touchpoints[12]
            self.assertEqual(str(cm.exception), cm.exception.args[0])
            self.assertIn("12 is not defined", str(cm.exception))

    def test_builtin_except_clauses_work(self):
        with make_ctx() as ctx:
            tp = ctx.touchpoint("t")
            nps = ctx.metric("nps")
            try:
                ctx.feed(T0, tp, {nps: 11})
            except ValueError as e:
                self.assertEqual(e.code, cxm.Status.OUT_OF_RANGE)
            try:
                ctx.feed(T0, 9)
            except LookupError as e:
                self.assertEqual(e.code, cxm.Status.UNKNOWN_ID)

    def test_names_that_are_not_utf8(self):
        with make_ctx() as ctx:
            with self.assertRaises(cxm.EncodingError) as cm:
                ctx.touchpoint("caf\udce9")  # a lone surrogate has no UTF-8
            self.assertIn("surrogate", str(cm.exception))
            with self.assertRaises(cxm.EncodingError):
                ctx.segment("\ud800", 2)

    def test_errors_pickle(self):
        try:
            cxm._cxm._raise_status(3, "x")
        except cxm.Error as e:
            copy = pickle.loads(pickle.dumps(e))
            self.assertIs(type(copy), cxm.OutOfRangeError)
            self.assertEqual(str(copy), "x")


if __name__ == "__main__":
    unittest.main()
