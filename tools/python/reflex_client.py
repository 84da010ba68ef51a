#!/usr/bin/python3
"""Score feature rows and send label feedback to Reflex scoring servers.

A library and a command-line tool. It speaks the wire protocol of libs/wire (PROTOCOL.md):
every message is ONE ZeroMQ frame holding a msgpack envelope

    [protocol_version (1 or 2), message_type, body_map]

    score_request  (type 1): {"request_id": uint64, "cols": uint32,
                              "rows": bin of little-endian float32, row-major,
                              "deadline_unix_us": int64 (optional), "columns": [str] (optional)}
    score_reply    (type 2): {"request_id", "error": uint16, "message": str,
                              "probabilities": bin of float32, "version": uint64,
                              version 2 only: "outputs_per_row": uint32, "classes": [uint64]}
    label_feedback (type 3): {"request_id": the scored request's id, "row": uint32, "label": uint8}
    schema_request (type 12) -> schema_reply (type 13): feature and class names, served version
    label_batch    (type 14) -> label_ack (type 15): how many labels joined, forwarded, dropped

A binary model answers one P(positive) per row in either version; a K-class model answers only
version 2 requests, with K class probabilities per row and each row's predicted class. This
client sends version 1 and switches to version 2 for good when a server asks for it
(UnsupportedVersion), so it works against old servers and K-class models alike. Request ids
are integers end to end (never parsed through float). Replies are matched to requests by
request_id; anything else that arrives is skipped.

Reliability is the ZeroMQ guide's Lazy Pirate pattern, as in libs/transport/scoring_client.h:
one DEALER socket per replica, replicas used round robin; a try that gets no reply within
--attempt-timeout-ms closes and reopens that replica's socket and moves on to the next replica
after a short backoff; overloaded (11) and not-ready (12) replies are retried elsewhere too.

Needs Debian's python3-zmq and python3-msgpack: run it with /usr/bin/python3.

Command line:
  reflex_client.py score --endpoint tcp://host:port [--endpoint ...] [--input rows.csv|-]
      reads CSV rows of numbers (a header line, blank lines and '#' lines are skipped; columns
      named with --drop-column are removed first, e.g. a label column), scores them in requests
      of --batch-size rows and prints CSV: request_id,row,probability,version (binary model) or
      request_id,row,class,p0,...,pK-1,version (K-class). --columns sends the header's names, so
      the server reorders them to the model's order (or names the ones it does not know).
  reflex_client.py label --endpoint ... --request-id ID --row R --label CLASS
  reflex_client.py label --endpoint ... --input labels.csv    (lines: request_id,row,label)
      sends the labels in label_batch messages and prints the counts: joined, forwarded and
      dropped by reason; exits 1 when every label was dropped.
  reflex_client.py schema --endpoint ...    prints the served model's schema as JSON
Exit status: 0 success; 1 a server refused a request (its error is printed to stderr), or every
label was dropped; 2 bad usage or input; 3 no replica answered in time.
"""

import argparse
import csv
import json
import random
import struct
import sys
import time

import msgpack
import zmq

PROTOCOL_VERSION = 1
PROTOCOL_VERSION_2 = 2
SUPPORTED_VERSIONS = (1, 2)
TYPE_SCORE_REQUEST = 1
TYPE_SCORE_REPLY = 2
TYPE_LABEL_FEEDBACK = 3
TYPE_SCHEMA_REQUEST = 12
TYPE_SCHEMA_REPLY = 13
TYPE_LABEL_BATCH = 14
TYPE_LABEL_ACK = 15
MAX_LABELS_PER_BATCH = 10000

# transport::LabelOutcome, as label_ack.outcomes numbers them.
LABEL_OUTCOMES = {0: "joined", 1: "forwarded", 2: "unknown request", 3: "row out of range",
                  4: "duplicate", 5: "too late", 6: "invalid label"}

