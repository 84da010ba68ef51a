"""Chaos: the CAF actor port under an unauthenticated peer (issue 19, defect 1).

Coordinator + 1 healer + 3 replicas with [security] tls = true (certificates from
deploy/gen-tls.sh, one cluster CA), steady load. Asserted:
  - the cluster forms over mutual TLS: every replica ready, the healer joined;
  - two plain-TCP peers each send one 32-byte BASP header claiming a 1 GiB payload (CAF 0.17
    allocates what the header claims before any check: on a plain actor port this grew the
    coordinator by 1 GiB per header): the coordinator's resident memory grows by at most 16 MiB;
  - a healer whose certificate is signed by another CA (same CN "healer") never joins: no
    healer_joined for it, and it is not in status;
  - a second replica process claiming the live id replica-1 (with a valid certificate) is
    refused (replica_refused), and replica-1's entry keeps its endpoint;
  - the fleet is ready again once the intruders stop (while the foreign healer retries its
    handshake, the coordinator drops and re-makes legitimate replica links: counted in the
    note, a CAF 0.17 behaviour); no request fails.

  actor_port_test.py --bin build/bin
"""
import os
import socket
import struct
import subprocess
import time

from chaos_common import ARGS, ChaosTest, free_port, parse_args_and_run

MIB = 1024 * 1024


def rss_bytes(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS for pid %d" % pid)


def basp_header(payload_len):
    # operation (client handshake), 2 padding bytes, flags, payload_len, operation_data,
    # source and destination actor ids: 32 bytes, network byte order.
    return struct.pack("!BBBBIQQQ", 1, 0, 0, 0, payload_len, 0, 0, 0)


class ActorPortUnderAttack(ChaosTest):
    def make_cluster(self):
        c = super().make_cluster()
        gen = os.path.join(ARGS.repo, "deploy", "gen-tls.sh")
        subprocess.run([gen, os.path.join(self.run_dir, "keys", "tls"), "coordinator", "replica", "healer"],
                       check=True, timeout=60)
        subprocess.run([gen, os.path.join(self.run_dir, "rogue"), "healer"], check=True, timeout=60)
        return c  # TLS is on by default; the harness made keys/tls

    def test_unauthenticated_peers_cost_little_and_a_foreign_certificate_never_joins(self):
        c = self.cluster
        c.start(timeout_s=90)
        load = self.start_load()
        pid = c.procs["coordinator"].proc.pid
        before = rss_bytes(pid)
        peers = []
        for _ in range(2):
            s = socket.create_connection(("127.0.0.1", c.actor_port), timeout=5)
            s.sendall(basp_header(1 << 30))
            peers.append(s)
        time.sleep(3.0)
        grown = rss_bytes(pid) - before
        for s in peers:
            s.close()
        self.assertLess(grown, 16 * MIB, "coordinator grew %.1f MiB for two 32-byte headers" % (grown / MIB))

        lost_before = len(c.events("coordinator", "replica_lost"))
        rogue = c.start_healer(9, ["healer.id=healer-rogue", "security.tls_dir=rogue"])
        time.sleep(5.0)
        # Known CAF 0.17 behaviour (measured here, not asserted): each refused handshake of the
        # rogue, retried every 300 ms, makes the coordinator drop and re-accept the legitimate
        # replica links; serving is unaffected (the load's failures are asserted below).
        flaps = len(c.events("coordinator", "replica_lost")) - lost_before
        joined = [e for e in c.events("coordinator", "healer_joined") if e.get("healer") == "healer-rogue"]
        self.assertEqual(joined, [], "a healer with a foreign certificate joined")
        self.assertNotIn("healer-rogue", [h["id"] for h in c.status()["healers"]])
        c.procs.pop("healer-9")
        rogue.stop()

        original = [r for r in c.status()["replicas"] if r["id"] == "replica-1"][0]["endpoint"]
        c.scoring.append("tcp://127.0.0.1:%d" % free_port())
        c.replica_metrics.append("127.0.0.1:%d" % free_port())
        c.replica_overrides[4] = {"id": "replica-1"}
        impostor = c.start_replica(4)
        c.wait_event("coordinator", "replica_refused", timeout_s=20)
        self.assertEqual([r for r in c.status()["replicas"] if r["id"] == "replica-1"][0]["endpoint"], original)
        c.procs.pop("replica-4")
        impostor.stop()
        c.wait(lambda: c.all_ready(), 20, "the fleet ready again once the intruders are gone")
        load.stop()
        self.assertEqual(load.failed, 0, "failed requests: %s" % load.errors)
        self.record("actor port: 2 plain peers claiming 1 GiB; foreign-CA healer", load, None,
                    "coordinator RSS +%.1f MiB; foreign-CA healer refused in the TLS handshake (%d replica links dropped "
                    "and re-made meanwhile); 2nd replica-1 refused" % (grown / MIB, flaps))


if __name__ == "__main__":
    parse_args_and_run()
