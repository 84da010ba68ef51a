"""Bad input (issue 5, "Bad input"): every malformed thing a user can send or configure gets a
clear error, no server crashes, and nothing already accepted is lost.

A coordinator + 2 replicas run under a steady client load (which must see zero failures) while
this test sends, over real sockets:
  - to a replica's scoring endpoint: bytes that are not msgpack, a wrong envelope, an unknown
    message type and protocol version, wrong field types, a missing field, a wrong feature
    count, a ragged row buffer, NaN and Inf, zero rows, too many rows, a 17 MiB frame, a passed
    deadline, a label for an unknown request, and a flood of 3000 requests sent without waiting
    (the server must shed with Overloaded rather than queue without bound, and answer every one);
  - to the coordinator's control endpoint: garbage, and reflexctl commands with an out-of-range
    policy value, an unknown policy key and a version that does not exist;
and starts services with: an invalid rules file, a TorchScript file of the wrong shape, a
non-integer config value, an unknown config key, an out-of-range policy value, a broken TOML
file, and CURVE switched on without keys.
Each case records the error it saw; the test prints the table (BAD_INPUT_TABLE) for
tools/chaos/README.md and asserts that each error is specific, that both replicas and the
coordinator are still alive, and that the load lost nothing.

  bad_input_test.py --bin build/bin
"""
import os
import shutil
import struct
import subprocess
import sys
import time

import msgpack
import zmq

from chaos_common import ARGS, ChaosTest, free_port, parse_args_and_run
from reflex_client import ERROR_NAMES, decode_score_reply, load_curve


def envelope(kind, body, version=1):
    return msgpack.packb([version, kind, body], use_bin_type=True)


def floats(values):
    return struct.pack("<%df" % len(values), *values)


def score(request_id, rows, cols, **extra):
    body = {"request_id": request_id, "cols": cols, "rows": floats(rows)}
    body.update(extra)
    return envelope(1, body)


