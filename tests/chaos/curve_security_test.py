"""Security: CURVE on every ZeroMQ socket of a real cluster (issue 5, "Security").

Keys come from `reflexctl keygen` (the harness, plus an intruder pair here) into <run>/keys (the services' working folder, so the default
[security] paths of configs/*.toml apply): coordinator, replica (shared by the replicas),
operator, client, and an intruder pair that is in no allow-list. The coordinator and the
replicas run with curve on (the default); the healer has no ZeroMQ socket.
Asserted, with a steady CURVE client load running throughout (zero failed requests):
  - keygen writes a 40-character Z85 public key and a 0600 secret key;
  - control: reflexctl with the operator key works; without keys, and with the intruder's
    (well-formed but unlisted) key, it gets no reply (exit 3), and the coordinator did nothing;
  - scoring: the listed client is scored; a plain client and a CURVE client with the intruder's
    key get nothing (no reply, not even an error);
  - weight bus, subscriber side: a SUB with the intruder key (and the coordinator's real public
    key) hears nothing, while one with the replica key hears heartbeats;
  - weight bus, publisher side: replica-3 is restarted with its weights_publish pointed at an
    impostor: a CURVE server with the intruder's key that publishes well-formed, correctly
    sealed updates of a higher epoch and version (99/999) and matching heartbeats. Each of
    the replica's handshakes with it fails (counted by a socket monitor on the impostor), the
    replica never applies v999, and it serves the fleet's version (its snapshot channel still
    reaches the real coordinator).

  curve_security_test.py --bin build/bin
"""
import os
import stat
import subprocess
import threading
import time

import zmq
import zmq.utils.monitor

from bus_tools import adapter_weight_count, encode_adapter_update, encode_heartbeat
from chaos_common import ARGS, ChaosTest, ReflexClient, ReflexError, free_port, parse_args_and_run
from reflex_client import load_curve

IMPOSTOR_EPOCH, IMPOSTOR_VERSION = 99, 999


