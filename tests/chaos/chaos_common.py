"""Shared parts of the chaos tests (tests/chaos/*_test.py) and of tools/chaos/reflex-chaos.

  ChaosCluster   cluster_harness.Cluster plus kill -9, restarts, per-replica overrides (weight-bus
                 endpoints through a proxy, a replica inside a network namespace), JSON log
                 events and readiness probes.
  Load           a thread that streams drifted rows to the replicas during a fault and counts
                 requests sent, failed, and the adapter versions that scored them.
  ChaosTest      a unittest.TestCase base: a fresh bundle and cluster per test (CURVE and TLS
                 on, keys made by the harness, unless SECURE = False), everything stopped in
                 tearDown, a result row recorded for reflex-chaos.

Bounded everywhere: every wait has a timeout, the load thread has a maximum duration, every
process is stopped (SIGTERM, then SIGKILL) in tearDown.
Needs /usr/bin/python3 (Debian's python3-zmq and python3-msgpack).
"""
import argparse
import csv
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_DEFAULT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO_DEFAULT, "tests", "cluster"))
sys.path.insert(0, os.path.join(REPO_DEFAULT, "tools", "python"))

from cluster_harness import Cluster, Process, free_port  # noqa: E402
from reflex_client import ReflexClient, ReflexError  # noqa: E402

ARGS = argparse.Namespace(bin=None, repo=REPO_DEFAULT)
RESULTS_ENV = "REFLEX_CHAOS_RESULTS"  # a file: each test appends one JSON line (reflex-chaos)


