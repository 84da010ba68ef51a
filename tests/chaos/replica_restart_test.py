"""Chaos 3: kill -9 a replica and restart it (issue 5, fault 3).

Coordinator + 1 healer + 3 replicas, steady load through a failover client over all three.
The fleet is moved to v1 first, so the bundle's own weights (v0) are not the fleet's version.
replica-3 is killed with SIGKILL; the coordinator is then paused (SIGSTOP) so that the
restarted replica cannot get its snapshot yet, which makes "not ready until it has the fleet's
version" observable instead of a race of milliseconds.
Asserted:
  - while it has no version from the bus, the restarted replica's /readyz answers 503 and a
    request sent to it alone is refused with NotReady (12), never scored by v0;
  - once the coordinator runs again, /readyz turns 200 within seconds and requests sent to that
    replica alone are scored by the fleet's version v1;
  - the failover client's requests, spread over all three replicas during the whole fault, are
    reported (the target for this fault is not zero in issue 5; we see zero here because
    NotReady and no-answer are retried on another replica).

  replica_restart_test.py --bin build/bin
"""
import os
import signal
import time

from chaos_common import ChaosTest, ReflexClient, ReflexError, http_status, parse_args_and_run


class KillAndRestartReplica(ChaosTest):
    DISTINCT_VERSIONS = 16  # every new_version() publishes weights of its own
    def test_restarted_replica_is_not_ready_until_it_has_the_fleet_version(self):
        c = self.cluster
        c.start(timeout_s=90)
        load = self.start_load()
        v1 = c.new_version()
        c.wait_converged(v1, 30)

        c.kill9("replica-3")
        coordinator = c.procs["coordinator"].proc
        os.kill(coordinator.pid, signal.SIGSTOP)
        self.addCleanup(lambda: coordinator.poll() is None and os.kill(coordinator.pid, signal.SIGCONT))
        try:
            t_restart = time.monotonic()
            c.start_replica(3)
            port = c.replica_probe[3]
            deadline = time.monotonic() + 30
            while http_status(port) is None and time.monotonic() < deadline:
                time.sleep(0.1)
            codes = set()
            for _ in range(10):  # one second of probing while the coordinator is paused
                codes.add(http_status(port))
                time.sleep(0.1)
            self.assertEqual(codes, {503}, "readyz while the replica has no version from the bus")
            with ReflexClient([c.scoring[2]], attempt_timeout_ms=1000, max_attempts=1, curve=c.client_curve) as direct:
                with self.assertRaises(ReflexError) as refused:
                    direct.score(self.drift_rows[:5], timeout_ms=1500)
            self.assertIn("NotReady", str(refused.exception))
        finally:
            os.kill(coordinator.pid, signal.SIGCONT)
        t_resume = time.monotonic()
        deadline = t_resume + 30
        while http_status(c.replica_probe[3]) != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        ready_s = time.monotonic() - t_resume
        self.assertEqual(http_status(c.replica_probe[3]), 200)
        with ReflexClient([c.scoring[2]], attempt_timeout_ms=2000, max_attempts=2, curve=c.client_curve) as direct:
            self.assertEqual(direct.score(self.drift_rows[:5], timeout_ms=5000).version, v1)
        c.wait_converged(v1, 30, "replica-3 back in the fleet on v%d" % v1)
        total_s = time.monotonic() - t_restart
        time.sleep(1.0)
        load.stop()
        self.assertTrue(set(load.versions) <= {0, v1}, load.versions)
        self.assertGreater(load.sent, 50)
        self.record("kill -9 replica, restart", load, total_s,
                    "readyz 503 while paused; 200 %.2fs after the bus came back" % ready_s)
        # Not zero in the target for this fault, but reported; the failover client
        # retries NotReady and silent replicas elsewhere, so we expect none here.
        self.assertEqual(load.failed, 0, "failed requests: %s" % load.errors)


if __name__ == "__main__":
    parse_args_and_run()