def keygen(keys, name):
    p = subprocess.run([os.path.join(ARGS.bin, "reflexctl"), "keygen", "--out", keys, name],
                       capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        raise AssertionError("reflexctl keygen %s failed: %s" % (name, p.stderr))
    return p.stdout


def read_key(path):
    with open(path) as f:
        return [l.strip() for l in f if l.strip() and not l.startswith("#")][0]


class Impostor(threading.Thread):
    """A CURVE-server PUB with the wrong key, publishing forged updates; counts failed handshakes."""

    def __init__(self, endpoint, public, secret, width, hidden):
        super().__init__(daemon=True)
        self.endpoint, self.public, self.secret = endpoint, public, secret
        self.width, self.hidden = width, hidden
        self.handshake_failures = 0
        self.handshakes_ok = 0
        self.sent = 0
        self._halt = threading.Event()
        self._ready = threading.Event()

    def run(self):
        ctx = zmq.Context()
        pub = ctx.socket(zmq.PUB)
        pub.setsockopt(zmq.LINGER, 0)
        pub.curve_server = True
        pub.curve_publickey = self.public.encode()
        pub.curve_secretkey = self.secret.encode()
        mon = pub.get_monitor_socket()
        pub.bind(self.endpoint)
        self._ready.set()
        weights = [0.01] * adapter_weight_count(self.width, self.hidden)
        seq = 0
        try:
            while not self._halt.is_set():
                seq += 1
                pub.send_multipart([b"adapter", encode_adapter_update(
                    seq, IMPOSTOR_VERSION, 0, IMPOSTOR_EPOCH, self.width, self.hidden, weights)])
                pub.send_multipart([b"heartbeat", encode_heartbeat("coordinator", IMPOSTOR_EPOCH, seq,
                                                                    IMPOSTOR_VERSION)])
                self.sent += 2
                while mon.poll(0):
                    ev = zmq.utils.monitor.recv_monitor_message(mon)
                    if ev["event"] in (zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL, zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL,
                                       zmq.EVENT_HANDSHAKE_FAILED_AUTH):
                        self.handshake_failures += 1
                    elif ev["event"] == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                        self.handshakes_ok += 1
                self._halt.wait(0.1)
        finally:
            pub.disable_monitor()
            mon.close(0)
            pub.close(0)
            ctx.term()

    def stop(self):
        self._halt.set()
        self.join(timeout=10)


class CurveEverywhere(ChaosTest):
    def setUp(self):
        super().setUp()
        # The harness made coordinator, replica, operator and client pairs (reflexctl keygen) and
        # the allow-list folders in <run>/keys: CURVE is on by default. Only the intruder is new.
        self.keys = os.path.join(self.run_dir, "keys")
        keygen(self.keys, "intruder")
        c = self.cluster
        c.ctl_args = []  # ctl_as() chooses the keys of each call
        c.ctl_extra = ["--curve-keys", self.keys]
        self.client_curve = load_curve(os.path.join(self.keys, "replica.pub"), os.path.join(self.keys, "client"))
        self.intruder_curve = load_curve(os.path.join(self.keys, "replica.pub"), os.path.join(self.keys, "intruder"))

    def ctl_as(self, extra, *args):
        c = self.cluster
        saved, c.ctl_extra = c.ctl_extra, extra
        try:
            return c.ctl(*args, timeout_ms=1500)
        finally:
            c.ctl_extra = saved

    def nothing_back(self, curve):
        with ReflexClient(self.cluster.scoring, attempt_timeout_ms=700, max_attempts=3, curve=curve) as client:
            try:
                client.score(self.drift_rows[:3], timeout_ms=2500)
            except ReflexError as e:
                return str(e)
        return None

    def listen_bus(self, key_name, seconds=2.0):
        """Messages a SUB with keys/<key_name> hears on the coordinator's PUB in `seconds`."""
        ctx = zmq.Context()
        sub = ctx.socket(zmq.SUB)
        sub.setsockopt(zmq.LINGER, 0)
        sub.curve_serverkey = read_key(os.path.join(self.keys, "coordinator.pub")).encode()
        sub.curve_publickey = read_key(os.path.join(self.keys, key_name + ".pub")).encode()
        sub.curve_secretkey = read_key(os.path.join(self.keys, key_name + ".key")).encode()
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        sub.connect(self.cluster.weights_publish)
        n, deadline = 0, time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                if sub.poll(100):
                    sub.recv_multipart()
                    n += 1
        finally:
            sub.close(0)
            ctx.term()
        return n

    def test_only_listed_keys_get_in_anywhere(self):
        c = self.cluster
        pub_key = read_key(os.path.join(self.keys, "operator.pub"))
        self.assertEqual(len(pub_key), 40)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(self.keys, "operator.key")).st_mode), 0o600)

        c.start(timeout_s=90)
        load = self.start_load(curve=self.client_curve)
        v1 = c.new_version()
        c.wait_converged(v1, 30)

        # control endpoint
        code, _, err = self.ctl_as([], "rollback", "0")
        self.assertEqual(code, 3, "reflexctl without keys must get no reply: %s" % err)
        code, _, err = self.ctl_as(["--curve-keys", self.keys, "--curve-name", "intruder"], "rollback", "0")
        self.assertEqual(code, 3, "an unlisted operator key must get no reply: %s" % err)
        self.assertEqual(c.status()["current_version"], v1, "the refused commands changed nothing")

        # scoring
        self.assertIsNotNone(self.nothing_back(None), "a plain client must get nothing")
        self.assertIsNotNone(self.nothing_back(self.intruder_curve), "an unlisted client key must get nothing")

        # weight bus, subscriber side
        self.assertEqual(self.listen_bus("intruder"), 0, "an unlisted subscriber must hear nothing")
        self.assertGreater(self.listen_bus("replica"), 0, "a listed subscriber hears heartbeats")

        # weight bus, publisher side: an impostor with a well-formed, sealed, newer update
        status = c.status()
        history = c.ctl("history")[1]["versions"]
        del status, history
        width, hidden = self.adapter_dims()
        impostor = Impostor("tcp://127.0.0.1:%d" % free_port(), read_key(os.path.join(self.keys, "intruder.pub")),
                            read_key(os.path.join(self.keys, "intruder.key")), width, hidden)
        impostor.start()
        self.addCleanup(impostor.stop)
        impostor._ready.wait(5)
        c.kill9("replica-3")
        c.replica_overrides[3] = {"weights_publish": impostor.endpoint}
        c.start_replica(3)
        c.wait(lambda: c.all_ready() and c.converged_on(v1), 60, "replica-3 ready on v%d via its snapshot" % v1)
        time.sleep(3.0)  # the impostor keeps publishing; the replica keeps failing its handshake
        impostor.stop()
        with ReflexClient([c.scoring[2]], attempt_timeout_ms=1000, max_attempts=2, curve=self.client_curve) as direct:
            self.assertEqual(direct.score(self.drift_rows[:3], timeout_ms=3000).version, v1)
        applied = [e["version"] for e in c.events("replica-3", "version_applied")]
        self.assertNotIn(IMPOSTOR_VERSION, applied)
        self.assertGreater(impostor.sent, 20)
        self.assertGreater(impostor.handshake_failures, 0, "the replica's handshakes with the impostor must fail")
        self.assertEqual(impostor.handshakes_ok, 0)
        load.stop()
        self.assertNotIn(IMPOSTOR_VERSION, load.versions)
        self.assertEqual(load.failed, 0, "failed requests: %s" % load.errors)
        self.record("CURVE: intruders (ctl, scoring, bus sub, bus pub)", load, None,
                    "impostor sent %d msgs, %d handshakes refused, 0 applied" %
                    (impostor.sent, impostor.handshake_failures))

    def adapter_dims(self):
        """(width, hidden) of the bundle's adapter, read from a bus heartbeat-free source: the
        registry's v0 file header (version_file.h: magic, format, 3 x u64, then width, hidden)."""
        import struct
        path = os.path.join(self.run_dir, "registry", "v%020d.rfx" % 0)
        with open(path, "rb") as f:
            head = f.read(40)
        return struct.unpack("<II", head[32:40])


if __name__ == "__main__":
    parse_args_and_run()