# wire::ErrorCode (PROTOCOL.md §6, names as wire::ErrorCodeName); the numbers are stable.
ERROR_NAMES = {
    0: "Ok", 1: "Malformed", 2: "UnsupportedVersion", 3: "UnknownType", 4: "MissingField",
    5: "WrongType", 6: "WrongFeatureCount", 7: "NonFinite", 8: "TooManyRows", 9: "TooLarge",
    10: "DeadlineExceeded", 11: "Overloaded", 12: "NotReady", 13: "Unauthorized",
    14: "InvalidArgument", 15: "Internal", 16: "LabelDropped", 17: "NonFiniteScore",
    18: "ColumnMismatch",
}
UNSUPPORTED_VERSION = 2
UNKNOWN_TYPE = 3
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
    """One scored request: its id (use it for label feedback), outputs_per_row probabilities per
    row (1: P(positive); K: class probabilities, flat, row-major), the predicted class of each row
    (empty from a version 1 server) and the adapter version that scored every row."""

    def __init__(self, request_id, probabilities, version, outputs_per_row=1, classes=()):
        self.request_id = request_id
        self.probabilities = probabilities
        self.version = version
        self.outputs_per_row = outputs_per_row
        self.classes = list(classes)

    def row(self, i):
        """Row i's outputs: [p] for a binary model, [p0, ..., pK-1] for a K-class one."""
        k = self.outputs_per_row
        return self.probabilities[i * k:(i + 1) * k]

    def __repr__(self):
        return "ScoreResult(request_id=%d, version=%d, probabilities=%r)" % (
            self.request_id, self.version, self.probabilities)


# ---- encoding -------------------------------------------------------------------------------

def _float32_bin(values):
    return struct.pack("<%df" % len(values), *values)


def encode_score_request(request_id, rows, cols, deadline_unix_us=None, columns=None,
                         protocol_version=PROTOCOL_VERSION):
    """rows: a flat sequence of len(rows) == n * cols numbers, or a sequence of rows. columns:
    optional names of the cols columns, in the order the rows have them."""
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
    if columns:
        if len(columns) != cols:
            raise ValueError("%d column names for %d columns" % (len(columns), cols))
        body["columns"] = [str(c) for c in columns]
    return msgpack.packb([protocol_version, TYPE_SCORE_REQUEST, body], use_bin_type=True)


def _check_label(request_id, row, label):
    for name, value, top in (("request_id", request_id, 2 ** 64 - 1), ("row", row, 2 ** 32 - 1),
                             ("label", label, 255)):
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= top:
            raise ValueError("%s must be an integer in 0..%d, got %r" % (name, top, value))


def encode_label_feedback(request_id, row, label):
    """label: the class id; version 1 allows 0 or 1, so larger ids go in a version 2 envelope."""
    _check_label(request_id, row, label)
    body = {"request_id": request_id, "row": row, "label": label}
    version = PROTOCOL_VERSION if label <= 1 else PROTOCOL_VERSION_2
    return msgpack.packb([version, TYPE_LABEL_FEEDBACK, body], use_bin_type=True)


def encode_label_batch(batch_id, labels):
    """labels: a sequence of (request_id, row, label) integer triples."""
    for request_id, row, label in labels:
        _check_label(request_id, row, label)
    body = {"request_id": batch_id,
            "request_ids": [l[0] for l in labels],
            "rows": [l[1] for l in labels],
            "labels": [l[2] for l in labels]}
    return msgpack.packb([PROTOCOL_VERSION, TYPE_LABEL_BATCH, body], use_bin_type=True)


def encode_schema_request(request_id):
    return msgpack.packb([PROTOCOL_VERSION, TYPE_SCHEMA_REQUEST, {"request_id": request_id}],
                         use_bin_type=True)


