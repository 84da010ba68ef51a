"""Poisoning by legal values (issue 19, item 5): one client cannot make the fleet heal.

Coordinator + 1 healer + 3 replicas in auto mode (heals start by themselves on drift), a steady
load of CLEAN rows, and one attacker client that sends one row twice a second: first rows of
float32-max values (finite, so legal), then clean rows with feature x0 = 1e6 (the attacker's
feature), then -1e6. Before the fix one such client pushed FIDI z to 1e35 and started heals (a
heal on the attacker's feature was published); drift statistics now winsorise every monitored
value to the clean band (core/fidi.h), so a share p of rows moves z by at most p * 4.
Asserted: no drift_detected and no heal_dispatched in the coordinator's log, the fleet stays on
v0, FIDI max z read from status stays below the policy threshold, and zero failed requests of
the clean load. The attacker's replies are counted (a float32-max row is refused: its score is
not finite).

  poison_test.py --bin build/bin
"""
import os
import threading
import time

from chaos_common import ChaosTest, Load, ReflexClient, ReflexError, parse_args_and_run, read_rows

FLOAT32_MAX = 3.4028234663852886e38
PHASE_S = 12.0  # seconds of each attack


class Attacker(threading.Thread):
    """Sends one row every 0.5 s through one client; rows come from `make_row(i)`."""

    def __init__(self, endpoints, curve, phases):
        super().__init__(daemon=True)
        self.endpoints, self.curve, self.phases = endpoints, curve, phases
        self.sent, self.answered, self.refused = 0, 0, {}
        self._halt = threading.Event()

    def run(self):
        with ReflexClient(self.endpoints, attempt_timeout_ms=1000, max_attempts=2, curve=self.curve) as client:
            for make_row, seconds in self.phases:
                deadline, i = time.monotonic() + seconds, 0
                while time.monotonic() < deadline and not self._halt.is_set():
                    self.sent += 1
                    try:
                        client.score([make_row(i)], timeout_ms=2000)
                        self.answered += 1
                    except ReflexError as e:
                        key = getattr(e, "name", type(e).__name__)
                        self.refused[key] = self.refused.get(key, 0) + 1
                    i += 1
                    self._halt.wait(0.5)

    def stop(self):
        self._halt.set()
        self.join(timeout=30)


class PoisonByLegalValues(ChaosTest):
    HEALERS = 1
    POLICY = {"mode": "auto", "min_rows": 300, "cooldown_ms": 1000}

    def test_one_client_with_extreme_rows_cannot_trigger_a_heal(self):
        c = self.cluster
        c.start(timeout_s=90)
        clean = read_rows(os.path.join(self.run_dir, "clean.csv"), limit=2000)
        self.load = Load(c.scoring, clean, curve=c.client_curve)
        self.load.start()
        width = len(clean[0])
        time.sleep(3.0)  # the window fills with clean summaries first

        def with_x0(value):
            return lambda i: [value] + clean[i % len(clean)][1:]

        attacker = Attacker(c.scoring, c.client_curve,
                            [(lambda i: [FLOAT32_MAX] * width, PHASE_S), (with_x0(1e6), PHASE_S),
                             (with_x0(-1e6), PHASE_S)])
        attacker.start()
        max_z, deadline = 0.0, time.monotonic() + 3 * PHASE_S + 30
        while attacker.is_alive() and time.monotonic() < deadline:
            s = c.status()
            if s:
                max_z = max(max_z, s["drift"]["max_z"])
            time.sleep(0.5)
        attacker.stop()
        time.sleep(2.0)  # the last summaries arrive
        s = c.status()
        max_z = max(max_z, s["drift"]["max_z"])
        load = self.load.stop()

        self.assertGreater(attacker.sent, 3 * PHASE_S)  # about two rows a second, each phase
        self.assertEqual(c.events("coordinator", "heal_dispatched"), [], "a heal started")
        self.assertEqual(c.events("coordinator", "drift_detected"), [], "drift was detected")
        self.assertEqual(s["current_version"], 0)
        self.assertEqual(s["latest_version"], 0, "a version was published")
        self.assertLess(max_z, 1.0, "FIDI z moved by one client")
        self.assertEqual(load.failed, 0, "failed requests: %s" % load.errors)
        self.record("poison: 1 client, float32-max / +-1e6 rows at 2/s", load, None,
                    "max z %.3f; 0 heals; attacker %d rows, %d answered, refused %s" %
                    (max_z, attacker.sent, attacker.answered, attacker.refused or "none"))


if __name__ == "__main__":
    parse_args_and_run()