def parse_args_and_run():
    """The main of every chaos test file: --bin DIR [--repo DIR] [unittest args]."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--repo", default=REPO_DEFAULT)
    args, rest = parser.parse_known_args()
    ARGS.bin = os.path.abspath(args.bin)
    ARGS.repo = os.path.abspath(args.repo)
    program = unittest.main(argv=[sys.argv[0]] + rest, verbosity=2, exit=False)
    result = program.result
    if not result.wasSuccessful():
        sys.exit(1)
    # Every test skipped (no root, no ip netns...): exit 77, which CTest reports as Skipped
    # (SKIP_RETURN_CODE), never as Passed.
    if result.testsRun > 0 and len(result.skipped) == result.testsRun:
        sys.exit(77)
    sys.exit(0)


def read_rows(path, limit=None):
    """Feature rows of a bundle CSV (the label column dropped)."""
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        label = header.index("label") if "label" in header else -1
        rows = []
        for fields in reader:
            rows.append([float(v) for i, v in enumerate(fields) if i != label])
            if limit and len(rows) >= limit:
                break
    return rows


def http_status(port, path="/readyz", host="127.0.0.1", timeout=1.0):
    """HTTP status of GET http://host:port/path; None when nothing answers."""
    try:
        with urllib.request.urlopen("http://%s:%d%s" % (host, port, path), timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (OSError, urllib.error.URLError):
        return None


def _fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def read_version_file(path):
    """A registry version file (core/version_file.h) as a dict; raises ValueError when damaged."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"RFXV" or _fnv1a64(data[:-8]) != struct.unpack("<Q", data[-8:])[0]:
        raise ValueError("%s: not an intact version file" % path)
    o = 8
    version, parent, epoch, width, hidden, checksum, count = struct.unpack_from("<QQQIIQQ", data, o)
    o += struct.calcsize("<QQQIIQQ")
    weights = list(struct.unpack_from("<%df" % count, data, o))
    o += 4 * count
    (n,) = struct.unpack_from("<I", data, o)
    reason = data[o + 4:o + 4 + n].decode()
    o += 4 + n
    (created,) = struct.unpack_from("<q", data, o)
    return {"version": version, "parent": parent, "epoch": epoch, "width": width, "hidden": hidden,
            "weights": weights, "reason": reason, "created_unix_ms": created}


def write_version_file(folder, rec):
    """Writes rec (as read_version_file returns, no metrics) as <folder>/v<version>.rfx, sealed."""
    header = struct.pack("<QQQII", rec["version"], rec["parent"], rec["epoch"], rec["width"], rec["hidden"])
    packed = struct.pack("<%df" % len(rec["weights"]), *rec["weights"])
    body = b"RFXV" + struct.pack("<I", 1) + header + struct.pack("<Q", _fnv1a64(header + packed))
    body += struct.pack("<Q", len(rec["weights"])) + packed
    reason = rec["reason"].encode()
    body += struct.pack("<I", len(reason)) + reason + struct.pack("<q", rec["created_unix_ms"]) + struct.pack("<I", 0)
    body += struct.pack("<Q", _fnv1a64(body))
    path = os.path.join(folder, "v%020d.rfx" % rec["version"])
    with open(path + ".tmp", "wb") as f:
        f.write(body)
    os.replace(path + ".tmp", path)


class Load(threading.Thread):
    """Streams rows in batches until stop() or max_s, counting sent/failed requests.

    per_endpoint=False: one failover client over every endpoint (Lazy Pirate retries on another
    replica), which is what a real client does. per_endpoint=True: one client per endpoint used
    in turn, so `by_endpoint[endpoint]` lists, in order, the versions that one replica served.
    """

    def __init__(self, endpoints, rows, batch=25, per_endpoint=False, max_s=300.0, pause_s=0.02,
                 curve=None, timeout_ms=5000):
        """Every batch starts with the same canary row (rows[0]); `canary[version]` collects the
        probabilities it got from each version, so ChaosTest can check which weights scored."""
        super().__init__(daemon=True)
        self.canary_row = rows[0] if rows else None
        self.canary = {}
        self.endpoints = list(endpoints)
        self.rows = rows
        self.batch = batch
        self.per_endpoint = per_endpoint
        self.max_s = max_s
        self.pause_s = pause_s
        self.curve = curve
        self.timeout_ms = timeout_ms
        self.sent = 0
        self.failed = 0
        self.errors = []
        self.versions = []  # distinct versions, in the order first seen
        self.by_endpoint = {e: [] for e in self.endpoints}
        self._halt = threading.Event()
        self._lock = threading.Lock()

    def run(self):
        deadline = time.monotonic() + self.max_s
        if self.per_endpoint:
            clients = [(e, ReflexClient([e], attempt_timeout_ms=1000, max_attempts=3, curve=self.curve))
                       for e in self.endpoints]
        else:
            clients = [(None, ReflexClient(self.endpoints, attempt_timeout_ms=1000, max_attempts=4,
                                           curve=self.curve))]
        try:
            start, k = 0, 0
            while not self._halt.is_set() and time.monotonic() < deadline:
                endpoint, client = clients[k % len(clients)]
                k += 1
                chunk = [self.canary_row] + self.rows[start:start + self.batch - 1]
                start = (start + self.batch) % max(1, len(self.rows) - self.batch)
                try:
                    result = client.score(chunk, timeout_ms=self.timeout_ms)
                    with self._lock:
                        self.sent += 1
                        if result.probabilities:
                            self.canary.setdefault(result.version, set()).add(round(result.probabilities[0], 5))
                        if result.version not in self.versions:
                            self.versions.append(result.version)
                        if endpoint is not None:
                            seen = self.by_endpoint[endpoint]
                            if not seen or seen[-1] != result.version:
                                seen.append(result.version)
                except ReflexError as e:
                    with self._lock:
                        self.sent += 1
                        self.failed += 1
                        if len(self.errors) < 20:
                            self.errors.append("%s: %s" % (endpoint or "any", e))
                self._halt.wait(self.pause_s)
        finally:
            for _, c in clients:
                c.close()

    def stop(self):
        self._halt.set()
        self.join(timeout=30)
        return self

    def snapshot(self):
        with self._lock:
            return self.sent, self.failed


class ChaosCluster(Cluster):
    """Cluster with the controls a chaos test needs. Dead processes move from procs to dead,
    so Cluster.wait() does not treat a deliberate kill as a failure."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.dead = {}
        self.replica_probe = {}        # replica index -> probe port
        self.replica_overrides = {}    # replica index -> {"key": value} in [replica]
        self.replica_prefix = {}       # replica index -> argv prefix (ip netns exec NS)
        self.extra.setdefault("coordinator", [])  # extra --set for the coordinator (win: last)
        self.ctl_extra = []            # extra reflexctl options
        self.seed_versions = 0         # > 0: registry seeded with v1..vN of distinct weights (start)
        self.weights_of = {0: 0}       # published version -> the seeded version whose weights it has
        self._next_seed = 0

    def ctl(self, *args, timeout_ms=3000):
        argv = [os.path.join(self.bin, "reflexctl"), "--endpoint", self.control, "--timeout-ms",
                str(timeout_ms), "--json"] + self.ctl_args + self.ctl_extra + list(args)
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_ms / 1000 + 10)
        body = None
        if p.returncode == 0 and p.stdout.strip():
            body = json.loads(p.stdout)
        return p.returncode, body, p.stderr

    def start_replica(self, i):
        port = self.replica_probe.setdefault(i, free_port())
        sets = ["replica.id=replica-%d" % i, "replica.coordinator_port=%d" % self.actor_port,
                "replica.scoring_endpoint=" + self.scoring[i - 1],
                "replica.weights_publish=" + self.weights_publish,
                "replica.weights_snapshot=" + self.weights_snapshot,
                "replica.metrics_address=" + self.replica_metrics[i - 1],
                "replica.probe_port=%d" % port,
                "replica.summary_rows=100", "replica.summary_interval_ms=300", "replica.reconnect_ms=300"]
        sets += self.extra.get("replica", [])
        sets += ["replica.%s=%s" % kv for kv in self.replica_overrides.get(i, {}).items()]
        argv = self.replica_prefix.get(i, []) + [os.path.join(self.bin, "reflex-replica"), "--config",
                                                 self._config("replica")]
        if not self.secure:
            sets = ["security.insecure=true"] + sets
        for s in sets:
            argv += ["--set", s]
        name = "replica-%d" % i
        self.dead.pop(name, None)
        self.procs[name] = Process(name, argv, self.run_dir, os.path.join(self.run_dir, name + ".log"))
        return self.procs[name]

    def start_healer(self, i, extra=None):
        """As Cluster.start_healer, plus the --set overrides in extra["healer"] and `extra`."""
        self.healer_probe = getattr(self, "healer_probe", {})
        port = self.healer_probe.setdefault(i, free_port())
        sets = ["healer.id=healer-%d" % i, "healer.coordinator_port=%d" % self.actor_port,
                "healer.metrics_address=127.0.0.1:%d" % free_port(), "healer.probe_port=%d" % port,
                "healer.heartbeat_ms=300", "healer.reconnect_ms=300", "healer.device=cpu"]
        sets += self.extra.get("healer", []) + list(extra or [])
        return self._start("healer-%d" % i, "healer", sets)

    def start(self, timeout_s=60):
        """As Cluster.start; with seed_versions = N, first lets the coordinator make its registry,
        stops it, adds v1..vN whose weights differ from v0's (output offset b2 += 0.05 k) and starts
        it again (one extra epoch), so new_version() can publish distinct weights each time."""
        if self.seed_versions > 0:
            self.start_coordinator()
            self.wait(lambda: self.status() is not None, timeout_s, "the coordinator to make its registry")
            self.procs.pop("coordinator").stop()
            self.seed_registry(self.seed_versions)
        super().start(timeout_s)

    def seed_registry(self, n):
        folder = os.path.join(self.run_dir, "registry")
        v0 = read_version_file(os.path.join(folder, "v%020d.rfx" % 0))
        with open(os.path.join(folder, "EPOCH")) as f:
            epoch = int(f.read().strip())
        width, hidden = v0["width"], v0["hidden"]
        b2 = 2 * hidden * width + hidden
        for k in range(1, n + 1):
            weights = list(v0["weights"])
            for j in range(b2, b2 + width):
                weights[j] += 0.05 * k
            write_version_file(folder, dict(v0, version=k, parent=0, epoch=epoch, weights=weights,
                                            reason="chaos: distinct weights %d" % k,
                                            created_unix_ms=int(time.time() * 1000)))

    def kill9(self, name):
        p = self.procs.pop(name)
        p.kill()
        self.dead[name] = p
        return p

    def stop(self):
        codes = super().stop()
        for p in self.dead.values():
            if not p.log.closed:
                p.log.close()
        return codes

    def events(self, name, event=None):
        """JSON log events of a process (every life of it: logs are appended), in order."""
        p = self.procs.get(name) or self.dead.get(name)
        out = []
        try:
            with open(p.log_path, "rb") as f:
                for line in f:
                    line = line.strip()
                    if not line.startswith(b"{"):
                        continue
                    try:
                        e = json.loads(line)
                    except ValueError:
                        continue
                    if event is None or e.get("event") == event:
                        out.append(e)
        except OSError:
            pass
        return out

    def wait_event(self, name, event, count=1, timeout_s=30, poll_s=0.02):
        """Waits until `name` logged `event` at least `count` times; returns the events."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = self.events(name, event)
            if len(found) >= count:
                return found
            time.sleep(poll_s)
        raise AssertionError("timed out after %ss waiting for %d '%s' in %s's log:\n%s" %
                             (timeout_s, count, event, name, (self.procs.get(name) or self.dead[name]).tail(20)))

    def replica_versions(self):
        s = self.status()
        return {r["id"]: r["version"] for r in s["replicas"] if r.get("alive")} if s else {}

    def wait_converged(self, version, timeout_s, what=None):
        t0 = time.monotonic()
        self.wait(lambda: self.converged_on(version), timeout_s, what or "every replica on v%d" % version)
        return time.monotonic() - t0

    def request_heal(self, timeout_s=60):
        """`reflexctl heal`, repeated while the coordinator has too few sampled rows (NotReady)."""
        deadline = time.monotonic() + timeout_s
        while True:
            code, body, err = self.ctl("heal")
            if code == 0:
                return body
            if "NotReady" not in err or time.monotonic() > deadline:
                raise AssertionError("reflexctl heal failed: %s" % err)
            time.sleep(0.5)

    def new_version(self):
        """A new fleet version without a heal: `rollback K` publishes seeded version K's weights
        as the next version number, K = 1, 2, ... (cycling over seed_versions), so every new version
        has weights of its own; without seeded versions, v0's weights. Returns the new version."""
        k = 0
        if self.seed_versions > 0:
            k = 1 + self._next_seed % self.seed_versions
            self._next_seed += 1
        code, body, err = self.ctl("rollback", str(k))
        if code != 0:
            raise AssertionError("reflexctl rollback %d failed: %s" % (k, err))
        self.weights_of[body["version"]] = k
        return body["version"]


