#!/usr/bin/python3
"""Score feature rows and send label feedback to Reflex scoring servers.

A library and a command-line tool. It speaks the wire protocol of libs/wire (PROTOCOL.md):
every message is ONE ZeroMQ frame holding a msgpack envelope

    [protocol_version (1), message_type, body_map]

    score_request  (type 1): {"request_id": uint64, "cols": uint32,
                              "rows": bin of little-endian float32, row-major,
                              "deadline_unix_us": int64 (optional)}
    score_reply    (type 2): {"request_id", "error": uint16, "message": str,
                              "probabilities": bin of float32 (one per row), "version": uint64}
    label_feedback (type 3): {"request_id": the scored request's id, "row": uint32, "label": 0|1}

A scoring server answers a score_request with a score_reply, and a label_feedback with a
score_reply echoing its request_id, error 0 and no probabilities (an acknowledgement).
Replies are matched to requests by request_id; anything else that arrives is skipped.

Reliability is the ZeroMQ guide's Lazy Pirate pattern, as in libs/transport/scoring_client.h:
one DEALER socket per replica, replicas used round robin; a try that gets no reply within
--attempt-timeout-ms closes and reopens that replica's socket and moves on to the next replica
after a short backoff; overloaded (11) and not-ready (12) replies are retried elsewhere too.

Needs Debian's python3-zmq and python3-msgpack: run it with /usr/bin/python3.

Command line:
  reflex_client.py score --endpoint tcp://host:port [--endpoint ...] [--input rows.csv|-]
      reads CSV rows of numbers (a header line, blank lines and '#' lines are skipped; columns
      named with --drop-column are removed first, e.g. a label column), scores them in requests
      of --batch-size rows and prints CSV: request_id,row,probability,version
  reflex_client.py label --endpoint ... --request-id ID --row R --label 0|1
  reflex_client.py label --endpoint ... --input labels.csv    (lines: request_id,row,label)
Exit status: 0 success; 1 a server refused a request (its error is printed to stderr);
2 bad usage or input; 3 no replica answered in time.
"""

import argparse
import csv
import random
import struct
import sys
import time

import msgpack
import zmq

PROTOCOL_VERSION = 1
TYPE_SCORE_REQUEST = 1
TYPE_SCORE_REPLY = 2
TYPE_LABEL_FEEDBACK = 3

# wire::ErrorCode (PROTOCOL.md §6, names as wire::ErrorCodeName); the numbers are stable.
ERROR_NAMES = {
    0: "Ok", 1: "Malformed", 2: "UnsupportedVersion", 3: "UnknownType", 4: "MissingField",
    5: "WrongType", 6: "WrongFeatureCount", 7: "NonFinite", 8: "TooManyRows", 9: "TooLarge",
    10: "DeadlineExceeded", 11: "Overloaded", 12: "NotReady", 13: "Unauthorized",
    14: "InvalidArgument", 15: "Internal",
}
OVERLOADED = 11
NOT_READY = 12
RETRYABLE = (OVERLOADED, NOT_READY)


class ReflexError(Exception):
    """Base class of this module's errors."""


class NoReplyError(ReflexError):
    """No replica answered within the call's timeout."""


class ServerError(ReflexError):
    """A server answered with an error code."""

    def __init__(self, request_id, code, message):
        self.request_id = request_id
        self.code = code
        self.name = ERROR_NAMES.get(code, "UnknownError")
        self.message = message
        super().__init__("request %d refused: %s (%d): %s" % (request_id, self.name, code, message))


class ScoreResult:
    """One scored request: its id (use it for label feedback), one probability per row, and the
    adapter version that scored every row."""

    def __init__(self, request_id, probabilities, version):
        self.request_id = request_id
        self.probabilities = probabilities
        self.version = version

    def __repr__(self):
        return "ScoreResult(request_id=%d, version=%d, probabilities=%r)" % (
            self.request_id, self.version, self.probabilities)


# ---- encoding -------------------------------------------------------------------------------

def _float32_bin(values):
    return struct.pack("<%df" % len(values), *values)


def encode_score_request(request_id, rows, cols, deadline_unix_us=None):
    """rows: a flat sequence of len(rows) == n * cols numbers, or a sequence of rows."""
    flat = []
    for item in rows:
        if isinstance(item, (list, tuple)):
            if len(item) != cols:
                raise ValueError("row has %d values, expected %d" % (len(item), cols))
            flat.extend(float(v) for v in item)
        else:
            flat.append(float(item))
    if cols <= 0 or len(flat) % cols != 0:
        raise ValueError("%d values is not a whole number of rows of %d" % (len(flat), cols))
    body = {"request_id": request_id, "cols": cols, "rows": _float32_bin(flat)}
    if deadline_unix_us is not None:
        body["deadline_unix_us"] = int(deadline_unix_us)
    return msgpack.packb([PROTOCOL_VERSION, TYPE_SCORE_REQUEST, body], use_bin_type=True)


