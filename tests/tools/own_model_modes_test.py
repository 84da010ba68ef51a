#!/usr/bin/python3
"""reflex-sim --model BUNDLE and reflex-cluster --bundle BUNDLE: the experiment and the embedded
cluster run a user's own network (examples/own_model's PumpNet, exported and bundled here):
  - the frozen arm is the user's model at version 0: its accuracy on every batch equals what
    PyTorch's own forward gives on the same rows;
  - the outputs are those of the tools' CSV modes (summary.json, metrics.csv, events.json, in
    reflex-sim's schema; reflex-cluster adds its cluster object and coordinator events);
  - the label-free heal beats the frozen model on the Fahrenheit batches;
  - K-class bundles are refused with a clear message, and a stream whose columns are not the
    model's is refused naming them.

  /usr/bin/python3 tests/tools/own_model_modes_test.py --bin BUILD/bin [unittest args]
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
EXAMPLE = os.path.join(REPO, "examples", "own_model")
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, EXAMPLE)

import torch  # noqa: E402
from torch import nn  # noqa: E402

import export_model  # noqa: E402
from pump_data import read_csv  # noqa: E402
from pump_model import PumpNet  # noqa: E402

BIN = None
BATCH = 100
CLEAN_BATCHES = 10  # stream.csv: 1000 Celsius rows, then Fahrenheit


def run(*args, timeout=600):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout)


def metrics(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


class OwnModelModesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="reflex_own_model_modes_")
        data = os.path.join(cls.tmp, "pump")
        r = run(sys.executable, "-B", os.path.join(EXAMPLE, "train.py"), "--out", data)
        assert r.returncode == 0, r.stdout + r.stderr
        r = run(sys.executable, "-B", os.path.join(REPO, "tools", "export_model.py"), "--module",
                os.path.join(EXAMPLE, "pump_model.py") + ":PumpNet", "--state-dict", os.path.join(data, "pump.pt"),
                "--backbone", "backbone", "--head", "head", "--features-file", os.path.join(data, "features.txt"),
                "--out", os.path.join(data, "export"))
        assert r.returncode == 0, r.stdout + r.stderr
        cls.bundle = os.path.join(data, "bundle")
        r = run(os.path.join(BIN, "reflex-bundle"), "--model", os.path.join(data, "export"), "--clean",
                os.path.join(data, "clean.csv"), "--label", "failed", "--out", cls.bundle)
        assert r.returncode == 0, r.stdout + r.stderr
        cls.stream = os.path.join(data, "stream.csv")
        # PyTorch's own per-batch accuracy of the model on the stream.
        model = PumpNet()
        model.load_state_dict(torch.load(os.path.join(data, "pump.pt")))
        model.eval()
        x, y = read_csv(cls.stream)
        with torch.no_grad():
            predicted = (torch.sigmoid(model(x).reshape(-1)) > 0.5).long()
        cls.pytorch_batch_accuracy = [(predicted[i:i + BATCH] == y[i:i + BATCH]).float().mean().item()
                                      for i in range(0, len(y) - BATCH + 1, BATCH)]
        # A 3-class export and bundle of another small network, to be refused.
        torch.manual_seed(0)
        three = os.path.join(cls.tmp, "three")
        features = ["temperature", "vibration", "pressure", "rpm", "current"]
        export_model.export(nn.Sequential(nn.Linear(5, 8), nn.ReLU()), nn.Sequential(nn.Linear(8, 3), nn.Softmax(dim=-1)),
                            features, os.path.join(three, "export"))
        with open(cls.stream) as src, open(os.path.join(three, "clean.csv"), "w") as dst:
            for i, line in enumerate(src):
                dst.write(line if i == 0 else line.rstrip("\n")[:-1] + str(i % 3) + "\n")
                if i == 300:
                    break
        r = run(os.path.join(BIN, "reflex-bundle"), "--model", os.path.join(three, "export"), "--clean",
                os.path.join(three, "clean.csv"), "--label", "failed", "--out", os.path.join(three, "bundle"))
        assert r.returncode == 0, r.stdout + r.stderr
        cls.three_bundle = os.path.join(three, "bundle")
        cls.three_stream = os.path.join(three, "clean.csv")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def out(self, name):
        return os.path.join(self.tmp, name)

    def check_frozen_is_pytorch(self, rows):
        self.assertEqual(len(rows), len(self.pytorch_batch_accuracy))
        for b, row in enumerate(rows):
            self.assertEqual(row["frozen_version"], "0")
            self.assertAlmostEqual(float(row["frozen_accuracy"]), self.pytorch_batch_accuracy[b], places=6,
                                   msg="batch %d: the frozen arm is not PyTorch's model" % b)

    def drifted_accuracy(self, rows, arm):
        drifted = rows[CLEAN_BATCHES:]
        return sum(float(r[arm + "_accuracy"]) for r in drifted) / len(drifted)

    def test_reflex_sim_runs_the_users_network(self):
        out = self.out("sim")
        r = run(os.path.join(BIN, "reflex-sim"), "--model", self.bundle, "--stream", self.stream, "--label", "failed",
                "--label-fraction", "0.2", "--label-delay", "3", "--out", out)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("scenario=bundle", r.stdout)
        for name in ("summary.json", "metrics.csv", "events.json", "report.html"):
            self.assertTrue(os.path.exists(os.path.join(out, name)), name)
        with open(os.path.join(out, "summary.json")) as f:
            summary = json.load(f)
        self.assertEqual(set(summary["arms"]), {"frozen", "healed_labels", "healed_label_free"})
        rows = metrics(os.path.join(out, "metrics.csv"))
        self.check_frozen_is_pytorch(rows)
        frozen, healed = self.drifted_accuracy(rows, "frozen"), self.drifted_accuracy(rows, "healed_label_free")
        self.assertGreater(healed, frozen + 0.3, "label-free %.3f vs frozen %.3f on the Fahrenheit batches" % (healed, frozen))

    def test_reflex_cluster_serves_the_users_network(self):
        out = self.out("cluster")
        r = run(os.path.join(BIN, "reflex-cluster"), "--bundle", self.bundle, "--stream", self.stream, "--label",
                "failed", "--label-fraction", "0", "--replicas", "2", "--out", out)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("deploying your model from", r.stdout)
        with open(os.path.join(out, "summary.json")) as f:
            summary = json.load(f)
        self.assertEqual(set(summary["arms"]), {"frozen", "fleet"})
        self.assertEqual(summary["scenario"], "bundle")
        self.assertEqual(summary["cluster"]["replicas"], 2)
        self.assertTrue(summary["cluster"]["healed"])
        with open(os.path.join(out, "events.json")) as f:
            events = json.load(f)
        self.assertIn("coordinator_events", events)
        rows = metrics(os.path.join(out, "metrics.csv"))
        self.check_frozen_is_pytorch(rows)
        # Until the first heal the fleet serves version 0: what PyTorch says.
        for b in range(CLEAN_BATCHES):
            self.assertEqual(rows[b]["fleet_version"], "0")
            self.assertAlmostEqual(float(rows[b]["fleet_accuracy"]), self.pytorch_batch_accuracy[b], places=6)
        frozen, fleet = self.drifted_accuracy(rows, "frozen"), self.drifted_accuracy(rows, "fleet")
        self.assertGreater(fleet, frozen + 0.3, "fleet %.3f vs frozen %.3f on the Fahrenheit batches" % (fleet, frozen))

    def test_k_class_bundles_are_refused_clearly(self):
        sim = run(os.path.join(BIN, "reflex-sim"), "--model", self.three_bundle, "--stream", self.three_stream,
                  "--label", "failed")
        self.assertEqual(sim.returncode, 2, sim.stdout + sim.stderr)
        self.assertIn("3-class model", sim.stderr)
        self.assertIn("binary models only", sim.stderr)
        cluster = run(os.path.join(BIN, "reflex-cluster"), "--bundle", self.three_bundle, "--stream", self.three_stream,
                      "--label", "failed")
        self.assertEqual(cluster.returncode, 2, cluster.stdout + cluster.stderr)
        self.assertIn("3-class model", cluster.stderr)
        self.assertIn("protocol version", cluster.stderr)

    def test_a_stream_with_other_columns_is_refused_naming_them(self):
        bad = self.out("swapped.csv")
        with open(self.stream) as src, open(bad, "w") as dst:
            for line in src:
                f = line.rstrip("\n").split(",")
                dst.write(",".join([f[1], f[0]] + f[2:]) + "\n")
        for tool, flag in (("reflex-sim", "--model"), ("reflex-cluster", "--bundle")):
            with self.subTest(tool=tool):
                r = run(os.path.join(BIN, tool), flag, self.bundle, "--stream", bad, "--label", "failed")
                self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
                self.assertIn("swapped.csv:1:1: the feature columns are in another order", r.stderr)
                self.assertIn("'vibration' is column 1 but the model's feature 2", r.stderr)

    def test_the_bundle_holds_rules_and_monitored_features(self):
        r = run(os.path.join(BIN, "reflex-sim"), "--model", self.bundle, "--stream", self.stream, "--label", "failed",
                "--monitor", "temperature")
        self.assertEqual(r.returncode, 2)
        self.assertIn("give --rules and --monitor to reflex-bundle", r.stderr)
        r = run(os.path.join(BIN, "reflex-cluster"), "--bundle", self.bundle, "--train", self.stream, "--stream",
                self.stream, "--label", "failed")
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--bin", required=True)
    args, rest = parser.parse_known_args()
    BIN = os.path.abspath(args.bin)
    unittest.main(argv=[sys.argv[0]] + rest)
