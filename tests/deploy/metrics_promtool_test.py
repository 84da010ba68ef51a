#!/usr/bin/python3
"""`promtool check metrics` accepts every service's /metrics (issue 19, item 7).

Starts a coordinator, a healer and a replica (secure, tests/cluster/cluster_harness.py), scores
a few batches so that histograms have observations, runs one heal so the healer's histogram does
too, then lints each service's exposition with promtool (Debian's `prometheus` package; installed
by deploy/install-deps.sh). Also checks the units: no `_ms` metric, every counter ends in
`_total`, every histogram named `_seconds`. Exits 77 (CTest: Skipped) when promtool is absent.

  metrics_promtool_test.py --repo REPO --bin BUILD/bin
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

ARGS = argparse.Namespace(repo=None, bin=None)


def metrics_address(argv, service):
    for a in argv:
        if a.startswith(service + ".metrics_address="):
            return a.split("=", 1)[1]
    raise AssertionError("no metrics_address in %s" % argv)


def fetch(address):
    with urllib.request.urlopen("http://%s/metrics" % address, timeout=5) as r:
        return r.read().decode()


class PromtoolAcceptsEveryService(unittest.TestCase):
    def setUp(self):
        sys.path.insert(0, os.path.join(ARGS.repo, "tests", "cluster"))
        sys.path.insert(0, os.path.join(ARGS.repo, "tools", "python"))
        self.run_dir = tempfile.mkdtemp(prefix="reflex-promtool-")
        subprocess.run([os.path.join(ARGS.bin, "reflex-bundle"), "--scenario", "recalibration", "--seed", "1",
                        "--out", self.run_dir], check=True, capture_output=True, timeout=180)
        from cluster_harness import Cluster
        self.cluster = Cluster(ARGS.bin, ARGS.repo, self.run_dir, replicas=1, healers=1,
                               policy={"mode": "manual", "min_rows": 100})

    def tearDown(self):
        self.cluster.stop()
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def test_every_exposition_passes_promtool_with_seconds_and_total(self):
        from reflex_client import ReflexClient
        c = self.cluster
        c.start(timeout_s=90)
        import csv
        with open(os.path.join(self.run_dir, "drift.csv")) as f:
            reader = csv.reader(f)
            header = next(reader)
            label = header.index("label") if "label" in header else -1
            rows = [[float(v) for i, v in enumerate(r) if i != label] for _, r in zip(range(500), reader)]
        with ReflexClient(c.scoring, attempt_timeout_ms=2000, max_attempts=3, curve=c.client_curve) as client:
            for start in range(0, len(rows), 50):
                client.score(rows[start:start + 50], timeout_ms=5000)
        deadline = time.monotonic() + 60
        while True:  # a heal, so the healer's duration histogram has an observation
            code, body, err = c.ctl("heal")
            if code == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        c.wait(lambda: c.status()["heal_in_flight"] is False and len(c.status()["recent_events"]) > 0, 60,
               "the heal to finish")
        time.sleep(1.5)
        for name, p in c.procs.items():
            service = name.split("-")[0]
            text = fetch(metrics_address(p.argv, service))
            with self.subTest(service=name):
                lint = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                                      text=True, timeout=30)
                self.assertEqual(lint.returncode, 0, "promtool on %s:\n%s%s" % (name, lint.stdout, lint.stderr))
                types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
                self.assertTrue(types, "no metrics from %s" % name)
                for metric, kind in types.items():
                    self.assertNotRegex(metric, r"_ms$")
                    if kind == "counter":
                        self.assertTrue(metric.endswith("_total"), metric)
                    if kind == "histogram":
                        self.assertTrue(metric.endswith("_seconds"), metric)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", required=True)
    parser.add_argument("--bin", required=True)
    args, rest = parser.parse_known_args()
    ARGS.repo, ARGS.bin = os.path.abspath(args.repo), os.path.abspath(args.bin)
    if shutil.which("promtool") is None:
        print("promtool not installed (Debian package prometheus; deploy/install-deps.sh): skipped")
        sys.exit(77)
    result = unittest.main(argv=[sys.argv[0]] + rest, verbosity=2, exit=False).result
    sys.exit(0 if result.wasSuccessful() else 1)
