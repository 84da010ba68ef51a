#!/usr/bin/python3
"""deploy/local/cluster.sh on a real machine: secure by default, no fixed ports, a ready check
that cannot pass against another cluster (issue 19).

Asserted:
  - two clusters started one after the other with default options get disjoint port ranges and
    both come up ready (the old script used fixed ports: the second collided with the first);
  - each run dir holds CURVE keys (0600 secrets) and TLS certificates, every service logs
    curve and tls on and no insecure_mode warning;
  - `--base-port` of a range a live cluster uses is refused, naming the range;
  - a run dir with other keys pointed at the first cluster's ports (its cluster.env copied)
    cannot talk to that coordinator: `status` reports it unreachable.
Each cluster is 1 replica and no healer; both are stopped (cluster.sh down) whatever happens.

  cluster_script_test.py --repo REPO --bin BUILD/bin
"""
import argparse
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

ARGS = argparse.Namespace(repo=None, bin=None)


def script(repo, *args, timeout=240):
    return subprocess.run([os.path.join(repo, "deploy", "local", "cluster.sh")] + list(args),
                          capture_output=True, text=True, timeout=timeout)


def cluster_env(run_dir):
    with open(os.path.join(run_dir, "cluster.env")) as f:
        return dict(line.strip().split("=", 1) for line in f if "=" in line)


class ClusterScript(unittest.TestCase):
    def setUp(self):
        if not ARGS.bin or not os.path.exists(os.path.join(ARGS.bin, "reflex-replica")):
            self.skipTest("needs --bin with the service binaries")
        if shutil.which("openssl") is None:
            self.skipTest("needs openssl (deploy/install-deps.sh)")
        self.top = tempfile.mkdtemp(prefix="reflex-cluster-sh-")
        self.runs = []

    def tearDown(self):
        for run in self.runs:
            script(ARGS.repo, "down", "--run-dir", run, timeout=60)
        shutil.rmtree(self.top, ignore_errors=True)

    def up(self, name, *extra):
        run = os.path.join(self.top, name)
        self.runs.append(run)
        p = script(ARGS.repo, "up", "--run-dir", run, "--bin", ARGS.bin, "--replicas", "1", "--healers", "0",
                   "--timeout", "90", *extra)
        return run, p

    def test_TwoDefaultClustersGetDisjointPortsRunSecureAndCannotBeConfused(self):
        a, pa = self.up("a")
        self.assertEqual(pa.returncode, 0, pa.stderr[-3000:])
        b, pb = self.up("b")
        self.assertEqual(pb.returncode, 0, pb.stderr[-3000:])
        base_a, base_b = int(cluster_env(a)["base_port"]), int(cluster_env(b)["base_port"])
        self.assertGreaterEqual(abs(base_a - base_b), 400, "port ranges overlap: %d, %d" % (base_a, base_b))
        self.assertNotEqual(cluster_env(a)["cluster_id"], cluster_env(b)["cluster_id"])

        for run in (a, b):
            keys = os.path.join(run, "keys")
            for f in ("coordinator.key", "replica.key", "operator.key", "tls/ca.pem", "tls/replica.pem"):
                self.assertTrue(os.path.exists(os.path.join(keys, f)), f)
            self.assertEqual(stat.S_IMODE(os.stat(os.path.join(keys, "coordinator.key")).st_mode), 0o600)
            for log in ("coordinator.log", "replica-1.log"):
                with open(os.path.join(run, "logs", log)) as f:
                    text = f.read()
                self.assertIn('"curve":true', text.replace(" ", ""), log)
                self.assertIn('"tls":true', text.replace(" ", ""), log)
                self.assertNotIn("insecure_mode", text, log)
            status = script(ARGS.repo, "status", "--run-dir", run, "--bin", ARGS.bin, timeout=60)
            self.assertIn("replica-1", status.stdout)
            self.assertNotIn("unreachable", status.stdout)

        taken = script(ARGS.repo, "up", "--run-dir", os.path.join(self.top, "c"), "--bin", ARGS.bin,
                       "--replicas", "1", "--healers", "0", "--base-port", str(base_a))
        self.runs.append(os.path.join(self.top, "c"))
        self.assertNotEqual(taken.returncode, 0)
        self.assertIn("--base-port %d" % base_a, taken.stderr)
        self.assertIn("in use", taken.stderr)

        # A run dir with its own keys but cluster a's ports: a's coordinator does not answer it.
        impostor = os.path.join(self.top, "impostor")
        os.makedirs(impostor)
        shutil.copy(os.path.join(a, "cluster.env"), impostor)
        subprocess.run([os.path.join(ARGS.bin, "reflexctl"), "keygen", "--out", os.path.join(impostor, "keys"),
                        "operator"], check=True, capture_output=True, timeout=30)
        shutil.copy(os.path.join(b, "keys", "coordinator.pub"), os.path.join(impostor, "keys"))
        status = script(ARGS.repo, "status", "--run-dir", impostor, "--bin", ARGS.bin, timeout=60)
        self.assertIn("unreachable", status.stdout)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", required=True)
    parser.add_argument("--bin")
    args, rest = parser.parse_known_args()
    ARGS.repo, ARGS.bin = os.path.abspath(args.repo), args.bin and os.path.abspath(args.bin)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
