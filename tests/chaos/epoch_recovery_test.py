"""Chaos: a lost or damaged EPOCH file never makes epochs go backwards (issue 19, defect 3).

Coordinator + 1 healer + 3 replicas, steady load. The fleet reaches v1; the coordinator is
restarted (SIGKILL) twice more, so the replicas' fences hold epoch 3 while every version file
was made in epoch 1. Then, with the coordinator down:
  - EPOCH deleted, "-5", 2^64 - 1 and "" are each refused at start-up: the coordinator exits
    non-zero naming EPOCH, what is wrong with it and `registry_repair` (before the fix, a lost
    EPOCH gave epoch 1, which every replica ignored for good, while status showed them ready);
  - `registry_dir = ""` is refused by the service;
  - restarted with `coordinator.registry_repair=true`, it starts above the versions' epoch (2),
    learns epoch 3 from the replicas' drift summaries, moves above it (`epoch_advanced`) and
    re-publishes: every replica is ready again, compared by (epoch, version, checksum), and a
    new version published afterwards reaches every replica and scores client requests.
The healer's /readyz is 503 while the coordinator is down and 200 again after. No request
fails throughout.

  epoch_recovery_test.py --bin build/bin
"""
import os
import time

from chaos_common import ChaosTest, http_status, parse_args_and_run


class LostEpochFile(ChaosTest):
    def restart_coordinator(self):
        c = self.cluster
        c.start_coordinator()
        c.wait(lambda: c.status() is not None, 60, "the restarted coordinator to answer")

    def test_lost_epoch_is_refused_then_repaired_and_the_fleet_follows(self):
        c = self.cluster
        c.start(timeout_s=90)
        load = self.start_load()
        v1 = c.new_version()
        c.wait_converged(v1, 30)
        for _ in range(2):  # epochs 2 and 3: the fleet's fences move, the version files do not
            c.kill9("coordinator")
            self.restart_coordinator()
            c.wait(lambda: c.all_ready() and c.converged_on(v1), 60, "the fleet back on v%d" % v1)
        fleet_epoch = c.status()["epoch"]
        self.assertEqual(fleet_epoch, 3)

        c.kill9("coordinator")
        # The healer's /readyz says it has no coordinator (it said 200 whatever happened before).
        probe = c.healer_probe[1]
        c.wait(lambda: http_status(probe) == 503, 10, "healer /readyz 503 without a coordinator")
        registry = os.path.join(self.run_dir, "registry")
        epoch_file = os.path.join(registry, "EPOCH")
        os.remove(epoch_file)
        self.expect_coordinator_refused("EPOCH: missing", "registry_repair")
        for text, why in [("-5\n", "only decimal digits"), ("18446744073709551615\n", "above the highest epoch"),
                          ("", "empty")]:
            with open(epoch_file, "w") as f:
                f.write(text)
            self.expect_coordinator_refused("EPOCH", why)
        os.remove(epoch_file)
        c.extra["coordinator"] = ["coordinator.registry_dir="]
        self.expect_coordinator_refused("registry_dir is empty")

        # Repair: start above the versions' epoch (1), learn the fleet's (3) and move above it.
        c.extra["coordinator"] = ["coordinator.registry_repair=true"]
        t0 = time.monotonic()
        self.restart_coordinator()
        advanced = c.wait_event("coordinator", "epoch_advanced", timeout_s=30)
        c.wait(lambda: http_status(probe) == 200, 20, "healer /readyz 200 once it has the coordinator again")
        self.assertEqual(advanced[-1]["replica_epoch"], fleet_epoch)
        c.wait(lambda: c.all_ready() and c.converged_on(v1), 60, "every replica following the repaired coordinator")
        s = c.status()
        self.assertGreater(s["epoch"], fleet_epoch)
        for r in s["replicas"]:
            self.assertEqual((r["epoch"], r["checksum"]), (s["epoch"], s["current_checksum"]), r)
            self.assertFalse(r["fenced"], r)
        with open(epoch_file) as f:
            self.assertEqual(int(f.read()), s["epoch"], "the advanced epoch is persisted")
        converge_s = time.monotonic() - t0

        v2 = c.new_version()
        c.wait(lambda: c.all_ready() and c.converged_on(v2), 30, "v%d on every replica" % v2)
        c.wait(lambda: v2 in load.versions[-50:], 15, "client requests scored by v%d" % v2)
        load.stop()
        self.assertEqual(load.failed, 0, "failed requests: %s" % load.errors)
        self.record("registry: EPOCH lost (fleet at epoch %d)" % fleet_epoch, load, converge_s,
                    "refused without repair; repaired start learnt epoch %d and took %d" % (fleet_epoch, s["epoch"]))


if __name__ == "__main__":
    parse_args_and_run()