class BadInput(ChaosTest):
    REPLICAS = 2
    HEALERS = 0

    def secure(self, s, endpoint):
        """CURVE client options on `s` (the cluster runs secure): the operator pair for the control
        endpoint, the scoring client pair for a replica."""
        c = self.cluster
        if not c.secure:
            return
        if endpoint == c.control:
            server, public, secret = load_curve(os.path.join(c.keys, "coordinator.pub"), os.path.join(c.keys, "operator"))
        else:
            server, public, secret = c.client_curve
        s.curve_serverkey, s.curve_publickey, s.curve_secretkey = (k.encode() for k in (server, public, secret))

    def exchange(self, endpoint, frame, timeout_s=5.0):
        """Sends one frame on a fresh DEALER; returns 'Code: message' or 'no reply'."""
        ctx = zmq.Context.instance()
        s = ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        self.secure(s, endpoint)
        s.connect(endpoint)
        try:
            s.send(frame)
            if not s.poll(int(timeout_s * 1000)):
                return "no reply within %.0f s" % timeout_s
            return self.describe(s.recv_multipart()[-1])
        finally:
            s.close(0)

    @staticmethod
    def describe(reply_frame):
        try:
            r = decode_score_reply(reply_frame)
            return "%s: %s" % (ERROR_NAMES.get(r["error"], r["error"]), r["message"])
        except Exception:  # a control reply
            _, _, body = msgpack.unpackb(reply_frame, raw=False)
            return "%s: %s" % (ERROR_NAMES.get(body.get("error"), body.get("error")), body.get("message"))

    def flood(self, endpoint, n=3000, rows=100):
        ctx = zmq.Context.instance()
        s = ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.SNDHWM, 0)
        s.setsockopt(zmq.RCVHWM, 0)
        self.secure(s, endpoint)
        s.connect(endpoint)
        row = [0.1] * (rows * 10)
        codes = {}
        try:
            for i in range(n):
                s.send(score(10 ** 6 + i, row, 10))
            got, deadline = 0, time.monotonic() + 60
            while got < n and time.monotonic() < deadline:
                if s.poll(1000):
                    r = decode_score_reply(s.recv_multipart()[-1])
                    name = ERROR_NAMES.get(r["error"], r["error"])
                    codes[name] = codes.get(name, 0) + 1
                    got += 1
        finally:
            s.close(0)
        return got, codes

    def start_fails(self, service, sets, model_dir=None, config=None):
        """Starts a service that must refuse to start; returns (exit code, first stderr line)."""
        argv = [os.path.join(ARGS.bin, "reflex-" + service), "--config",
                config or os.path.join(ARGS.repo, "configs", service + ".toml")]
        base = {"replica": ["replica.scoring_endpoint=tcp://127.0.0.1:%d" % free_port(),
                            "replica.metrics_address=127.0.0.1:%d" % free_port(),
                            "replica.probe_port=%d" % free_port(),
                            "replica.coordinator_port=%d" % free_port()],
                "coordinator": ["coordinator.actor_port=%d" % free_port(),
                                "coordinator.control_endpoint=tcp://127.0.0.1:%d" % free_port(),
                                "coordinator.weights_publish=tcp://127.0.0.1:%d" % free_port(),
                                "coordinator.weights_snapshot=tcp://127.0.0.1:%d" % free_port(),
                                "coordinator.metrics_address=127.0.0.1:%d" % free_port(),
                                "coordinator.probe_port=%d" % free_port(),
                                "coordinator.registry_dir=registry-bad-%d" % free_port()]}[service]
        if model_dir:
            base.append("%s.model=%s" % (service, model_dir))
        for s in base + sets:
            argv += ["--set", s]
        try:
            p = subprocess.run(argv, cwd=self.run_dir, capture_output=True, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            return None, "STARTED (no error within 60 s)"
        lines = [l for l in p.stderr.splitlines() if l.startswith("reflex-") or l.startswith("[")]
        return p.returncode, (lines or p.stderr.splitlines() or ["(no message)"])[-1]

    def test_every_bad_input_gets_a_clear_error_and_nothing_is_lost(self):
        c = self.cluster
        c.start(timeout_s=90)
        load = self.start_load()
        ep = c.scoring[0]
        good = [0.5] * 10
        table = []

        def live(what, frame, expect):
            self.assertTrue(expect, "%s: an expected error name is required" % what)  # "" matches anything
            seen = self.exchange(ep, frame)
            table.append((what, seen))
            self.assertTrue(seen.startswith(expect), "%s: expected %s, saw %s" % (what, expect, seen))

        live("3 bytes that are not msgpack", b"\xc1\xc1\xc1", "Malformed")
        live("msgpack array of 2, not an envelope", msgpack.packb([1, 1]), "Malformed")
        live("unknown message type 99", envelope(99, {}), "UnknownType")
        live("protocol version 7", envelope(1, {"request_id": 1, "cols": 10, "rows": floats(good)}, version=7),
             "UnsupportedVersion")
        live("cols is a string", envelope(1, {"request_id": 2, "cols": "ten", "rows": floats(good)}), "WrongType")
        live("rows missing", envelope(1, {"request_id": 3, "cols": 10}), "MissingField")
        live("3 features, model has 10", score(4, [0.5] * 6, 3), "WrongFeatureCount")
        live("17 floats with cols 10 (ragged)", score(5, [0.5] * 17, 10), "WrongFeatureCount")
        live("NaN in a row", score(6, [float("nan")] + good[1:], 10), "NonFinite")
        live("+Inf in a row", score(7, [float("inf")] + good[1:], 10), "NonFinite")
        live("zero rows", score(8, [], 10), "InvalidArgument")
        live("10001 rows (limit 10000)", score(9, good * 10001, 10), "TooManyRows")
        live("17 MiB frame (limit 16 MiB)", score(10, [0.0] * (17 * 1024 * 1024 // 4), 10), "TooLarge")
        live("deadline already passed", score(11, good, 10, deadline_unix_us=1), "DeadlineExceeded")
        live("label for an unknown request", envelope(3, {"request_id": 424242, "row": 0, "label": 1}), "Ok")
        live("label 7 (not 0/1)", envelope(3, {"request_id": 424242, "row": 0, "label": 7}), "InvalidArgument")
        got, codes = self.flood(ep)
        table.append(("3000 requests of 100 rows at once (queue bound)",
                      "every one answered (%d): %s" % (got, ", ".join("%s %d" % kv for kv in sorted(codes.items())))))
        self.assertEqual(got, 3000, "every flooded request must be answered: %s" % codes)
        self.assertGreater(codes.get("Overloaded", 0), 0, "the flood must be shed with Overloaded: %s" % codes)

        control = c.control
        seen = self.exchange(control, b"\x00garbage")
        table.append(("control: garbage frame", seen))
        self.assertFalse(seen.startswith("Ok") or seen.startswith("no reply"), seen)
        for what, args in (("reflexctl policy set lr -1", ("policy", "set", "lr", "-1")),
                           ("reflexctl policy set no_such_key 1", ("policy", "set", "no_such_key", "1")),
                           ("reflexctl pin 999", ("pin", "999")),
                           ("reflexctl rollback abc", ("rollback", "abc"))):
            code, _, err = c.ctl(*args)
            msg = err.strip().splitlines()[0] if err.strip() else "(nothing)"
            table.append((what, "exit %d: %s" % (code, msg)))
            self.assertIn(code, (1, 2), "%s: %s" % (what, err))

        # Start-up refusals.
        model = os.path.join(self.run_dir, "model")
        bad_rules = os.path.join(self.run_dir, "model-bad-rules")
        shutil.copytree(model, bad_rules)
        with open(os.path.join(bad_rules, "rules.txt"), "w") as f:
            f.write("rule ok: x0 > 1 => positive\nrule bad: x1 <<< 2 => maybe\n")
        bad_shape = os.path.join(self.run_dir, "model-bad-shape")
        shutil.copytree(model, bad_shape)
        made = subprocess.run(["/usr/bin/python3", "-c",
                               "import torch,sys; torch.jit.save(torch.jit.script(torch.nn.Linear(3, 2)), sys.argv[1])",
                               os.path.join(bad_shape, "mlp.pt")], capture_output=True, text=True, timeout=300)
        with open(os.path.join(self.run_dir, "broken.toml"), "w") as f:
            f.write("[replica]\nsummary_rows = = 5\n")
        starts = [("replica: invalid rules file", "replica", [], bad_rules, None),
                  ("replica: wrong-shape TorchScript (Linear 3->2 as mlp.pt)", "replica", [], bad_shape, None),
                  ("replica: --set replica.summary_rows=abc", "replica", ["replica.summary_rows=abc"], None, None),
                  ("replica: unknown key replica.sumary_rows", "replica", ["replica.sumary_rows=5"], None, None),
                  ("replica: TOML syntax error", "replica", [], None, os.path.join(self.run_dir, "broken.toml")),
                  ("coordinator: policy lr = -1", "coordinator", ["policy.lr=-1"], None, None),
                  ("coordinator: curve on, no keys", "coordinator", ["security.key_dir=no-such-keys"], None, None),
                  ("replica: curve on, no keys", "replica", ["security.key_dir=no-such-keys"], None, None),
                  ("replica: tls on, no certificates", "replica", ["security.tls_dir=no-such-tls"], None, None)]
        for what, service, sets, model_dir, config in starts:
            if "TorchScript" in what and made.returncode != 0:
                table.append((what, "not run: python3-torch could not write the file"))
                continue
            code, line = self.start_fails(service, sets, model_dir, config)
            table.append((what, "exit %s: %s" % (code, line)))
            self.assertIn(code, (1, 2), "%s: %s" % (what, line))

        # Nothing crashed, nothing lost.
        time.sleep(1.0)
        for name, p in c.procs.items():
            self.assertTrue(p.alive(), "%s died:\n%s" % (name, p.tail()))
        self.assertEqual(self.exchange(ep, score(12, good, 10)).split(":")[0], "Ok")
        load.stop()
        print("BAD_INPUT_TABLE\n| input | error seen |\n|---|---|", file=sys.stderr)
        for what, seen in table:
            print("| %s | %s |" % (what, seen.replace("|", "\\|")[:220]), file=sys.stderr)
        self.assertEqual(load.failed, 0, "failed requests: %s" % load.errors)
        self.record("bad input (%d kinds) during load" % len(table), load, None,
                    "no crash; every case answered with a specific error")


if __name__ == "__main__":
    parse_args_and_run()
