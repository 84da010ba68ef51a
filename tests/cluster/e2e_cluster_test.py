"""End-to-end: a real cluster heals drift and rolls back on command (issue: the cluster).

Coordinator + 2 healers + 3 replicas as separate processes on 127.0.0.1 (ephemeral ports). The
Python client streams clean rows, then drifted rows of the `recalibration` scenario, and sends
each batch's labels a few batches later (delayed feedback, to whichever replica it reaches).
Asserted: drift is detected, a heal runs, all three replicas converge on the new version, no
request fails during the whole run, accuracy on held-out drifted rows beats the frozen model,
and `reflexctl rollback` returns every replica to the previous version's weights.

Bounded: every wait has a timeout, the streams have a fixed length, and tearDown stops every
process (SIGTERM, then SIGKILL).

  e2e_cluster_test.py --bin build/bin --repo .
"""
import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

ARGS = None
BATCH = 25
LABEL_DELAY_BATCHES = 4


def read_labeled_csv(path):
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        label = header.index("label")
        rows, labels = [], []
        for fields in reader:
            labels.append(int(float(fields[label])))
            rows.append([float(v) for i, v in enumerate(fields) if i != label])
    return rows, labels


class ClusterHealsDriftEndToEnd(unittest.TestCase):
    def setUp(self):
        sys.path.insert(0, os.path.join(ARGS.repo, "tools", "python"))
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from cluster_harness import Cluster
        self.run_dir = tempfile.mkdtemp(prefix="reflex-e2e-")
        subprocess.run([os.path.join(ARGS.bin, "reflex-bundle"), "--scenario", "recalibration", "--seed", "1",
                        "--out", self.run_dir], check=True, capture_output=True, timeout=120)
        self.cluster = Cluster(ARGS.bin, ARGS.repo, self.run_dir, replicas=3, healers=2,
                               policy={"min_rows": 300, "cooldown_ms": 2000})
        self.failures = []
        self.pending_labels = []  # (due batch, request_id, row, label)

    def tearDown(self):
        codes = self.stop_codes if hasattr(self, "stop_codes") else self.cluster.stop()
        if self.failed_so_far():
            for name, p in self.cluster.procs.items():
                print("---- %s (exit %s)\n%s" % (name, codes.get(name), p.tail(30)), file=sys.stderr)
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def failed_so_far(self):
        outcome = getattr(self, "_outcome", None)
        result = getattr(outcome, "result", None)
        errors = getattr(result, "errors", []) + getattr(result, "failures", [])
        return any(test is self for test, _ in errors)

    # --- client side ---
    def score_batch(self, client, rows):
        from reflex_client import ReflexError
        try:
            return client.score(rows, timeout_ms=3000)
        except ReflexError as e:
            self.failures.append(str(e))
            return None

    def stream(self, client, rows, labels, batch_index, stop_when=None, check_every=8):
        """Scores rows in batches; queues their labels LABEL_DELAY_BATCHES later. Returns the next
        batch index, stopping early once stop_when() holds."""
        from reflex_client import ReflexError
        for start in range(0, len(rows), BATCH):
            result = self.score_batch(client, rows[start:start + BATCH])
            if result is not None:
                for i, y in enumerate(labels[start:start + BATCH]):
                    self.pending_labels.append((batch_index + LABEL_DELAY_BATCHES, result.request_id, i, y))
            due = [l for l in self.pending_labels if l[0] <= batch_index]
            self.pending_labels = [l for l in self.pending_labels if l[0] > batch_index]
            for _, request_id, row, y in due:
                try:
                    client.send_label(request_id, row, y, timeout_ms=3000)
                except ReflexError as e:
                    self.failures.append("label: %s" % e)
            batch_index += 1
            if stop_when and batch_index % check_every == 0 and stop_when():
                break
        return batch_index

    def accuracy(self, client, rows, labels):
        correct, versions = 0, set()
        for start in range(0, len(rows), 100):
            result = self.score_batch(client, rows[start:start + 100])
            self.assertIsNotNone(result, "scoring held-out rows failed: %s" % self.failures[-1:])
            versions.add(result.version)
            correct += sum((p >= 0.5) == bool(y) for p, y in zip(result.probabilities, labels[start:start + 100]))
        return correct / len(rows), versions

    def test_heals_drift_converges_and_rolls_back(self):
        from reflex_client import ReflexClient
        c = self.cluster
        c.start(timeout_s=90)
        clean_rows, clean_labels = read_labeled_csv(os.path.join(self.run_dir, "clean.csv"))
        drift_rows, drift_labels = read_labeled_csv(os.path.join(self.run_dir, "drift.csv"))
        hold_rows, hold_labels = read_labeled_csv(os.path.join(self.run_dir, "holdout.csv"))

        with ReflexClient(c.scoring, attempt_timeout_ms=1000, max_attempts=4, curve=c.client_curve) as client:
            batch = self.stream(client, clean_rows, clean_labels, 0)
            self.assertEqual(c.status()["current_version"], 0, "no heal may run on clean rows")

            def healed_and_converged():
                s = c.status()
                return s and s["current_version"] > 0 and c.converged_on(s["current_version"])

            batch = self.stream(client, drift_rows, drift_labels, batch, stop_when=healed_and_converged)
            c.wait(healed_and_converged, 60, "a heal and all replicas on its version")
            code, history, err = c.ctl("history")
            self.assertEqual(code, 0, err)
            heals = [v for v in history["versions"] if v["reason"].startswith("heal:")]
            self.assertTrue(heals, "no healed version in %s" % history)
            # The heal controller names the signal that started the episode: FIDI, or the prior
            # estimate, which a covariate drift that moves the model's posteriors trips first.
            self.assertRegex(heals[0]["reason"], r"^heal: (fidi z|prior estimate)",
                             "the heal names no label-free drift signal: %s" % heals[0])

            # Stop further heals so the measurements below see one version each.
            self.assertEqual(c.ctl("freeze")[0], 0)
            healed = c.status()["current_version"]
            c.wait(lambda: c.converged_on(healed), 20, "every replica on v%d" % healed)
            healed_acc, versions = self.accuracy(client, hold_rows, hold_labels)
            self.assertEqual(versions, {healed})

            code, body, err = c.ctl("rollback")
            self.assertEqual(code, 0, err)
            rolled = body["version"]
            previous = body["weights_of"]
            record = {v["version"]: v for v in c.ctl("history")[1]["versions"]}
            self.assertEqual(previous, record[healed]["parent"], "rollback must restore the version healed from")
            c.wait(lambda: c.converged_on(rolled), 20, "every replica on the rollback version v%d" % rolled)
            if previous != 0:  # measure the frozen model itself
                self.assertEqual(c.ctl("pin", "0")[0], 0)
                frozen_version = c.status()["current_version"]
                c.wait(lambda: c.converged_on(frozen_version), 20, "every replica on v0's weights")
            frozen_acc, _ = self.accuracy(client, hold_rows, hold_labels)

        print("held-out drifted accuracy: frozen %.3f, healed v%d %.3f (batches streamed %d)" %
              (frozen_acc, healed, healed_acc, batch), file=sys.stderr)
        self.assertEqual(self.failures, [], "requests failed during the run")
        self.assertGreater(healed_acc, frozen_acc)
        for name, p in c.procs.items():
            self.assertTrue(p.alive(), "%s died:\n%s" % (name, p.tail()))
        # SIGTERM stops every process cleanly (exit 0): replicas answer what they accepted first.
        self.stop_codes = c.stop()
        self.assertEqual(self.stop_codes, {name: 0 for name in self.stop_codes})


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--repo", required=True)
    ARGS, rest = parser.parse_known_args()
    ARGS.bin = os.path.abspath(ARGS.bin)
    ARGS.repo = os.path.abspath(ARGS.repo)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
