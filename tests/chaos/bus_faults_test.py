"""Chaos 5: the weight bus loses, duplicates and reorders updates (issue 5, fault 5).

Coordinator + 1 healer + 3 replicas. replica-1 and replica-2 hear the bus through a
fault-injecting relay (bus_tools.BusProxy: 30% of messages dropped, 20% duplicated, 30% held
back and sent after the next one; heartbeats suffer too); replica-3 hears it directly, as a
control. The snapshot channel stays direct: it is how a subscriber repairs what it lost.
Twelve versions are published quickly (`reflexctl rollback 0` makes a new version number each
time), faster than the bus heartbeat.
Asserted: for every replica, the versions it applied (its `version_applied` log) and the
versions that scored requests sent to it alone are strictly increasing (never backwards, never
twice); every replica converges on the last version; no request fails; the relay really did
drop, duplicate and reorder.

  bus_faults_test.py --bin build/bin
"""
import time

from bus_tools import BusProxy
from chaos_common import ChaosTest, free_port, parse_args_and_run

VERSIONS = 12


class WeightBusFaults(ChaosTest):
    DISTINCT_VERSIONS = 16  # every new_version() publishes weights of its own
    # The test's relay reads and re-sends the weight bus in plain text, which CURVE forbids:
    # insecure mode, explicitly (every service logs its insecure_mode warning).
    SECURE = False
    def test_versions_never_go_backwards_and_every_replica_converges(self):
        c = self.cluster
        proxy = BusProxy(c.weights_publish, "tcp://127.0.0.1:%d" % free_port(), drop=0.3, duplicate=0.2,
                         reorder=0.3, seed=5).start()
        self.addCleanup(proxy.stop)
        for i in (1, 2):
            c.replica_overrides[i] = {"weights_publish": proxy.downstream}
        c.start(timeout_s=90)
        load = self.start_load(per_endpoint=True, pause_s=0.01)

        t0 = time.monotonic()
        last = None
        for _ in range(VERSIONS):
            last = c.new_version()
            time.sleep(0.15)
        converge_s = c.wait_converged(last, 60, "every replica on v%d through the faulty bus" % last)
        total_s = time.monotonic() - t0
        time.sleep(1.0)
        load.stop()

        stats = proxy.stats()
        self.assertGreater(stats["dropped"], 0, stats)
        self.assertGreater(stats["duplicated"] + stats["reordered"], 0, stats)
        for i in range(1, c.n_replicas + 1):
            applied = [e["version"] for e in c.events("replica-%d" % i, "version_applied")]
            self.assertEqual(applied, sorted(set(applied)), "replica-%d applied out of order: %s" % (i, applied))
            self.assertEqual(applied[-1], last)
            served = load.by_endpoint[c.scoring[i - 1]]
            self.assertEqual(served, sorted(set(served)), "replica-%d served versions backwards: %s" % (i, served))
        self.assertEqual(load.failed, 0, "failed requests: %s" % load.errors)
        skipped = {i: last - len(c.events("replica-%d" % i, "version_applied")) for i in (1, 2)}
        self.record("weight bus drop 30%/dup 20%/reorder 30%", load, converge_s,
                    "%d versions in %.1fs; relay: %d in, %d dropped, %d duplicated, %d reordered; "
                    "replica-1/2 skipped %d/%d versions (repaired by snapshot)" %
                    (VERSIONS, total_s, stats["in"], stats["dropped"], stats["duplicated"], stats["reordered"],
                     skipped[1], skipped[2]))


if __name__ == "__main__":
    parse_args_and_run()
