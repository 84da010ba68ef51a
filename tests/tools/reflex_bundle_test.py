#!/usr/bin/python3
"""Tests of `reflex-bundle --model EXPORT --clean CSV --label COLUMN [--rules FILE] --out BUNDLE`
(tools/reflex-bundle/user_bundle.h): a bundle of a user's own TorchScript export. Each check on
the clean CSV has a case that passes and one that fails, exiting 2 with a message naming what
is wrong and where.

  /usr/bin/python3 tests/tools/reflex_bundle_test.py --bin BUILD/bin [unittest args]

Needs Debian's python3-torch (the exports are made here with tools/export_model.py).
"""

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tools"))

import torch  # noqa: E402
from torch import nn  # noqa: E402

import export_model  # noqa: E402

BIN = None
FEATURES = ["temperature", "vibration", "pressure"]


def make_exports(folder):
    """A binary (logit) export and a 3-class softmax export of one small seeded network."""
    torch.manual_seed(3)
    backbone = nn.Sequential(nn.Linear(3, 8), nn.Tanh())
    export_model.export(backbone, nn.Linear(8, 1), FEATURES, os.path.join(folder, "binary"))
    export_model.export(backbone, nn.Sequential(nn.Linear(8, 3), nn.Softmax(dim=-1)), FEATURES,
                        os.path.join(folder, "three"), class_names=["ok", "bearing", "seal"])
    export_model.export(backbone, nn.Sequential(nn.Linear(8, 2), nn.Softmax(dim=1)), FEATURES,
                        os.path.join(folder, "two"), class_names=["ok", "fails"])
    return backbone


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(header)
        out.writerows(rows)


class ReflexBundleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="reflex_bundle_test_")
        make_exports(cls.tmp)
        g = torch.Generator().manual_seed(5)
        x = torch.randn(200, 3, generator=g)
        cls.rows = [["%.4f" % v for v in r] for r in x.tolist()]
        cls.binary_labels = [int(r[0] + r[1] > 0) for r in x.tolist()]
        cls.three_labels = [["ok", "bearing", "seal"][i % 3] for i in range(200)]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def clean(self, name, header=None, labels=None, edit=None):
        """Writes the clean rows under `header` (its last column is the label; unknown columns
        hold 1) and returns the path."""
        header = header or FEATURES + ["failed"]
        labels = self.binary_labels if labels is None else labels
        rows = []
        for values, label in zip(self.rows, labels):
            named = dict(zip(FEATURES, values))
            named[header[-1]] = str(label)
            rows.append([named.get(column, "1") for column in header])
        if edit:
            edit(rows)
        write_csv(self.path(name), header, rows)
        return self.path(name)

    def bundle(self, *args):
        return subprocess.run([os.path.join(BIN, "reflex-bundle")] + list(args), capture_output=True, text=True)

    def ok(self, *args):
        r = self.bundle(*args)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r

    def fails(self, clean, *parts, export="binary", label="failed"):
        out = self.path("refused_" + os.path.basename(clean))
        r = self.bundle("--model", self.path(export), "--clean", clean, "--label", label, "--out", out)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        for part in parts:
            self.assertIn(part, r.stderr)
        self.assertFalse(os.path.exists(out), "nothing is written on bad input")
        return r.stderr

    # --- a bundle that passes every check -------------------------------------------------------

    def test_a_binary_bundle_without_rules(self):
        out = self.path("b_binary")
        r = self.ok("--model", self.path("binary"), "--clean", self.clean("good.csv"), "--label", "failed", "--out", out)
        self.assertIn("binary head, classes 0, 1", r.stdout)
        self.assertIn("label column 'failed'", r.stdout)
        self.assertIn("clean rows: 200", r.stdout)
        self.assertIn("rules: none", r.stdout)
        with open(os.path.join(out, "manifest.json")) as f:
            m = json.load(f)
        self.assertEqual((m["source"], m["label_column"], m["classes"], m["rules"]),
                         ("torchscript", "failed", ["0", "1"], None))
        self.assertEqual(m["feature_names"], FEATURES)
        positives = sum(self.binary_labels)
        self.assertEqual(m["clean_summary"]["classes"]["1"]["rows"], positives)
        self.assertAlmostEqual(m["clean_summary"]["classes"]["1"]["prior"], positives / 200)
        self.assertFalse(os.path.exists(os.path.join(out, "rules.txt")))
        for name in ("backbone.pt", "head.pt", "manifest.json"):
            self.assertTrue(os.path.exists(os.path.join(out, "ts", name)), name)

    def test_rules_are_optional_and_checked_when_given(self):
        rules = self.path("rules.txt")
        with open(rules, "w") as f:
            f.write("rule hot: temperature > 1.5 => positive\n")
        out = self.path("b_rules")
        r = self.ok("--model", self.path("binary"), "--clean", self.clean("good_r.csv"), "--label", "failed",
                    "--rules", rules, "--out", out)
        self.assertIn("rules: 1 from", r.stdout)
        self.assertTrue(os.path.exists(os.path.join(out, "rules.txt")))
        with open(rules, "w") as f:
            f.write("rule hot: humidity > 1.5 => positive\n")
        bad = self.bundle("--model", self.path("binary"), "--clean", self.path("good_r.csv"), "--label", "failed",
                          "--rules", rules, "--out", self.path("b_bad_rules"))
        self.assertEqual(bad.returncode, 2)
        self.assertIn("rules.txt:1", bad.stderr)
        self.assertIn("humidity", bad.stderr)

    def test_a_three_class_bundle_records_the_classes(self):
        out = self.path("b_three")
        r = self.ok("--model", self.path("three"), "--clean", self.clean("three.csv", FEATURES + ["kind"], self.three_labels),
                    "--label", "kind", "--out", out)
        self.assertIn("3-class softmax head, classes ok, bearing, seal", r.stdout)
        with open(os.path.join(out, "manifest.json")) as f:
            m = json.load(f)
        self.assertEqual(m["classes"], ["ok", "bearing", "seal"])
        self.assertEqual(m["clean_summary"]["classes"]["seal"]["rows"], 66)

    def test_a_two_class_softmax_bundles_as_binary_with_its_class_names(self):
        labels = ["fails" if l else "ok" for l in self.binary_labels]
        out = self.path("b_two")
        r = self.ok("--model", self.path("two"), "--clean", self.clean("two.csv", FEATURES + ["state"], labels),
                    "--label", "state", "--out", out)
        self.assertIn("2-class softmax (served as binary) head, classes ok, fails", r.stdout)
        self.assertIn("p(fails) quantiles", r.stdout)
        with open(os.path.join(out, "clean.csv")) as f:
            self.assertIn(",fails\n", f.read())

    # --- each check fails naming what and where --------------------------------------------------

    def test_missing_column(self):
        self.fails(self.clean("missing.csv", ["temperature", "pressure", "failed"]),
                   "missing.csv:1: the columns differ from the model's features: missing 'vibration'",
                   "the model takes temperature, vibration, pressure, in that order")

    def test_extra_column(self):
        self.fails(self.clean("extra.csv", FEATURES + ["humidity", "failed"]), "extra 'humidity'")

    def test_misordered_columns(self):
        self.fails(self.clean("order.csv", ["vibration", "temperature", "pressure", "failed"]),
                   "order.csv:1:1: the feature columns are in another order than the model's",
                   "'vibration' is column 1 but the model's feature 2", "'temperature' is column 2 but the model's feature 1")

    def test_missing_label_column(self):
        self.fails(self.clean("nolabel.csv"), "label column 'outcome' not found", label="outcome")

    def test_a_label_that_is_not_a_class(self):
        def edit(rows):
            rows[6][3] = "yes"
        self.fails(self.clean("badlabel.csv", edit=edit),
                   "badlabel.csv:8:4: label 'yes' in column 'failed' (data row 7) is not one of the model's classes: 0, 1")

    def test_a_class_name_that_is_not_the_exports(self):
        labels = list(self.three_labels)
        labels[10] = "impeller"
        self.fails(self.clean("three_bad.csv", FEATURES + ["kind"], labels),
                   "label 'impeller' in column 'kind' (data row 11) is not one of the model's classes: ok, bearing, seal",
                   export="three", label="kind")

    def test_a_regression_target(self):
        def edit(rows):
            rows[0][3] = "17.25"
        self.fails(self.clean("regression.csv", edit=edit), "label '17.25'", "regression target")

    def test_nan(self):
        def edit(rows):
            rows[41][1] = "nan"
        self.fails(self.clean("nan.csv", edit=edit), "nan.csv:43:2: NaN in column 'vibration' (data row 42)")

    def test_one_class_only(self):
        self.fails(self.clean("oneclass.csv", labels=[0] * 200), "no row of class '1'")

    def test_not_an_export(self):
        r = self.bundle("--model", self.tmp, "--clean", self.clean("g2.csv"), "--label", "failed", "--out",
                        self.path("b_none"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("manifest.json", r.stderr)

    def test_model_mode_needs_clean_and_label(self):
        r = self.bundle("--model", self.path("binary"), "--out", self.path("b_x"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("needs --model, --clean and --label", r.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--bin", required=True)
    args, rest = parser.parse_known_args()
    BIN = os.path.abspath(args.bin)
    unittest.main(argv=[sys.argv[0]] + rest)