def make_bundle(bin_dir, run_dir, scenario="recalibration", seed=1):
    subprocess.run([os.path.join(bin_dir, "reflex-bundle"), "--scenario", scenario, "--seed", str(seed),
                    "--out", run_dir], check=True, capture_output=True, timeout=180)


class ChaosTest(unittest.TestCase):
    """One fresh bundle and run folder per test; stops every process in tearDown."""

    REPLICAS = 3
    HEALERS = 1
    # Secure by default (CURVE and TLS, keys made by the harness). A test that must reach a
    # socket in plain text (a bus relay, raw frames) sets SECURE = False: insecure mode, explicit.
    SECURE = True
    # > 0: the registry holds that many versions of distinct weights, and new_version() publishes
    # them in turn (ChaosCluster.start); record() then checks that each version's canary score
    # is its own. 0 keeps the registry as the coordinator makes it (tests counting versions).
    DISTINCT_VERSIONS = 0
    POLICY = {"mode": "manual"}  # no automatic heal or rollback: the tests steer versions themselves

    def setUp(self):
        if not ARGS.bin:
            self.skipTest("run with --bin DIR")
        self.run_dir = tempfile.mkdtemp(prefix="reflex-chaos-")
        make_bundle(ARGS.bin, self.run_dir)
        self.drift_rows = read_rows(os.path.join(self.run_dir, "drift.csv"), limit=2000)
        self.cluster = self.make_cluster()
        self.cluster.seed_versions = self.DISTINCT_VERSIONS
        self.cleanups_run = False

    def make_cluster(self):
        return ChaosCluster(ARGS.bin, ARGS.repo, self.run_dir, replicas=self.REPLICAS, healers=self.HEALERS,
                            policy=dict(self.POLICY), secure=self.SECURE)


    def tearDown(self):
        load = getattr(self, "load", None)
        if load is not None and load.is_alive():
            load.stop()
        codes = self.cluster.stop()
        if self._failed():
            for name, p in list(self.cluster.procs.items()) + list(self.cluster.dead.items()):
                print("---- %s (exit %s)\n%s" % (name, codes.get(name), p.tail(30)), file=sys.stderr)
            print("run folder kept: %s" % self.run_dir, file=sys.stderr)
        else:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def _failed(self):
        outcome = getattr(self, "_outcome", None)
        result = getattr(outcome, "result", None)
        errors = getattr(result, "errors", []) + getattr(result, "failures", [])
        return any(test is self for test, _ in errors)

    def expect_coordinator_refused(self, *needles):
        """Starts the coordinator, which must exit non-zero within 60 s, its last log lines
        saying each of `needles`."""
        c = self.cluster
        p = c.start_coordinator()
        try:
            code = p.proc.wait(timeout=60)
        finally:
            c.procs.pop("coordinator", None)
            c.dead["coordinator"] = p
            p.stop()
        self.assertNotEqual(code, 0, "the coordinator started although it should refuse:\n" + p.tail())
        text = p.tail(5)
        for needle in needles:
            self.assertIn(needle, text)

    def start_load(self, **kwargs):
        kwargs.setdefault("curve", self.cluster.client_curve)
        self.load = Load(kwargs.pop("endpoints", self.cluster.scoring), self.drift_rows, **kwargs)
        self.load.start()
        return self.load

    def check_weights_served(self, load):
        """Every version scored the canary row the same way wherever it was served, and versions of
        different weights (ChaosCluster.weights_of) scored it differently: a replica serving the
        wrong weights under a version number is caught. Returns a note for the result row."""
        weights_of = self.cluster.weights_of
        by_weights = {}
        for version, probs in load.canary.items():
            self.assertLessEqual(max(probs) - min(probs), 2e-5,
                                 "v%d scored the canary row differently: %s" % (version, sorted(probs)))
            if version in weights_of:
                by_weights.setdefault(weights_of[version], set()).add(round(min(probs), 4))
        seen = sorted(by_weights.items())
        for i, (k, probs) in enumerate(seen):
            for k2, probs2 in seen[i + 1:]:
                self.assertFalse(probs & probs2, "weights %d and %d gave the same canary score" % (k, k2))
        return "%d versions, each scored by its own weights" % len(load.canary) if len(by_weights) > 1 else ""

    def record(self, fault, load, converge_s, note=""):
        """Prints the result row and appends it to $REFLEX_CHAOS_RESULTS for reflex-chaos, after
        check_weights_served."""
        checked = self.check_weights_served(load)
        if checked:
            note = "%s; %s" % (note, checked) if note else checked
        row = {"fault": fault, "sent": load.sent, "failed": load.failed, "versions": load.versions,
               "converge_s": None if converge_s is None else round(converge_s, 2), "note": note}
        print("CHAOS_RESULT %s" % json.dumps(row), file=sys.stderr)
        path = os.environ.get(RESULTS_ENV)
        if path:
            with open(path, "a") as f:
                f.write(json.dumps(row) + "\n")
