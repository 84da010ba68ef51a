"""Starts and stops a Reflex cluster of real processes on 127.0.0.1 for tests (and chaos tests).

Secure by default, like the shipped configs: the cluster makes its CURVE keys (reflexctl keygen:
coordinator, replica, operator, client, with the allow-list folders) and TLS certificates
(deploy/gen-tls.sh) in <run_dir>/keys, the services' working folder, so the default [security]
paths apply; reflexctl talks to it with the operator key and clients use `client_curve`.
Cluster(secure=False) runs with `security.insecure=true` (for tests that must reach a socket in
plain text, e.g. a bus relay); each service then logs its insecure_mode warning.

Every port is ephemeral (asked from the kernel, then handed to the service with --set), every
wait is bounded in time, and stop() sends SIGTERM, then SIGKILL after a grace period, so a test
never leaves a process behind. Logs go to files in the run folder; on failure, tail() shows them.
"""
import json
import os
import random
import signal
import socket
import subprocess
import time


_given_ports = set()


def free_port():
    """A port free now on 127.0.0.1, chosen BELOW the kernel's ephemeral range (32768-60999 by
    default): a port taken from that range could be handed out again, before the service binds
    it, as the local port of some outgoing connection (CAF and ZeroMQ make many). Never the same
    port twice in one test process."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20000, 32000)
        if port in _given_ports:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _given_ports.add(port)
        return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    def __init__(self, name, argv, cwd, log_path):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(argv, cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT)

    def alive(self):
        return self.proc.poll() is None

    def stop(self, grace_s=10.0, sig=signal.SIGTERM):
        if self.alive():
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.log.close()
        return self.proc.returncode

    def kill(self):
        return self.stop(grace_s=0.1, sig=signal.SIGKILL)

    def tail(self, lines=15):
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-lines:]).decode("utf-8", "replace")
        except OSError:
            return ""


def make_keys(bin_dir, repo, keys):
    """CURVE keys and TLS certificates of a test cluster in `keys` (existing files are kept)."""
    for name in ("coordinator", "replica", "operator", "client"):
        if os.path.exists(os.path.join(keys, name + ".key")):
            continue
        subprocess.run([os.path.join(bin_dir, "reflexctl"), "keygen", "--out", keys, name],
                       check=True, capture_output=True, timeout=30)
    for folder, name in (("replicas", "replica"), ("operators", "operator"), ("clients", "client")):
        os.makedirs(os.path.join(keys, folder), exist_ok=True)
        target = os.path.join(keys, folder, name + ".pub")
        if not os.path.exists(target):
            os.link(os.path.join(keys, name + ".pub"), target)
    subprocess.run([os.path.join(repo, "deploy", "gen-tls.sh"), os.path.join(keys, "tls"), "coordinator",
                    "replica", "healer"], check=True, capture_output=True, timeout=60)


class Cluster:
    """A coordinator, healers and replicas sharing one model bundle in `run_dir`."""

    def __init__(self, bin_dir, repo, run_dir, replicas=3, healers=2, policy=None, extra=None, secure=True):
        self.bin = bin_dir
        self.repo = repo
        self.run_dir = run_dir
        self.n_replicas = replicas
        self.n_healers = healers
        self.policy = policy or {}
        self.extra = extra or {}
        self.procs = {}
        self.actor_port = free_port()
        self.control = "tcp://127.0.0.1:%d" % free_port()
        self.weights_publish = "tcp://127.0.0.1:%d" % free_port()
        self.weights_snapshot = "tcp://127.0.0.1:%d" % free_port()
        self.scoring = ["tcp://127.0.0.1:%d" % free_port() for _ in range(replicas)]
        self.replica_metrics = ["127.0.0.1:%d" % free_port() for _ in range(replicas)]
        self.secure = secure
        self.keys = os.path.join(run_dir, "keys")
        self.ctl_args = []       # reflexctl options: --curve-keys DIR when secure
        self.client_curve = None  # what ReflexClient(curve=...) needs to score here
        if secure:
            make_keys(bin_dir, repo, self.keys)
            self.ctl_args = ["--curve-keys", self.keys]
            from reflex_client import load_curve
            self.client_curve = load_curve(os.path.join(self.keys, "replica.pub"), os.path.join(self.keys, "client"))

    def _config(self, service):
        return os.path.join(self.repo, "configs", service + ".toml")

    def _start(self, name, service, sets):
        argv = [os.path.join(self.bin, "reflex-" + service), "--config", self._config(service)]
        if not self.secure:
            sets = ["security.insecure=true"] + list(sets)
        for s in sets:
            argv += ["--set", s]
        self.procs[name] = Process(name, argv, self.run_dir, os.path.join(self.run_dir, name + ".log"))
        return self.procs[name]

    def start_coordinator(self):
        sets = ["coordinator.actor_port=%d" % self.actor_port,
                "coordinator.control_endpoint=" + self.control,
                "coordinator.weights_publish=" + self.weights_publish,
                "coordinator.weights_snapshot=" + self.weights_snapshot,
                "coordinator.metrics_address=127.0.0.1:%d" % free_port(),
                "coordinator.probe_port=%d" % free_port(),
                "coordinator.healer_heartbeat_ms=300",
                "coordinator.heal_timeout_ms=20000"]
        sets += ["policy.%s=%s" % (k, v) for k, v in self.policy.items()]
        sets += self.extra.get("coordinator", [])
        return self._start("coordinator", "coordinator", sets)

    def start_healer(self, i):
        sets = ["healer.id=healer-%d" % i, "healer.coordinator_port=%d" % self.actor_port,
                "healer.metrics_address=127.0.0.1:%d" % free_port(), "healer.probe_port=%d" % free_port(),
                "healer.heartbeat_ms=300", "healer.reconnect_ms=300", "healer.device=cpu"]
        return self._start("healer-%d" % i, "healer", sets)

    def start_replica(self, i):
        sets = ["replica.id=replica-%d" % i, "replica.coordinator_port=%d" % self.actor_port,
                "replica.scoring_endpoint=" + self.scoring[i - 1],
                "replica.weights_publish=" + self.weights_publish,
                "replica.weights_snapshot=" + self.weights_snapshot,
                "replica.metrics_address=" + self.replica_metrics[i - 1],
                "replica.probe_port=%d" % free_port(),
                "replica.summary_rows=100", "replica.summary_interval_ms=300", "replica.reconnect_ms=300"]
        sets += self.extra.get("replica", [])
        return self._start("replica-%d" % i, "replica", sets)

    def start(self, timeout_s=60):
        self.start_coordinator()
        self.wait(lambda: self.status() is not None, timeout_s, "the coordinator to answer reflexctl")
        for i in range(1, self.n_healers + 1):
            self.start_healer(i)
        for i in range(1, self.n_replicas + 1):
            self.start_replica(i)
        self.wait(self.all_ready, timeout_s, "every replica to be ready and every healer to join")

    def stop(self):
        codes = {}
        for name in sorted(self.procs, key=lambda n: (n == "coordinator", n)):
            codes[name] = self.procs[name].stop()
        return codes

    # --- reflexctl ---
    def ctl(self, *args, timeout_ms=3000):
        argv = [os.path.join(self.bin, "reflexctl"), "--endpoint", self.control, "--timeout-ms",
                str(timeout_ms), "--json"] + self.ctl_args + list(args)
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_ms / 1000 + 10)
        body = None
        if p.returncode == 0 and p.stdout.strip():
            body = json.loads(p.stdout)
        return p.returncode, body, p.stderr

    def status(self):
        code, body, _ = self.ctl("status", timeout_ms=1000)
        return body if code == 0 else None

    def all_ready(self):
        s = self.status()
        if not s:
            return False
        replicas = [r for r in s["replicas"] if r.get("alive")]
        healers = [h for h in s["healers"] if h.get("alive")]
        return (len(replicas) >= self.n_replicas and all(r["ready"] for r in replicas)
                and len(healers) >= self.n_healers)

    def converged_on(self, version):
        s = self.status()
        if not s:
            return False
        replicas = [r for r in s["replicas"] if r.get("alive")]
        return len(replicas) >= self.n_replicas and all(r["version"] == version for r in replicas)

    def wait(self, predicate, timeout_s, what):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if predicate():
                return
            for p in self.procs.values():
                if not p.alive():
                    raise AssertionError("%s exited (code %s) while waiting for %s:\n%s" %
                                         (p.name, p.proc.returncode, what, p.tail()))
            time.sleep(0.1)
        raise AssertionError("timed out after %ss waiting for %s; coordinator log:\n%s" %
                             (timeout_s, what, self.procs["coordinator"].tail(25)))
