"""Chaos 1: kill -9 a healer in the middle of a heal (issue 5, fault 1).

Coordinator + 2 healers + 3 replicas, a steady stream of drifted rows. Heals are made slow
(policy steps/distill_steps large) so that the healer is still working when it dies: the test
asks for a heal, waits for `heal_dispatched` in the coordinator's log and kill -9s that healer.
Asserted: the coordinator hands the same job to the other healer (a second `heal_dispatched`,
attempt 2, same job); exactly one new version results (the registry has v0 and v1 only, v1 made
by the surviving healer); every replica converges on it; every request scored during the whole
run was answered (zero failed) and only by v0 or v1 (never a half-applied version: replicas
apply only versions whose checksum verifies).

  healer_kill_test.py --bin build/bin
"""
import time

from chaos_common import ChaosTest, parse_args_and_run

SLOW_STEPS = 500  # Adam steps per heal: a few seconds on a busy CPU core, so the kill lands mid-heal


class KillHealerMidHeal(ChaosTest):
    HEALERS = 2
    POLICY = {"mode": "manual", "min_rows": 300, "steps": SLOW_STEPS, "distill_steps": SLOW_STEPS,
              "cooldown_ms": 1000}

    def test_job_moves_to_the_other_healer_and_one_version_results(self):
        c = self.cluster
        c.extra["coordinator"].append("coordinator.heal_timeout_ms=90000")
        c.start(timeout_s=90)
        load = self.start_load()
        c.request_heal(timeout_s=60)
        first = c.wait_event("coordinator", "heal_dispatched", 1, timeout_s=30)[0]
        victim = first["healer"]
        t_kill = time.monotonic()
        c.kill9(victim)
        c.n_healers -= 1

        second = c.wait_event("coordinator", "heal_dispatched", 2, timeout_s=30)[1]
        self.assertEqual(second["job"], first["job"], "the same job must be handed over")
        self.assertNotEqual(second["healer"], victim)
        self.assertEqual(second["attempt"], 2)

        c.wait(lambda: c.events("coordinator", "version_published") or c.events("coordinator", "heal_rejected")
               or c.events("coordinator", "heal_abandoned"), 120, "the handed-over heal to finish")
        published = c.events("coordinator", "version_published")
        self.assertEqual(len(published), 1, "exactly one new version, got %s; rejected: %s" %
                         (published, c.events("coordinator", "heal_rejected")))
        self.assertEqual(published[0]["version"], 1)
        self.assertEqual(published[0]["healer"], second["healer"])
        converge_s = c.wait_converged(1, 30) + 0.0
        total_s = time.monotonic() - t_kill
        time.sleep(1.0)  # a little load on the new version too
        load.stop()

        versions = [v["version"] for v in c.ctl("history")[1]["versions"]]
        self.assertEqual(versions, [0, 1], "exactly one new version in the registry")
        # A third attempt happens only when the survivor's link flapped meanwhile (the job waited
        # for it: heal_waiting); it never goes back to the killed healer.
        later = c.events("coordinator", "heal_dispatched")[1:]
        self.assertTrue(all(d["healer"] != victim and d["job"] == first["job"] for d in later), later)
        self.assertEqual(load.failed, 0, "failed requests: %s" % load.errors)
        self.assertTrue(set(load.versions) <= {0, 1}, load.versions)
        self.assertGreater(load.sent, 50)
        self.record("kill -9 healer mid-heal", load, total_s,
                    "job %d moved %s -> %s" % (first["job"], victim, second["healer"]))
        del converge_s


if __name__ == "__main__":
    parse_args_and_run()