def _float32_values(value, where):
    if isinstance(value, (bytes, bytearray)):
        if len(value) % 4:
            raise ReflexError("%s: bin of %d bytes is not float32 values" % (where, len(value)))
        return list(struct.unpack("<%df" % (len(value) // 4), value))
    if isinstance(value, (list, tuple)):
        return [float(v) for v in value]
    raise ReflexError("%s: expected bin or array, got %s" % (where, type(value).__name__))


def decode_reply(frame):
    """Decodes a score_reply, schema_reply or label_ack into a dict with "type" (the message
    type), "protocol_version", request_id, error and message, plus the type's fields; raises
    ReflexError when the frame is none of these."""
    try:
        envelope = msgpack.unpackb(frame, raw=False)
    except Exception as e:  # msgpack raises several types for bad input
        raise ReflexError("reply: not valid msgpack: %s" % e)
    if not isinstance(envelope, (list, tuple)) or len(envelope) != 3:
        raise ReflexError("reply: expected [protocol_version, type, body]")
    version, message_type, body = envelope
    if version not in SUPPORTED_VERSIONS:
        raise ReflexError("reply: protocol version %r not supported" % (version,))
    if message_type not in (TYPE_SCORE_REPLY, TYPE_SCHEMA_REPLY, TYPE_LABEL_ACK) or not isinstance(body, dict):
        raise ReflexError("reply: message type %r is not a reply this client knows" % (message_type,))
    for field in ("request_id", "error"):
        if not isinstance(body.get(field), int):
            raise ReflexError("reply.%s: missing or not an integer" % field)
    reply = dict(body)
    reply["type"] = message_type
    reply["protocol_version"] = version
    reply["message"] = body.get("message") or ""
    if message_type == TYPE_SCORE_REPLY:
        reply["probabilities"] = _float32_values(body.get("probabilities", b""), "score_reply.probabilities")
        reply["version"] = body.get("version", 0)
        reply["outputs_per_row"] = body.get("outputs_per_row", 1)
        reply["classes"] = list(body.get("classes", []))
    return reply


def decode_score_reply(frame):
    """Returns a dict with request_id, error, message, probabilities, version, outputs_per_row
    and classes; raises ReflexError when the frame is not a score_reply."""
    reply = decode_reply(frame)
    if reply["type"] != TYPE_SCORE_REPLY:
        raise ReflexError("reply: message type %r is not a score_reply" % (reply["type"],))
    return reply


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
        self._protocol_version = PROTOCOL_VERSION  # becomes 2 when a server asks for it
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
                reply = decode_reply(parts[-1])
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

    def _take_id(self):
        request_id = self._next_id
        self._next_id += 1
        return request_id

    def score_reply(self, rows, cols, timeout_ms=2000, columns=None):
        """Scores rows (flat, or a list of rows of `cols` numbers; `columns` optionally names
        them); returns the reply dict, error replies included. A K-class model refuses version 1
        with UnsupportedVersion: the request is sent again as version 2, and so is every later
        one. Raises NoReplyError when no replica answered in time."""
        for _ in range(2):
            request_id = self._take_id()
            deadline = None
            if self._send_deadline:
                deadline = int(time.time() * 1e6) + int(timeout_ms * 1000)
            frame = encode_score_request(request_id, rows, cols, deadline, columns, self._protocol_version)
            reply = self._call(frame, request_id, timeout_ms)
            if (reply["error"] == UNSUPPORTED_VERSION and self._protocol_version == PROTOCOL_VERSION
                    and "protocol_version 2" in reply["message"]):
                self._protocol_version = PROTOCOL_VERSION_2
                continue
            return reply
        return reply

    def score(self, rows, cols=None, timeout_ms=2000, columns=None):
        """Scores a list of rows; returns a ScoreResult. Raises ServerError on an error reply."""
        if cols is None:
            if not rows or not isinstance(rows[0], (list, tuple)):
                raise ValueError("cols is needed for flat rows")
            cols = len(rows[0])
        reply = self.score_reply(rows, cols, timeout_ms, columns)
        if reply["error"] != 0:
            raise ServerError(reply["request_id"], reply["error"], reply["message"])
        return ScoreResult(reply["request_id"], reply["probabilities"], reply["version"],
                           reply["outputs_per_row"], reply["classes"])

    def send_label(self, request_id, row, label, timeout_ms=2000):
        """Sends the true label (class id) of row `row` of the scored request `request_id` and
        waits for the acknowledgement. Raises ServerError when refused or dropped (LabelDropped:
        its message says why), NoReplyError when nobody answered."""
        reply = self._call(encode_label_feedback(request_id, row, label), request_id, timeout_ms)
        if reply["error"] != 0:
            raise ServerError(request_id, reply["error"], reply["message"])

    def send_labels(self, labels, timeout_ms=2000):
        """Sends (request_id, row, label) triples in label_batch messages; returns the summed
        counts: received, joined, forwarded, dropped and dropped_<reason>. Raises ServerError when
        a batch is refused, NoReplyError when nobody answered."""
        totals = {}
        labels = list(labels)
        for start in range(0, len(labels), MAX_LABELS_PER_BATCH):
            chunk = labels[start:start + MAX_LABELS_PER_BATCH]
            batch_id = self._take_id()
            reply = self._call(encode_label_batch(batch_id, chunk), batch_id, timeout_ms)
            if reply["error"] != 0:
                raise ServerError(batch_id, reply["error"], reply["message"])
            if reply["type"] != TYPE_LABEL_ACK:
                raise ReflexError("label_batch %d: the reply is not a label_ack" % batch_id)
            for key, value in reply.items():
                if key in ("received", "joined", "forwarded", "dropped") or key.startswith("dropped_"):
                    totals[key] = totals.get(key, 0) + int(value)
        return totals

    def schema(self, timeout_ms=2000):
        """The served model's schema (a dict: feature_names, class_names, cols, outputs_per_row,
        ready, version, epoch, protocol_versions). Raises ServerError when refused."""
        request_id = self._take_id()
        reply = self._call(encode_schema_request(request_id), request_id, timeout_ms)
        if reply["error"] != 0:
            raise ServerError(request_id, reply["error"], reply["message"])
        if reply["type"] != TYPE_SCHEMA_REPLY:
            raise ReflexError("schema_request %d: the reply is not a schema_reply" % request_id)
        return {k: v for k, v in reply.items() if k not in ("type", "error", "message")}


# ---- command line ---------------------------------------------------------------------------

def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def read_rows(stream, drop_columns=(), header_out=None):
    """Yields (line_number, [float, ...]) from CSV text. The first non-comment line is a header
    when any of its fields is not a number. drop_columns name header columns to remove.
    header_out: a list that receives the header's kept column names, when there is a header."""
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
            if header_out is not None:
                header_out.extend(c for i, c in enumerate(header) if i not in drop)
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
        header = []
        batch = []
        wrote_header = []

        def flush():
            if not batch:
                return
            if args.columns and not header:
                raise ReflexError("--columns needs a header line")
            result = client.score(batch, timeout_ms=args.timeout_ms,
                                  columns=header if args.columns else None)
            k = result.outputs_per_row
            if not wrote_header:
                wrote_header.append(True)
                out.writerow(["request_id", "row", "probability", "version"] if k == 1 else
                             ["request_id", "row", "class"] + ["p%d" % c for c in range(k)] + ["version"])
            for row in range(len(batch)):
                p = result.row(row)
                if k == 1:
                    out.writerow([result.request_id, row, "%.9g" % p[0], result.version])
                else:
                    out.writerow([result.request_id, row, result.classes[row]] + ["%.9g" % v for v in p] +
                                 [result.version])
            batch.clear()

        for _, values in read_rows(stream, args.drop_column, header):
            batch.append(values)
            if len(batch) >= args.batch_size:
                flush()
        flush()
        if not wrote_header:
            out.writerow(["request_id", "row", "probability", "version"])
    return 0


def read_labels(stream):
    """Yields (request_id, row, label) integer triples from CSV lines request_id,row,label (a
    header, blank and '#' lines skipped). Ids are parsed as integers, never through float: a
    62-bit id survives exactly."""
    first = True
    for line_number, fields in enumerate(csv.reader(stream), start=1):
        fields = [f.strip() for f in fields]
        if not fields or all(not f for f in fields) or fields[0].startswith("#"):
            continue
        if first and not fields[0].isdigit():
            first = False
            continue  # a header
        first = False
        if len(fields) != 3:
            raise ReflexError("line %d: label lines are request_id,row,label, got %d fields" %
                              (line_number, len(fields)))
        try:
            yield tuple(int(f, 10) for f in fields)
        except ValueError:
            raise ReflexError("line %d: request_id, row and label must be integers, got %s" %
                              (line_number, ",".join(fields)))


def _format_counts(totals):
    line = "labels: %d received, %d joined, %d forwarded, %d dropped" % (
        totals.get("received", 0), totals.get("joined", 0), totals.get("forwarded", 0),
        totals.get("dropped", 0))
    reasons = ["%s %d" % (key[len("dropped_"):].replace("_", " "), n)
               for key, n in sorted(totals.items()) if key.startswith("dropped_") and n]
    return line + (" (" + ", ".join(reasons) + ")" if reasons else "")


def cmd_label(args):
    labels = []
    if args.input is not None:
        with _open_input(args.input) as stream:
            labels = list(read_labels(stream))
    elif args.request_id is not None and args.row is not None and args.label is not None:
        labels.append((args.request_id, args.row, args.label))
    else:
        raise ReflexError("give --request-id, --row and --label, or --input")
    if not labels:
        raise ReflexError("no labels to send")
    with _client_from_args(args) as client:
        totals = client.send_labels(labels, timeout_ms=args.timeout_ms)
    print(_format_counts(totals))
    if totals.get("dropped", 0) == totals.get("received", 0):
        print("reflex_client: every label was dropped", file=sys.stderr)
        return 1
    return 0


def cmd_schema(args):
    with _client_from_args(args) as client:
        print(json.dumps(client.schema(timeout_ms=args.timeout_ms), sort_keys=True))
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
    score.add_argument("--columns", action="store_true",
                       help="send the header's column names (the server reorders them)")
    score.set_defaults(run=cmd_score)
    label = sub.add_parser("label", parents=[common], help="send label feedback")
    label.add_argument("--request-id", type=int)
    label.add_argument("--row", type=int)
    label.add_argument("--label", type=int, help="class id (0 or 1 for a binary model)")
    label.set_defaults(run=cmd_label)
    schema = sub.add_parser("schema", parents=[common], help="print the served model's schema")
    schema.set_defaults(run=cmd_schema)
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