def encode_label_feedback(request_id, row, label):
    if label not in (0, 1):
        raise ValueError("label must be 0 or 1, got %r" % (label,))
    body = {"request_id": request_id, "row": row, "label": label}
    return msgpack.packb([PROTOCOL_VERSION, TYPE_LABEL_FEEDBACK, body], use_bin_type=True)


def _float32_values(value, where):
    if isinstance(value, (bytes, bytearray)):
        if len(value) % 4:
            raise ReflexError("%s: bin of %d bytes is not float32 values" % (where, len(value)))
        return list(struct.unpack("<%df" % (len(value) // 4), value))
    if isinstance(value, (list, tuple)):
        return [float(v) for v in value]
    raise ReflexError("%s: expected bin or array, got %s" % (where, type(value).__name__))


def decode_score_reply(frame):
    """Returns a dict with request_id, error, message, probabilities, version; raises
    ReflexError when the frame is not a score_reply."""
    try:
        envelope = msgpack.unpackb(frame, raw=False)
    except Exception as e:  # msgpack raises several types for bad input
        raise ReflexError("reply: not valid msgpack: %s" % e)
    if not isinstance(envelope, (list, tuple)) or len(envelope) != 3:
        raise ReflexError("reply: expected [protocol_version, type, body]")
    version, message_type, body = envelope
    if version != PROTOCOL_VERSION:
        raise ReflexError("reply: protocol version %r not supported" % (version,))
    if message_type != TYPE_SCORE_REPLY or not isinstance(body, dict):
        raise ReflexError("reply: message type %r is not a score_reply" % (message_type,))
    for field in ("request_id", "error"):
        if not isinstance(body.get(field), int):
            raise ReflexError("score_reply.%s: missing or not an integer" % field)
    return {
        "request_id": body["request_id"],
        "error": body["error"],
        "message": body.get("message") or "",
        "probabilities": _float32_values(body.get("probabilities", b""), "score_reply.probabilities"),
        "version": body.get("version", 0),
    }


# ---- keys (curve_keys.h file format) ----------------------------------------------------------

def _read_key_file(path):
    with open(path, "r", encoding="ascii") as f:
        keys = [line.strip() for line in f]
    keys = [k for k in keys if k and k != "#" and not k.startswith("# ")]
    if len(keys) != 1 or len(keys[0]) != 40:
        raise ReflexError("%s: expected exactly one 40-character Z85 key" % path)
    return keys[0]


def load_curve(server_public, client_prefix):
    """server_public: a 40-character Z85 key or a .pub file; client_prefix: path of a key pair
    without extension (reads <prefix>.pub and <prefix>.key). Returns the tuple ReflexClient takes."""
    server = server_public if len(server_public) == 40 and "/" not in server_public \
        else _read_key_file(server_public)
    return (server, _read_key_file(client_prefix + ".pub"), _read_key_file(client_prefix + ".key"))


# ---- client ---------------------------------------------------------------------------------

class ReflexClient:
    """Scores rows against one or more replicas. Not thread-safe: one client per thread.

    curve: None, or (server_public_z85, client_public_z85, client_secret_z85).
    """

    def __init__(self, endpoints, attempt_timeout_ms=500, connect_timeout_ms=100, max_attempts=3,
                 backoff_ms=5, backoff_max_ms=200, down_time_ms=1000, send_deadline=True,
                 curve=None, context=None):
        if isinstance(endpoints, str):
            endpoints = [endpoints]
        if not endpoints:
            raise ValueError("no endpoints")
        self._endpoints = list(endpoints)
        self._attempt_timeout = attempt_timeout_ms / 1000.0
        self._connect_timeout = connect_timeout_ms / 1000.0
        self._max_attempts = max(1, max_attempts)
        self._backoff = backoff_ms / 1000.0
        self._backoff_max = backoff_max_ms / 1000.0
        self._down_time = down_time_ms / 1000.0
        self._send_deadline = send_deadline
        self._curve = curve
        self._own_context = context is None
        self._context = context or zmq.Context()
        self._sockets = [None] * len(self._endpoints)
        self._down_until = [0.0] * len(self._endpoints)
        self._next = random.randrange(len(self._endpoints))
        self._next_id = random.getrandbits(62) | 1
        self.retries = 0

    def close(self):
        for i, s in enumerate(self._sockets):
            if s is not None:
                s.close(linger=0)
                self._sockets[i] = None
        if self._own_context:
            self._context.term()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _socket(self, i):
        if self._sockets[i] is None:
            s = self._context.socket(zmq.DEALER)
            s.setsockopt(zmq.LINGER, 0)
            s.setsockopt(zmq.IMMEDIATE, 1)  # queue only on a connected replica
            if self._curve:
                server_public, client_public, client_secret = self._curve
                s.curve_serverkey = server_public.encode("ascii")
                s.curve_publickey = client_public.encode("ascii")
                s.curve_secretkey = client_secret.encode("ascii")
            s.connect(self._endpoints[i])
            self._sockets[i] = s
        return self._sockets[i]

    def _reset(self, i):
        if self._sockets[i] is not None:
            self._sockets[i].close(linger=0)
            self._sockets[i] = None

    def _pick(self):
        now = time.monotonic()
        n = len(self._endpoints)
        for k in range(n):
            i = (self._next + k) % n
            if self._down_until[i] <= now:
                self._next = (i + 1) % n
                return i
        i = self._next
        self._next = (i + 1) % n
        return i

    def _exchange(self, i, frame, request_id, attempt_deadline):
        """One try on replica i: the matching reply dict, or None (timeout / not connected)."""
        s = self._socket(i)
        poller = zmq.Poller()
        poller.register(s, zmq.POLLOUT)
        connect_wait = max(0.0, min(attempt_deadline, time.monotonic() + self._connect_timeout)
                           - time.monotonic())
        if not dict(poller.poll(connect_wait * 1000)).get(s, 0) & zmq.POLLOUT:
            self._reset(i)
            return None
        try:
            s.send(frame, zmq.DONTWAIT)
        except zmq.Again:
            self._reset(i)
            return None
        poller = zmq.Poller()
        poller.register(s, zmq.POLLIN)
        while True:
            wait = max(0.0, attempt_deadline - time.monotonic())
            if not dict(poller.poll(wait * 1000)).get(s, 0) & zmq.POLLIN:
                self._reset(i)  # Lazy Pirate: a late reply must not meet a later request
                return None
            parts = s.recv_multipart(zmq.DONTWAIT)
            try:
                reply = decode_score_reply(parts[-1])
            except ReflexError:
                self._reset(i)
                return None
            if reply["request_id"] == request_id:
                return reply
            # a late reply to an earlier request: skip it

    def _call(self, frame, request_id, timeout_ms):
        deadline = time.monotonic() + timeout_ms / 1000.0
        backoff = self._backoff
        last_reply = None
        for attempt in range(self._max_attempts):
            if attempt:
                self.retries += 1
                time.sleep(max(0.0, min(backoff, deadline - time.monotonic())))
                backoff = min(backoff * 2, self._backoff_max)
            now = time.monotonic()
            if now >= deadline:
                break
            i = self._pick()
            reply = self._exchange(i, frame, request_id, min(deadline, now + self._attempt_timeout))
            if reply is None:
                self._down_until[i] = time.monotonic() + self._down_time
                continue
            self._down_until[i] = 0.0
            if reply["error"] not in RETRYABLE:
                return reply
            last_reply = reply
        if last_reply is not None:
            return last_reply
        raise NoReplyError("request %d: no reply from %d replica(s) within %d ms" %
                           (request_id, len(self._endpoints), timeout_ms))

    def score_reply(self, rows, cols, timeout_ms=2000):
        """Scores rows (flat, or a list of rows of `cols` numbers); returns the reply dict, error
        replies included. Raises NoReplyError when no replica answered in time."""
        request_id = self._next_id
        self._next_id += 1
        deadline = None
        if self._send_deadline:
            deadline = int(time.time() * 1e6) + int(timeout_ms * 1000)
        frame = encode_score_request(request_id, rows, cols, deadline)
        return self._call(frame, request_id, timeout_ms)

    def score(self, rows, cols=None, timeout_ms=2000):
        """Scores a list of rows; returns a ScoreResult. Raises ServerError on an error reply."""
        if cols is None:
            if not rows or not isinstance(rows[0], (list, tuple)):
                raise ValueError("cols is needed for flat rows")
            cols = len(rows[0])
        reply = self.score_reply(rows, cols, timeout_ms)
        if reply["error"] != 0:
            raise ServerError(reply["request_id"], reply["error"], reply["message"])
        return ScoreResult(reply["request_id"], reply["probabilities"], reply["version"])

    def send_label(self, request_id, row, label, timeout_ms=2000):
        """Sends the true label of row `row` of the scored request `request_id` and waits for the
        acknowledgement. Raises ServerError when refused, NoReplyError when nobody answered."""
        reply = self._call(encode_label_feedback(request_id, row, label), request_id, timeout_ms)
        if reply["error"] != 0:
            raise ServerError(request_id, reply["error"], reply["message"])


# ---- command line ---------------------------------------------------------------------------

def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def read_rows(stream, drop_columns=()):
    """Yields (line_number, [float, ...]) from CSV text. The first non-comment line is a header
    when any of its fields is not a number. drop_columns name header columns to remove."""
    reader = csv.reader(stream)
    header = None
    drop = []
    width = None
    for line_number, fields in enumerate(reader, start=1):
        fields = [f.strip() for f in fields]
        if not fields or all(not f for f in fields) or fields[0].startswith("#"):
            continue
        if header is None and width is None and not all(_is_number(f) for f in fields):
            header = fields
            missing = [c for c in drop_columns if c not in header]
            if missing:
                raise ReflexError("line %d: no column named %s in the header" %
                                  (line_number, ", ".join(missing)))
            drop = sorted((header.index(c) for c in drop_columns), reverse=True)
            continue
        if drop_columns and header is None:
            raise ReflexError("--drop-column needs a header line")
        for index in drop:
            del fields[index]
        try:
            values = [float(f) for f in fields]
        except ValueError as e:
            raise ReflexError("line %d: %s" % (line_number, e))
        if width is None:
            width = len(values)
        elif len(values) != width:
            raise ReflexError("line %d: %d values, earlier rows have %d" %
                              (line_number, len(values), width))
        yield line_number, values


def _client_from_args(args):
    endpoints = []
    for e in args.endpoint:
        endpoints.extend(x for x in e.split(",") if x)
    curve = None
    if args.curve_server_public or args.curve_client:
        if not (args.curve_server_public and args.curve_client):
            raise ReflexError("CURVE needs both --curve-server-public and --curve-client")
        curve = load_curve(args.curve_server_public, args.curve_client)
    return ReflexClient(endpoints, attempt_timeout_ms=args.attempt_timeout_ms,
                        max_attempts=args.attempts, curve=curve)


def _open_input(path):
    return sys.stdin if path in (None, "-") else open(path, "r", newline="")


def cmd_score(args):
    with _client_from_args(args) as client, _open_input(args.input) as stream:
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(["request_id", "row", "probability", "version"])
        batch = []

        def flush():
            if not batch:
                return
            result = client.score(batch, timeout_ms=args.timeout_ms)
            for row, p in enumerate(result.probabilities):
                out.writerow([result.request_id, row, "%.9g" % p, result.version])
            batch.clear()

        for _, values in read_rows(stream, args.drop_column):
            batch.append(values)
            if len(batch) >= args.batch_size:
                flush()
        flush()
    return 0


def cmd_label(args):
    labels = []
    if args.input is not None:
        with _open_input(args.input) as stream:
            for _, values in read_rows(stream):
                if len(values) != 3:
                    raise ReflexError("label lines are request_id,row,label")
                labels.append((int(values[0]), int(values[1]), int(values[2])))
    elif args.request_id is not None and args.row is not None and args.label is not None:
        labels.append((args.request_id, args.row, args.label))
    else:
        raise ReflexError("give --request-id, --row and --label, or --input")
    with _client_from_args(args) as client:
        for request_id, row, label in labels:
            client.send_label(request_id, row, label, timeout_ms=args.timeout_ms)
    print("sent %d label(s)" % len(labels))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--endpoint", action="append", required=True,
                        help="replica endpoint, e.g. tcp://127.0.0.1:5555 (repeat, or comma-separate)")
    common.add_argument("--timeout-ms", type=int, default=2000, help="per request, all tries")
    common.add_argument("--attempt-timeout-ms", type=int, default=500, help="per try")
    common.add_argument("--attempts", type=int, default=3, help="tries per request")
    common.add_argument("--input", help="CSV file, or - for stdin")
    common.add_argument("--curve-server-public", help="server public key (Z85) or .pub file")
    common.add_argument("--curve-client", help="client key pair path without .key/.pub")
    score = sub.add_parser("score", parents=[common], help="score CSV rows")
    score.add_argument("--batch-size", type=int, default=100, help="rows per request")
    score.add_argument("--drop-column", action="append", default=[],
                       help="header column to leave out (e.g. a label column)")
    score.set_defaults(run=cmd_score)
    label = sub.add_parser("label", parents=[common], help="send label feedback")
    label.add_argument("--request-id", type=int)
    label.add_argument("--row", type=int)
    label.add_argument("--label", type=int, choices=(0, 1))
    label.set_defaults(run=cmd_label)
    args = parser.parse_args(argv)
    if getattr(args, "batch_size", 1) < 1:
        parser.error("--batch-size must be >= 1")
    try:
        return args.run(args)
    except ServerError as e:
        print("reflex_client: %s" % e, file=sys.stderr)
        return 1
    except NoReplyError as e:
        print("reflex_client: %s" % e, file=sys.stderr)
        return 3
    except (ReflexError, ValueError, OSError) as e:
        print("reflex_client: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
