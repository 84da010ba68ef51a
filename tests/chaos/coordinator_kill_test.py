"""Chaos 2: kill -9 the coordinator, restart it from its registry, and fence the old epoch
(issue 5, fault 2).

Coordinator + 1 healer + 3 replicas; the replicas hear the weight bus through a pass-through
relay (bus_tools.BusProxy, no faults) so that the test can later play the fenced coordinator.
Asserted:
  - after kill -9 of the coordinator, the replicas keep serving their version: zero failed
    requests during the outage, and only that version scores;
  - a coordinator restarted on the same registry_dir takes epoch + 1 and the same active
    version; every replica rejoins it and is reported ready on that version; a new version
    published under the new epoch reaches every replica (the fleet follows);
  - fencing: a well-formed, correctly sealed update from the old epoch, with a HIGHER version
    number than anything published, and an old-epoch heartbeat, injected into the bus, are
    refused by every replica (logged "stale_epoch" / "fenced epoch", counted in
    reflex_dropped_updates_total), and no request is ever scored by that version.

  coordinator_kill_test.py --bin build/bin
"""
import time
import urllib.request

from bus_tools import BusProxy, adapter_weights, decode_bus, encode_adapter_update, encode_heartbeat
from chaos_common import ChaosTest, free_port, parse_args_and_run

FORGED_VERSION = 1000


class KillCoordinatorRestartFromRegistry(ChaosTest):
    DISTINCT_VERSIONS = 16  # every new_version() publishes weights of its own
    # The test's relay reads and re-sends the weight bus in plain text, which CURVE forbids:
    # insecure mode, explicitly (every service logs its insecure_mode warning).
    SECURE = False
    HEALERS = 1

    def test_replicas_keep_serving_restart_takes_next_epoch_and_old_epoch_is_fenced(self):
        c = self.cluster
        proxy = BusProxy(c.weights_publish, "tcp://127.0.0.1:%d" % free_port()).start()
        self.addCleanup(proxy.stop)
        for i in range(1, c.n_replicas + 1):
            c.replica_overrides[i] = {"weights_publish": proxy.downstream}
        c.start(timeout_s=90)
        load = self.start_load()

        v1 = c.new_version()
        c.wait_converged(v1, 30)
        epoch1 = c.status()["epoch"]

        # --- the coordinator dies; the fleet keeps serving v1 ---
        c.kill9("coordinator")
        sent0, failed0 = load.snapshot()
        time.sleep(4.0)  # several bus heartbeat intervals: every replica sees the publisher silent
        sent1, failed1 = load.snapshot()
        self.assertGreater(sent1 - sent0, 20, "the load must keep running during the outage")
        self.assertEqual(failed1 - failed0, 0, "requests failed while the coordinator was down: %s" % load.errors)
        self.assertEqual(load.versions[-1], v1)

        # --- restart from the registry: next epoch, same active version, the fleet follows ---
        t_restart = time.monotonic()
        c.start_coordinator()
        c.wait(lambda: c.status() is not None, 60, "the restarted coordinator to answer")
        s = c.status()
        self.assertEqual(s["epoch"], epoch1 + 1)
        self.assertEqual(s["current_version"], v1)
        c.wait(lambda: c.all_ready() and c.converged_on(v1), 60, "every replica back and ready on v%d" % v1)
        rejoin_s = time.monotonic() - t_restart
        v2 = c.new_version()
        self.assertEqual(v2, v1 + 1)
        c.wait_converged(v2, 30, "every replica on v%d of the new epoch" % v2)
        history = {v["version"]: v for v in c.ctl("history")[1]["versions"]}
        self.assertEqual(history[v2]["epoch"], epoch1 + 1)

        # --- fencing: the old coordinator's epoch, a higher version number, correctly sealed ---
        old = [u for u in proxy.updates if u[0] == epoch1]
        self.assertTrue(old, "the relay saw no update of epoch %d" % epoch1)
        _, body = decode_bus(old[-1][2])
        a = body["adapter"]
        weights = [w * 0.5 for w in adapter_weights(a)]  # different weights: would be visible
        forged = encode_adapter_update(10 ** 6, FORGED_VERSION, a["version"], epoch1, a["width"], a["hidden"],
                                       weights)
        before = [c.events("replica-%d" % i, "weight_bus") for i in range(1, c.n_replicas + 1)]
        for _ in range(3):
            proxy.inject([b"heartbeat", encode_heartbeat("coordinator", epoch1, 10 ** 6, FORGED_VERSION)])
            proxy.inject([b"adapter", forged])
            time.sleep(0.3)
        time.sleep(1.5)
        for i in range(1, c.n_replicas + 1):
            lines = [e.get("detail", "") for e in c.events("replica-%d" % i, "weight_bus")[len(before[i - 1]):]]
            self.assertTrue(any("stale_epoch" in d for d in lines), "replica-%d did not refuse the old epoch's "
                            "update: %s" % (i, lines))
            self.assertTrue(any("fenced epoch" in d for d in lines), "replica-%d: %s" % (i, lines))
            metrics = urllib.request.urlopen("http://%s/metrics" % c.replica_metrics[i - 1], timeout=5).read()
            dropped = [l for l in metrics.decode().splitlines() if l.startswith("reflex_dropped_updates_total")]
            self.assertTrue(dropped and float(dropped[0].split()[-1]) >= 1, dropped)
        self.assertTrue(c.converged_on(v2), c.replica_versions())
        load.stop()

        self.assertNotIn(FORGED_VERSION, load.versions)
        self.assertEqual(load.failed, 0, "failed requests: %s" % load.errors)
        self.assertEqual(load.versions, [0, v1, v2], "versions never go backwards")
        self.record("kill -9 coordinator, restart", load, rejoin_s,
                    "epoch %d -> %d; old-epoch v%d refused" % (epoch1, epoch1 + 1, FORGED_VERSION))


if __name__ == "__main__":
    parse_args_and_run()
