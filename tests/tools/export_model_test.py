#!/usr/bin/python3
"""Tests of tools/export_model.py: binary heads as before, K-class softmax heads, and the heads it
refuses (regression, multi-label), through the library and the command line.

  /usr/bin/python3 tests/tools/export_model_test.py [unittest args]

Needs Debian's python3-torch. The C++ side of the same exports (scores equal PyTorch's) is
tests/model/torchscript_test.cc.
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest
import warnings

sys.dont_write_bytecode = True
REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tools"))

import torch  # noqa: E402
from torch import nn  # noqa: E402

import export_model  # noqa: E402
from export_model import ExportError  # noqa: E402

FEATURES = ["a", "b", "c", "d"]


def backbone():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU())


class Full(nn.Module):
    def __init__(self, head):
        super().__init__()
        self.backbone = backbone()
        self.head = head

    def forward(self, x):
        return self.head(self.backbone(x))


class ExportTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="reflex_export_test_")
        self.out = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def export(self, head, folder="m", **kwargs):
        model = Full(head)
        return export_model.export(model.backbone, model.head, FEATURES, os.path.join(self.out, folder),
                                   full_model=model, **kwargs)

    def refused(self, head, *parts, **kwargs):
        folder = "refused%d" % len(os.listdir(self.out))
        with self.assertRaises(ExportError) as caught:
            self.export(head, folder=folder, **kwargs)
        for part in parts:
            self.assertIn(part, str(caught.exception))
        self.assertFalse(os.path.exists(os.path.join(self.out, folder, "manifest.json")),
                         "a refused export must not write a manifest")
        return str(caught.exception)

    # --- binary: the behaviour from before, plus the new manifest fields ------------------------

    def test_a_sigmoid_head_is_a_binary_probability(self):
        m = self.export(nn.Sequential(nn.Linear(8, 1), nn.Sigmoid()))
        self.assertEqual((m["head_kind"], m["num_classes"], m["head_output"]), ("binary", 2, "probability"))
        self.assertEqual(m["class_names"], ["0", "1"])
        self.assertEqual(m["width"], 8)
        with open(os.path.join(self.out, "m", "manifest.json")) as f:
            self.assertEqual(json.load(f), m)

    def test_a_linear_one_output_head_is_a_binary_logit(self):
        m = self.export(nn.Linear(8, 1))
        self.assertEqual((m["head_kind"], m["head_output"]), ("binary", "logit"))

    def test_a_flat_one_output_head_is_binary(self):
        class Flat(nn.Module):
            def __init__(self):
                super().__init__()
                self.linear = nn.Linear(8, 1)

            def forward(self, h):
                return torch.sigmoid(self.linear(h)).reshape(-1)

        m = self.export(Flat())
        self.assertEqual((m["head_kind"], m["head_output"]), ("binary", "probability"))

    def test_declaring_a_sigmoid_head_logit_is_refused_as_before(self):
        self.refused(nn.Sequential(nn.Linear(8, 1), nn.Sigmoid()), "second sigmoid", head_output="logit")

    def test_declaring_a_logit_head_probability_is_refused_as_before(self):
        head = nn.Linear(8, 1)
        with torch.no_grad():
            head.bias.fill_(5.0)
        self.refused(head, "head_output is 'probability'", head_output="probability")

    def test_binary_class_names_are_recorded(self):
        m = self.export(nn.Linear(8, 1), class_names=["ok", "fails"])
        self.assertEqual(m["class_names"], ["ok", "fails"])
        self.refused(nn.Linear(8, 1), "1 name(s) but the head has 2 classes", class_names=["fails"])
        self.refused(nn.Linear(8, 1), "appears twice", class_names=["x", "x"])

    # --- K-class --------------------------------------------------------------------------------

    def test_a_softmax_head_is_a_k_class_probability(self):
        m = self.export(nn.Sequential(nn.Linear(8, 3), nn.Softmax(dim=-1)), class_names=["ok", "bearing", "seal"])
        self.assertEqual((m["head_kind"], m["num_classes"], m["head_output"]), ("softmax", 3, "probability"))
        self.assertEqual(m["class_names"], ["ok", "bearing", "seal"])
        reloaded = torch.jit.load(os.path.join(self.out, "m", "head.pt"))
        probs = reloaded(torch.rand(5, 8))
        self.assertEqual(list(probs.shape), [5, 3])

    def test_k_logits_and_a_log_softmax_are_k_class_logits(self):
        self.assertEqual(self.export(nn.Linear(8, 4))["head_output"], "logit")
        m = self.export(nn.Sequential(nn.Linear(8, 4), nn.LogSoftmax(dim=1)))
        self.assertEqual((m["head_kind"], m["num_classes"], m["head_output"]), ("softmax", 4, "logit"))
        self.assertEqual(m["class_names"], ["0", "1", "2", "3"])

    def test_a_two_class_softmax_is_exported_with_two_classes(self):
        m = self.export(nn.Sequential(nn.Linear(8, 2), nn.Softmax(dim=1)))
        self.assertEqual((m["head_kind"], m["num_classes"]), ("softmax", 2))

    def test_a_softmax_over_the_batch_is_refused(self):
        self.refused(nn.Sequential(nn.Linear(8, 3), nn.Softmax(dim=0)), "another dimension than the classes")

    def test_declaring_a_softmax_head_logit_is_refused(self):
        self.refused(nn.Sequential(nn.Linear(8, 3), nn.Softmax(dim=-1)), "second softmax", head_output="logit")

    def test_k_class_names_must_match_the_head(self):
        self.refused(nn.Linear(8, 3), "2 name(s) but the head has 3 classes", class_names=["a", "b"])

    # --- refused heads --------------------------------------------------------------------------

    def test_a_regression_head_is_refused_saying_how_it_was_told_and_what_to_do(self):
        for final in (nn.ReLU(), nn.Softplus()):
            with self.subTest(final=type(final).__name__):
                m = self.refused(nn.Sequential(nn.Linear(8, 1), final), "regression head",
                                 "classifiers only", "Export a classifier of the decision you act on")
                self.assertIn("passes last through " + type(final).__name__.lower(), m)

    def test_a_regression_looking_head_declared_a_logit_is_exported(self):
        m = self.export(nn.Sequential(nn.Linear(8, 1), nn.ReLU()), head_output="logit")
        self.assertEqual(m["head_output"], "logit")

    def test_a_multi_label_head_is_refused(self):
        self.refused(nn.Sequential(nn.Linear(8, 3), nn.Sigmoid()), "multi-label")

    def test_a_head_of_another_shape_is_refused(self):
        class Cube(nn.Module):
            def forward(self, h):
                return h.reshape(h.shape[0], 2, 4)

        self.refused(Cube(), "Reflex needs one output per row", "K per row")

    def test_a_head_giving_class_indices_is_refused(self):
        class Argmax(nn.Module):
            def __init__(self):
                super().__init__()
                self.linear = nn.Linear(8, 3)

            def forward(self, h):
                return self.linear(h).argmax(dim=1)

        self.refused(Argmax(), "not class indices")


class CommandLineTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="reflex_export_cli_test_")
        self.dir = self.tmp.name
        with open(os.path.join(self.dir, "net.py"), "w") as f:
            f.write("import torch\nfrom torch import nn\n"
                    "def three():\n    torch.manual_seed(1)\n"
                    "    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3), nn.Softmax(dim=-1))\n"
                    "def regression():\n    torch.manual_seed(1)\n"
                    "    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1), nn.ReLU())\n")

    def tearDown(self):
        self.tmp.cleanup()

    def run_export(self, factory, *extra):
        return subprocess.run([sys.executable, "-B", os.path.join(REPO, "tools", "export_model.py"),
                               "--module", os.path.join(self.dir, "net.py") + ":" + factory, "--split-index", "2",
                               "--features", ",".join(FEATURES), "--out", os.path.join(self.dir, "out")] + list(extra),
                              capture_output=True, text=True)

    def test_a_three_class_model_with_class_names(self):
        r = self.run_export("three", "--class-names", "ok,bearing,seal")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("3-class softmax, probabilities", r.stdout)
        self.assertIn("classes ok, bearing, seal", r.stdout)
        with open(os.path.join(self.dir, "out", "manifest.json")) as f:
            self.assertEqual(json.load(f)["class_names"], ["ok", "bearing", "seal"])

    def test_a_regression_model_exits_2_with_the_reason(self):
        r = self.run_export("regression")
        self.assertEqual(r.returncode, 2)
        self.assertIn("export_model.py: error: head:", r.stderr)
        self.assertIn("regression head", r.stderr)


if __name__ == "__main__":
    warnings.simplefilter("ignore", UserWarning)
    unittest.main()
