"""Chaos 6: a corrupted registry on disk (issue 5, fault 6).

Coordinator + 1 healer + 3 replicas, steady load. The fleet goes to v4 (four `rollback 0`s, so
v1..v4 exist, ACTIVE names v4). The coordinator is killed with SIGKILL, then, on disk, v4's file
(the active one) is truncated to half its length and one byte of v3's weights is flipped. The
coordinator is restarted on the same registry_dir.
Asserted (test_damaged_versions_are_reported_and_the_last_good_one_is_active):
  - the coordinator refuses to start (ACTIVE names a version that no longer loads), saying so
    and naming `registry_repair`; restarted with `coordinator.registry_repair=true`, it reports
    both files and the ACTIVE fallback (`registry_problem` log lines naming each);
  - it starts from the last good version, v2, whose checksum is the one recorded before the
    damage (never from garbage: every loaded file passed its file checksum and the adapter's
    checksum), under epoch + 1; the next version published is numbered 3;
  - then ACTIVE itself is damaged (bytes flipped) and the coordinator restarted again (repair
    still on): reported, and the highest intact version (v3) becomes active;
  - no request fails during all of it.
test_fleet_follows_the_restarted_coordinator_to_the_last_good_version asserts that every replica
follows the repaired coordinator back to v2.

  registry_corruption_test.py --bin build/bin
"""
import os
import time
import unittest

from chaos_common import ChaosTest, parse_args_and_run


def version_file(registry, v):
    return os.path.join(registry, "v%020d.rfx" % v)


class CorruptedRegistry(ChaosTest):
    def restart(self):
        c = self.cluster
        t0 = time.monotonic()
        c.start_coordinator()
        c.wait(lambda: c.status() is not None, 60, "the restarted coordinator to answer")
        return t0

    def damage_and_restart(self):
        """v1..v4, fleet on v4, kill -9, truncate v4, flip a byte of v3, restart. Returns
        (load, epoch before, history before, restart time, registry folder)."""
        c = self.cluster
        c.start(timeout_s=90)
        load = self.start_load()
        for _ in range(4):
            last = c.new_version()
        self.assertEqual(last, 4)
        c.wait_converged(4, 30)
        before = {v["version"]: v for v in c.ctl("history")[1]["versions"]}
        epoch = c.status()["epoch"]
        registry = os.path.join(self.run_dir, "registry")

        c.kill9("coordinator")
        size = os.path.getsize(version_file(registry, 4))
        with open(version_file(registry, 4), "r+b") as f:
            f.truncate(size // 2)
        with open(version_file(registry, 3), "r+b") as f:
            f.seek(80)  # inside the weights (header: 4+4+24+8+8+8 = 56 bytes, then f32s)
            b = f.read(1)
            f.seek(80)
            f.write(bytes([b[0] ^ 0x5A]))
        # ACTIVE names v4, which no longer loads: refused until the operator asks for repair.
        self.expect_coordinator_refused("names version 4, which did not load", "registry_repair")
        c.extra["coordinator"] = ["coordinator.registry_repair=true"]
        t0 = self.restart()
        return load, epoch, before, t0, registry

    def test_damaged_versions_are_reported_and_the_last_good_one_is_active(self):
        c = self.cluster
        load, epoch, before, t0, registry = self.damage_and_restart()
        problems = [e["detail"] for e in c.events("coordinator", "registry_problem")]
        self.assertTrue(any("v%020d.rfx" % 4 in p for p in problems), problems)
        self.assertTrue(any("v%020d.rfx" % 3 in p for p in problems), problems)
        self.assertTrue(any("ACTIVE" in p and "using the highest loaded version 2" in p for p in problems), problems)
        s = c.status()
        self.assertEqual(s["epoch"], epoch + 1)
        self.assertEqual(s["current_version"], 2)
        after = {v["version"]: v for v in c.ctl("history")[1]["versions"]}
        self.assertEqual(sorted(after), [0, 1, 2])
        self.assertEqual(after[2]["checksum"], before[2]["checksum"], "v2 must load exactly as written")
        v_next = c.new_version()
        self.assertEqual(v_next, 3, "numbering continues after the last good version")

        # ACTIVE itself damaged: reported, highest intact version used.
        c.kill9("coordinator")
        with open(os.path.join(registry, "ACTIVE"), "r+b") as f:
            f.seek(8)
            f.write(b"\xff\xff")
        n_problems = len(problems)
        self.restart()
        problems = [e["detail"] for e in c.events("coordinator", "registry_problem")][n_problems:]
        self.assertTrue(any("ACTIVE" in p for p in problems), problems)
        self.assertEqual(c.status()["current_version"], 3)
        time.sleep(1.0)
        load.stop()
        self.assertEqual(load.failed, 0, "failed requests: %s" % load.errors)
        self.record("registry: v4 truncated, v3 flipped", load, None,
                    "refused, then repaired: restarted on v2 (epoch %d -> %d); %d problems reported" %
                    (epoch, epoch + 1, n_problems))

    # Regression: the serving engine ordered versions by number only, so replicas refused v2 of
    # the new epoch; it now orders by (epoch, version).
    def test_fleet_follows_the_restarted_coordinator_to_the_last_good_version(self):
        c = self.cluster
        load, epoch, before, t0, registry = self.damage_and_restart()
        c.wait(lambda: c.all_ready() and c.converged_on(2), 30, "every replica on the last good version v2")
        load.stop()
        self.assertEqual(load.failed, 0, "failed requests: %s" % load.errors)


if __name__ == "__main__":
    parse_args_and_run()
