"""The replay's comparator and its table of allowed differences can fail: a changed key, a wrong type,
a wrong status, a placeholder bound to one value and then seen with another, and a stale row."""
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pb_replay as R  # noqa: E402


def compare(expected, got, bindings=None):
    c = R.Comparer("records", bindings or R.Bindings())
    c.compare(expected, got, "body")
    c.commit()
    return [d[0] for d in c.diffs]


class ComparerTests(unittest.TestCase):
    def test_identical_shapes_with_placeholders_agree(self):
        exp = {"id": "<id:15#1>", "created": "<datetime>", "n": 1, "tags": ["a"], "collectionId": "pbc_1125843985"}
        got = {"id": "abcdefghij12345", "created": "2026-01-02 03:04:05.678Z", "n": 1, "tags": ["a"],
               "collectionId": "pbc_x1y2z3"}
        self.assertEqual(compare(exp, got), [])

    def test_a_renamed_key_is_one_missing_and_one_extra(self):
        self.assertEqual(compare({"title": "x"}, {"titel": "x"}), ["missing body.title", "extra body.titel"])

    def test_a_value_of_another_type_differs(self):
        self.assertEqual(compare({"n": 1}, {"n": "1"}), ["type body.n"])

    def test_an_error_code_that_differs_is_a_value_difference(self):
        exp = {"data": {"title": {"code": "validation_required"}}}
        got = {"data": {"title": {"code": "validation_invalid"}}}
        self.assertEqual(compare(exp, got), ["value body.data.title.code"])

    def test_key_order_is_compared(self):
        self.assertEqual(compare({"record": {}, "token": "t"}, {"token": "t", "record": {}}), ["order body"])

    def test_a_list_of_another_length_differs(self):
        self.assertEqual(compare({"items": [1, 2]}, {"items": [1]}), ["length body.items"])

    def test_a_bound_placeholder_must_keep_its_value(self):
        b = R.Bindings()
        self.assertEqual(compare({"id": "<id:15#1>"}, {"id": "aaaaaaaaaaaaaaa"}, b), [])
        self.assertEqual(compare({"id": "<id:15#1>"}, {"id": "bbbbbbbbbbbbbbb"}, b), ["value body.id"])

    def test_a_placeholder_checks_its_form(self):
        self.assertEqual(compare({"id": "<id:15#1>"}, {"id": "short"}), ["value body.id"])
        self.assertEqual(compare({"created": "<datetime>"}, {"created": ""}), ["value body.created"])


class TableTests(unittest.TestCase):
    def table(self, rows):
        f = tempfile.NamedTemporaryFile("w", suffix=".md", delete=False)
        f.write("# x\n\n%s\n\n| exchange | difference | reason |\n| --- | --- | --- |\n" % R.TABLE_HEADING)
        for r in rows:
            f.write("| `%s` | `%s` | %s |\n" % r)
        f.write("\n## Next\n\n| `auth#1` | `status` | not part of the table |\n")
        f.close()
        self.addCleanup(os.unlink, f.name)
        return R.read_table(f.name)

    def result(self, diffs, file="errors", index=3, method="GET", path="/api/nosuch"):
        r = R.Result(file, index, {"name": "n", "request": {"method": method, "path": path}})
        r.diffs = diffs
        return r

    def test_a_wrong_status_that_is_not_listed_fails(self):
        allowed, unlisted, stale = R.judge([self.result([("status", 404, 200)])], self.table([]))
        self.assertEqual((len(allowed), len(unlisted), len(stale)), (0, 1, 0))

    def test_a_listed_difference_passes_by_index_range_or_path_glob(self):
        rows = self.table([("errors#2-4", "status", "r1"), ("errors GET /api/*", "value body.*", "r2")])
        allowed, unlisted, stale = R.judge([self.result([("status", 1, 2), ("value body.message", "a", "b")])], rows)
        self.assertEqual((len(allowed), len(unlisted), len(stale)), (2, 0, 0))

    def test_a_row_that_allows_nothing_is_stale(self):
        rows = self.table([("errors#3", "status", "fixed since"), ("auth#1", "status", "still differs")])
        allowed, unlisted, stale = R.judge([self.result([]), self.result([("status", 1, 2)], "auth", 1)], rows)
        self.assertEqual([a.exchange for a in stale], ["errors#3"])

    def test_rows_outside_the_section_are_not_read(self):
        self.assertEqual(len(self.table([])), 0)


if __name__ == "__main__":
    unittest.main()
