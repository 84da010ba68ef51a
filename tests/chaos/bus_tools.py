"""Weight-bus tools for the chaos tests: a fault-injecting relay and a forger of bus messages.

BusProxy sits between the coordinator's PUB and replicas' SUBs (libs/transport/weight_bus.h):
a SUB connected upstream, a PUB bound downstream. Each message ([topic, payload]) is dropped,
duplicated or held back and sent after the next one (reordered) with the given probabilities,
or all dropped while cut. Snapshots are not relayed: replicas keep asking the coordinator's
ROUTER directly (the Clone pattern's recovery path). inject() sends arbitrary frames downstream
(forged or replayed messages). One thread owns both sockets; everything else is thread-safe.

encode_adapter_update / encode_heartbeat build well-formed, correctly sealed bus payloads
(PROTOCOL.md §4.7, §4.8, §4.12: msgpack envelope, FNV-1a 64 checksum), so a test can play an
impostor or a fenced (older-epoch) coordinator exactly.
"""
import queue
import random
import struct
import threading
import time

import msgpack
import zmq

PROTOCOL_VERSION = 1
TYPE_ADAPTER_UPDATE = 7
TYPE_HEARTBEAT = 8


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def adapter_checksum(version, parent, epoch, width, hidden, weights):
    header = struct.pack("<QQQII", version, parent, epoch, width, hidden)
    return fnv1a64(header + struct.pack("<%df" % len(weights), *weights))


def encode_adapter_update(sequence, version, parent, epoch, width, hidden, weights, checksum=None):
    if checksum is None:
        checksum = adapter_checksum(version, parent, epoch, width, hidden, weights)
    adapter = {"version": version, "parent": parent, "epoch": epoch, "width": width, "hidden": hidden,
               "weights": struct.pack("<%df" % len(weights), *weights), "checksum": checksum}
    return msgpack.packb([PROTOCOL_VERSION, TYPE_ADAPTER_UPDATE, {"sequence": sequence, "adapter": adapter}],
                         use_bin_type=True)


def encode_heartbeat(sender_id, epoch, sequence, latest_version):
    body = {"sender_id": sender_id, "epoch": epoch, "sequence": sequence, "latest_version": latest_version,
            "unix_ms": int(time.time() * 1000)}
    return msgpack.packb([PROTOCOL_VERSION, TYPE_HEARTBEAT, body], use_bin_type=True)


def decode_bus(payload):
    """(type, body) of a bus payload; adapter weights stay bytes."""
    version, kind, body = msgpack.unpackb(payload, raw=False)
    return kind, body


def adapter_weights(adapter):
    w = adapter["weights"]
    return list(struct.unpack("<%df" % (len(w) // 4), w))


def adapter_weight_count(width, hidden):
    return 2 * hidden * width + hidden + width + 1


class BusProxy(threading.Thread):
    def __init__(self, upstream, downstream, drop=0.0, duplicate=0.0, reorder=0.0, seed=1):
        super().__init__(daemon=True)
        self.upstream = upstream
        self.downstream = downstream
        self.drop = drop
        self.duplicate = duplicate
        self.reorder = reorder
        self.cut = False
        self.random = random.Random(seed)
        self.counts = {"in": 0, "out": 0, "dropped": 0, "duplicated": 0, "reordered": 0, "injected": 0}
        self.updates = []  # (epoch, version, payload) of every adapter update seen upstream
        self._inject = queue.Queue()
        self._halt = threading.Event()
        self._ready = threading.Event()
        self._lock = threading.Lock()

    def start(self):
        super().start()
        if not self._ready.wait(10):
            raise RuntimeError("bus proxy did not start")
        return self

    def inject(self, frames):
        self._inject.put(list(frames))

    def stop(self):
        self._halt.set()
        self.join(timeout=10)

    def stats(self):
        with self._lock:
            return dict(self.counts)

    def _count(self, key, n=1):
        with self._lock:
            self.counts[key] += n

    def run(self):
        ctx = zmq.Context()
        sub = ctx.socket(zmq.SUB)
        pub = ctx.socket(zmq.PUB)
        for s in (sub, pub):
            s.setsockopt(zmq.LINGER, 0)
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        sub.connect(self.upstream)
        pub.bind(self.downstream)
        self._ready.set()
        held = None
        try:
            poller = zmq.Poller()
            poller.register(sub, zmq.POLLIN)
            while not self._halt.is_set():
                while True:
                    try:
                        frames = self._inject.get_nowait()
                    except queue.Empty:
                        break
                    pub.send_multipart(frames)
                    self._count("injected")
                if not dict(poller.poll(10)).get(sub):
                    continue
                frames = sub.recv_multipart()
                self._count("in")
                if frames[0] == b"adapter":
                    try:
                        _, body = decode_bus(frames[1])
                        a = body["adapter"]
                        with self._lock:
                            self.updates.append((a["epoch"], a["version"], frames[1]))
                    except Exception:  # a chaos proxy relays what it cannot read
                        pass
                if self.cut or self.random.random() < self.drop:
                    self._count("dropped")
                    continue
                if held is None and self.random.random() < self.reorder:
                    held = frames  # sent after the next message
                    self._count("reordered")
                    continue
                out = [frames]
                if self.random.random() < self.duplicate:
                    out.append(frames)
                    self._count("duplicated")
                if held is not None:
                    out.append(held)
                    held = None
                for f in out:
                    pub.send_multipart(f)
                    self._count("out")
        finally:
            sub.close(0)
            pub.close(0)
            ctx.term()
