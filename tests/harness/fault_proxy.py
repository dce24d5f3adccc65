#!/usr/bin/env python3
"""A loopback HTTP proxy that injects AWS faults between an SDK and the emulator.

Test infrastructure only. The product's AWS_ENDPOINT_URL (and HTTP_PROXY, which S3 Control goes
through, see emulator.py `product_environment`) point here; every request is forwarded to the
emulator (`--upstream`), unless the proxy decides to answer it with a fault:

  * a token bucket per (service, region) (`rate` requests/s, `burst`), the way AWS meters
    control-plane APIs: an empty bucket answers the service's own throttling error;
  * random throttling answers (`throttle`, a probability), in the same shapes;
  * random server errors (`error`): 500 or 503 in the service's own error shape;
  * dropped connections (`drop`): the socket is closed without an answer, before the request
    reaches the emulator (`drop_mode: "before"`) or after it did (`"after"`: the answer is lost);
  * added latency (`latency_ms` + uniform `jitter_ms`) before each forwarded request.

Rules (`rules`: a list, the first match wins) override any of these for the requests they
select by `service`, `region` and `action` (fnmatch patterns; absent: any), optionally for the
first `times` matching requests only. `{"service": "rds", "region": "eu-west-1", "throttle": 1}`
makes that unit's API throttle forever.

Service and region come from the SigV4 credential scope (S3 Control signs as "s3" and is told
apart by its host), the operation from the protocol (emulator.py `request_action`). The error
shapes per protocol are in `ERROR_SHAPES` / `fault_response` with the sources they follow.

Reproducible: each request's random draw comes from (seed, service, region, action, method,
path, query, n), n counting identical requests, so the same scan meets the same faults whatever
the interleaving of its concurrent requests (a retry is the next n). The token bucket depends on
time and is not seeded.

Control endpoints (never forwarded):
  GET  /_proxy/stats          counters of what was forwarded and injected (JSON)
  POST /_proxy/stats/reset    zero them (also DELETE /_proxy/stats)
  GET  /_proxy/config         the current configuration
  POST /_proxy/config         replace it (JSON object, fields below; absent: defaults); the
                              buckets and the per-request sequence restart, so a configuration
                              set before a run reproduces
Configuration fields: seed, throttle, error, drop, drop_mode, latency_ms, jitter_ms, rate, burst
(rate null or 0: no bucket), rules.

Run: `fault_proxy.py --upstream http://127.0.0.1:PORT [--seed N --throttle P ...]`; prints one JSON
line (port, and under "env" the variables a process needs to go through the proxy), then serves
until SIGTERM/SIGINT or until its standard input closes. Importable: `FaultProxy(upstream,
config).start()`.
"""

import argparse
import copy
import fnmatch
import hashlib
import http.client
import json
import os
import random
import select
import signal
import socket
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import emulator  # noqa: E402  (the harness's SigV4 scope and operation parsing; no moto import)

DEFAULTS = {
    "seed": 0,
    "throttle": 0.0,
    "error": 0.0,
    "drop": 0.0,
    "drop_mode": "before",
    "latency_ms": 0.0,
    "jitter_ms": 0.0,
    "rate": None,
    "burst": None,
    "rules": [],
}
RULE_FIELDS = {"throttle", "error", "drop", "drop_mode", "latency_ms", "jitter_ms", "rate", "burst"}
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
              "upgrade", "proxy-authorization", "proxy-authenticate", "expect"}
BLOCK = 64 * 1024
SPOOL_IN_MEMORY = 1024 * 1024  # chunked request bodies larger than this are spooled to disk


def normalize(config: dict) -> dict:
    out = copy.deepcopy(DEFAULTS)
    unknown = set(config) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown configuration fields: {sorted(unknown)}")
    out.update(copy.deepcopy(config))
    for rule in out["rules"]:
        bad = set(rule) - RULE_FIELDS - {"service", "region", "action", "times"}
        if bad:
            raise ValueError(f"unknown rule fields: {sorted(bad)}")
    if out["drop_mode"] not in ("before", "after"):
        raise ValueError("drop_mode is 'before' or 'after'")
    return out


# --- What a request is ------------------------------------------------------------------------

class RequestInfo:
    """Service, region, operation and protocol of a request, from its headers (and a form body)."""

    def __init__(self, method: str, target: str, headers, form_body: bytes = b""):
        split = urlsplit(target)
        self.method = method
        self.path = split.path or "/"
        self.query = split.query
        self.host = headers.get("Host", "") or split.netloc
        authorization = headers.get("Authorization", "")
        scope = emulator.SIGV4_SCOPE.search(authorization)
        self.region = scope.group(1) if scope else "-"
        self.service = scope.group(2) if scope else "unsigned"
        if self.service == "s3" and "s3-control" in self.host:
            self.service = "s3control"  # S3 Control signs as "s3"; its host tells it apart
        self.content_type = headers.get("Content-Type", "") or ""
        self.amz_target = headers.get("X-Amz-Target", "") or ""
        self.smithy_protocol = headers.get("smithy-protocol", "") or ""
        environ = {
            "HTTP_X_AMZ_TARGET": self.amz_target,
            "QUERY_STRING": self.query,
            "PATH_INFO": self.path,
            "REQUEST_METHOD": method,
        }
        form = parse_qs(self.query)
        if form_body:
            form.update(parse_qs(form_body.decode("utf-8", "replace")))
        self.action = emulator.request_action(environ, "s3" if self.service == "s3" else self.service, form)
        self.protocol = protocol_of(self)

    def identity(self) -> str:
        """What makes two requests "the same" for the seeded draw (signature and date excluded)."""
        query = "&".join(sorted(p for p in self.query.split("&") if p and not p.lower().startswith("x-amz-")))
        return "\x1f".join((self.service, self.region, self.action, self.method, self.path, query))


def protocol_of(info: "RequestInfo") -> str:
    """The wire protocol, hence the error shape: botocore's service models name it per service
    (ec2: ec2; rds, sts, sns, iam, cloudformation: query; s3, s3control: rest-xml; ssm, dynamodb,
    states, organizations: json; securityhub, lambda: rest-json); the Rust SDK's CloudWatch uses
    Smithy RPC v2 CBOR. Read from the request itself, so every service is covered."""
    if info.service == "ec2":
        return "ec2"
    if info.service == "s3":
        return "s3"
    if info.service == "s3control":
        return "s3control"
    if info.smithy_protocol == "rpc-v2-cbor":
        return "cbor"
    if info.amz_target or "x-amz-json" in info.content_type:
        return "json"
    if "form-urlencoded" in info.content_type or "Action=" in info.query:
        return "query"
    return "rest-json"


# --- Error shapes -----------------------------------------------------------------------------

# (status, code, message) per protocol and fault kind. Sources: the codes are those both SDKs
# classify as throttling (aws-runtime src/retries/classifiers.rs THROTTLING_ERRORS, botocore
# retries/standard.py ThrottledRetryableChecker); 5xx statuses are transient for both
# (aws-smithy-runtime TRANSIENT_ERROR_STATUS_CODES, botocore TransientRetryableChecker).
#   ec2:       EC2 API "Error codes": RequestLimitExceeded (503 as observed from EC2),
#              InternalError 500, Unavailable 503; body <Response><Errors><Error> (ec2 protocol)
#   s3:        S3 "Error responses": SlowDown 503, InternalError 500, ServiceUnavailable 503;
#              body <Error> (rest-xml, unwrapped)
#   s3control: modeled TooManyRequestsException / InternalServiceException (botocore s3control
#              model); body <ErrorResponse><Error> (the Rust SDK reads it with
#              rest_xml_wrapped_errors: a bare <Error> root would lose the code)
#   query:     common errors Throttling 400 ("Rate exceeded"), InternalFailure 500,
#              ServiceUnavailable 503; body <ErrorResponse><Error><Type>
#   json:      ThrottlingException 400 (modeled in ssm, dynamodb), InternalServerError 500,
#              ServiceUnavailable 503; body {"__type", "message"}, header x-amzn-ErrorType
#   rest-json: ThrottlingException 429 (securityhub model), InternalServerException 500
#   cbor:      ThrottlingException 400 as a CBOR map {"__type", "message"}
ERROR_SHAPES = {
    "ec2": {"throttle": (503, "RequestLimitExceeded", "Request limit exceeded."),
            500: (500, "InternalError", "An internal error has occurred."),
            503: (503, "Unavailable", "The server is overloaded and can't handle the request.")},
    "s3": {"throttle": (503, "SlowDown", "Please reduce your request rate."),
           500: (500, "InternalError", "We encountered an internal error. Please try again."),
           503: (503, "ServiceUnavailable", "Service is unable to handle request.")},
    "s3control": {"throttle": (400, "TooManyRequestsException", "Too many requests."),
                  500: (500, "InternalServiceException", "An internal error has occurred."),
                  503: (503, "ServiceUnavailable", "Service is unable to handle request.")},
    "query": {"throttle": (400, "Throttling", "Rate exceeded"),
              500: (500, "InternalFailure", "The request processing has failed because of an unknown error."),
              503: (503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server.")},
    "json": {"throttle": (400, "ThrottlingException", "Rate exceeded"),
             500: (500, "InternalServerError", "An internal error has occurred."),
             503: (503, "ServiceUnavailable", "The service is unavailable.")},
    "rest-json": {"throttle": (429, "ThrottlingException", "Rate exceeded"),
                  500: (500, "InternalServerException", "An internal error has occurred."),
                  503: (503, "ServiceUnavailable", "The service is unavailable.")},
    "cbor": {"throttle": (400, "ThrottlingException", "Rate exceeded"),
             500: (500, "InternalFailure", "An internal error has occurred."),
             503: (503, "ServiceUnavailable", "The service is unavailable.")},
}
REASONS = {400: "Bad Request", 429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}


def fault_response(protocol: str, kind) -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) of the fault `kind` ("throttle", 500 or 503) in `protocol`."""
    status, code, message = ERROR_SHAPES[protocol][kind]
    request_id = str(uuid.uuid4())
    esc = emulator.escape_xml
    if protocol == "ec2":
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{code}</Code>'
                f"<Message>{esc(message)}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>")
        return status, [("Content-Type", "text/xml;charset=UTF-8")], body.encode()
    if protocol == "s3":
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{esc(message)}</Message>'
                f"<RequestId>{request_id[:16]}</RequestId><HostId>fault-proxy</HostId></Error>")
        return status, [("Content-Type", "application/xml"), ("x-amz-request-id", request_id[:16])], body.encode()
    if protocol in ("query", "s3control"):
        kind_of = "Sender" if status < 500 else "Receiver"
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Type>{kind_of}</Type>'
                f"<Code>{code}</Code><Message>{esc(message)}</Message></Error>"
                f"<RequestId>{request_id}</RequestId></ErrorResponse>")
        return status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body.encode()
    if protocol == "cbor":
        return status, [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor"),
                        ("x-amzn-RequestId", request_id)], cbor_text_map({"__type": code, "message": message})
    content_type = "application/x-amz-json-1.1" if protocol == "json" else "application/json"
    body = json.dumps({"__type": code, "message": message}).encode()
    return status, [("Content-Type", content_type), ("x-amzn-ErrorType", code), ("x-amzn-RequestId", request_id)], body


def cbor_text_map(values: dict[str, str]) -> bytes:
    """CBOR for a map of text strings (RFC 8949: major types 5 and 3)."""

    def head(major: int, n: int) -> bytes:
        if n < 24:
            return bytes([major << 5 | n])
        if n < 256:
            return bytes([major << 5 | 24, n])
        return bytes([major << 5 | 25]) + n.to_bytes(2, "big")

    out = bytearray(head(5, len(values)))
    for key, value in values.items():
        for text in (key, value):
            data = text.encode()
            out += head(3, len(data)) + data
    return bytes(out)


# --- Fault state ------------------------------------------------------------------------------

class TokenBucket:
    def __init__(self, rate: float, burst: float):
        self.rate, self.capacity = float(rate), float(burst)
        self.tokens, self.stamp = float(burst), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


COUNTERS = ("requests", "forwarded", "throttle_bucket", "throttle_random", "error_500", "error_503",
            "drop_before", "drop_after", "rule_matches")


class FaultState:
    """Configuration, counters, buckets and the seeded sequence; shared by the handler threads."""

    def __init__(self, config: dict | None = None):
        self.lock = threading.Lock()
        self.configure(config or {})
        self.reset_stats()

    def configure(self, config: dict) -> None:
        config = normalize(config)
        with self.lock:
            self.config = config
            self.buckets: dict[tuple, TokenBucket] = {}
            self.sequence: dict[str, int] = {}
            self.rule_hits = [0] * len(config["rules"])

    def reset_stats(self) -> None:
        with self.lock:
            self.totals = dict.fromkeys(COUNTERS, 0)
            self.totals["latency_seconds"] = 0.0
            self.by_unit: dict[str, dict] = {}
            self.by_action: dict[str, dict] = {}
            self.started = time.time()

    def count(self, info: RequestInfo, what: str) -> None:
        with self.lock:
            self.totals[what] += 1
            for table, key in ((self.by_unit, f"{info.service}:{info.region}"),
                               (self.by_action, f"{info.service}:{info.region}:{info.action}")):
                entry = table.setdefault(key, dict.fromkeys(COUNTERS[:-1], 0))
                entry[what] += 1
                if what == "requests":  # when the unit's requests came (wall clock, seconds)
                    now = round(time.time(), 3)
                    entry.setdefault("first", now)
                    entry["last"] = now

    def stats(self) -> dict:
        with self.lock:
            injected = {k: self.totals[k] for k in COUNTERS[2:-1]}
            return {
                **{k: self.totals[k] for k in ("requests", "forwarded", "rule_matches")},
                "injected": injected,
                "injected_total": sum(injected.values()),
                "latency_seconds": round(self.totals["latency_seconds"], 3),
                "since": self.started,
                "by_unit": copy.deepcopy(self.by_unit),
                "by_action": copy.deepcopy(self.by_action),
                "rule_hits": list(self.rule_hits),
            }

    def decide(self, info: RequestInfo) -> dict:
        """The fault plan for one request: {"latency": s, "fault": None | "drop_before" |
        "drop_after" | "throttle_bucket" | "throttle_random" | 500 | 503}."""
        with self.lock:
            config = self.config
            effective = {k: config[k] for k in RULE_FIELDS}
            for i, rule in enumerate(config["rules"]):
                if not all(fnmatch.fnmatchcase(value, rule.get(field, "*"))
                           for field, value in (("service", info.service), ("region", info.region),
                                                ("action", info.action))):
                    continue
                if rule.get("times") is not None and self.rule_hits[i] >= int(rule["times"]):
                    continue
                self.rule_hits[i] += 1
                self.totals["rule_matches"] += 1
                effective.update({k: v for k, v in rule.items() if k in RULE_FIELDS})
                break
            identity = info.identity()
            n = self.sequence.get(identity, 0)
            self.sequence[identity] = n + 1
            digest = hashlib.sha256(f"{config['seed']}\x1e{identity}\x1e{n}".encode()).digest()
            rng = random.Random(int.from_bytes(digest[:8], "big"))
            u, jitter, status_draw = rng.random(), rng.random(), rng.random()
            latency = (float(effective["latency_ms"] or 0) + jitter * float(effective["jitter_ms"] or 0)) / 1000.0
            plan = {"latency": latency, "fault": None}
            drop, throttle, error = (float(effective[k] or 0) for k in ("drop", "throttle", "error"))
            if u < drop:
                plan["fault"] = "drop_before" if effective["drop_mode"] == "before" else "drop_after"
                return plan
            rate, burst = effective["rate"], effective["burst"]
            if rate:
                key = (info.service, info.region, float(rate), float(burst if burst is not None else rate))
                bucket = self.buckets.get(key)
                if bucket is None:
                    bucket = self.buckets[key] = TokenBucket(key[2], key[3])
                if not bucket.take():
                    plan["fault"] = "throttle_bucket"
                    return plan
            if u < drop + throttle:
                plan["fault"] = "throttle_random"
            elif u < drop + throttle + error:
                plan["fault"] = 500 if status_draw < 0.5 else 503
            return plan


# --- The proxy --------------------------------------------------------------------------------

class ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fault-proxy"
    upstream_conn: http.client.HTTPConnection | None = None

    def log_message(self, format, *args):  # noqa: A002 - one line per request drowns output
        pass

    # Every method goes the same way.
    def do_GET(self):  # noqa: N802
        self.handle_request()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_GET  # noqa: N815

    def handle_request(self) -> None:
        state: FaultState = self.server.state
        path = urlsplit(self.path).path if "://" in self.path else self.path.split("?", 1)[0]
        if path.startswith("/_proxy/"):
            return self.control(state, path)
        try:
            body = self.read_body()
        except ValueError as err:
            return self.reply(400, [("Content-Type", "text/plain")], str(err).encode(), close=True)
        try:
            self.answer(state, body)
        finally:
            if body is not None:
                body.close()

    def answer(self, state: "FaultState", body) -> None:
        form = b""
        if "form-urlencoded" in (self.headers.get("Content-Type") or "") and body is not None:
            form = body.peek()
        info = RequestInfo(self.command, self.path, self.headers, form)
        state.count(info, "requests")
        plan = state.decide(info)
        fault = plan["fault"]
        if fault == "drop_before":
            state.count(info, "drop_before")
            return self.drop()
        if fault is not None and fault != "drop_after":
            state.count(info, "throttle_bucket" if fault == "throttle_bucket" else
                        "throttle_random" if fault == "throttle_random" else f"error_{fault}")
            if body is not None:
                body.drain()  # the connection stays usable: the body is read, not answered
            status, headers, payload = fault_response(info.protocol, "throttle" if isinstance(fault, str) else fault)
            return self.reply(status, headers, payload)
        if plan["latency"] > 0:
            with state.lock:
                state.totals["latency_seconds"] += plan["latency"]
            time.sleep(plan["latency"])
        self.forward(body, state, info, drop_after=fault == "drop_after")

    # Request bodies ---------------------------------------------------------------------------

    def read_body(self):
        """The request body as a replayable `Body` (None: no body). Content-Length bodies are
        streamed to the upstream as they arrive (forms are read first: the action is in them);
        chunked ones are decoded, trailers turned into headers, and spooled (memory, then disk)."""
        encoding = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in encoding:
            spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ValueError("truncated chunked body")
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    break
                remaining = size
                while remaining:
                    data = self.rfile.read(min(BLOCK, remaining))
                    if not data:
                        raise ValueError("truncated chunk")
                    spool.write(data)
                    remaining -= len(data)
                self.rfile.readline(3)  # CRLF after the chunk
            while True:  # trailers, then the empty line
                line = self.rfile.readline(65537)
                if line in (b"\r\n", b"\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                self.headers[name.strip()] = value.strip()
            length = spool.tell()
            spool.seek(0)
            del self.headers["Transfer-Encoding"]
            return Body(spool, length, buffered=True)
        length = int(self.headers.get("Content-Length") or 0)
        if length <= 0:
            return None
        if "form-urlencoded" in (self.headers.get("Content-Type") or "") and length <= SPOOL_IN_MEMORY:
            data = self.rfile.read(length)
            return Body(None, len(data), buffered=True, data=data)
        return Body(self.rfile, length, buffered=False)

    # Answers ----------------------------------------------------------------------------------

    def reply(self, status: int, headers, payload: bytes, close: bool = False) -> None:
        self.send_response_only(status, REASONS.get(status))
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Date", self.date_time_string())
        self.send_header("Content-Length", str(len(payload)))
        if close or self.close_connection:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        self.wfile.flush()

    def drop(self) -> None:
        """Closes the client's connection without an answer."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def upstream(self, fresh: bool = False) -> http.client.HTTPConnection:
        conn = self.upstream_conn
        if conn is not None and not fresh and conn.sock is not None:
            # An idle keep-alive connection the emulator closed reads as EOF: do not reuse it.
            readable, _, _ = select.select([conn.sock], [], [], 0)
            if readable:
                fresh = True
        if conn is None or fresh:
            if conn is not None:
                conn.close()
            host, port = self.server.upstream
            conn = self.upstream_conn = http.client.HTTPConnection(host, port, timeout=300)
        return conn

    def forward(self, body, state: FaultState, info: RequestInfo, drop_after: bool) -> None:
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP]
        if body is not None:
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers.append(("Content-Length", str(body.length)))
        for attempt in (0, 1):
            conn = self.upstream(fresh=attempt == 1)
            try:
                # The request line is kept (absolute-form included: S3 Control comes as a proxy
                # request, and the emulator's werkzeug front takes the host from it).
                conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for name, value in headers:
                    conn.putheader(name, value)
                conn.endheaders()
                if body is not None:
                    body.send(conn.sock)
                response = conn.getresponse()
                break
            except (ConnectionError, http.client.RemoteDisconnected, BrokenPipeError):
                conn.close()
                if attempt == 1 or (body is not None and not body.replayable()):
                    return self.reply(502, [("Content-Type", "text/plain")], b"fault-proxy: upstream failed", close=True)
                body and body.rewind()
        state.count(info, "forwarded")
        if drop_after:
            response.read()
            state.count(info, "drop_after")
            return self.drop()
        self.relay(response)
        if response.will_close:
            conn.close()
            self.upstream_conn = None

    def relay(self, response: http.client.HTTPResponse) -> None:
        """Streams the emulator's answer back: Content-Length as given, else re-chunked."""
        self.send_response_only(response.status, response.reason)
        length = response.getheader("Content-Length")
        no_body = self.command == "HEAD" or response.status in (204, 304) or 100 <= response.status < 200
        for name, value in response.getheaders():
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        chunked = False
        if length is not None:
            self.send_header("Content-Length", length)
        elif not no_body:
            if self.request_version == "HTTP/1.1":
                chunked = True
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.close_connection = True
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if no_body:
            response.read()
        else:
            while True:
                data = response.read1(BLOCK) if hasattr(response, "read1") else response.read(BLOCK)
                if not data:
                    break
                if chunked:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                else:
                    self.wfile.write(data)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # Control ----------------------------------------------------------------------------------

    def control(self, state: FaultState, path: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        method = self.command
        try:
            if path == "/_proxy/stats" and method == "GET":
                return self.reply_json(200, state.stats())
            if (path == "/_proxy/stats/reset" and method == "POST") or (path == "/_proxy/stats" and method == "DELETE"):
                state.reset_stats()
                return self.reply_json(200, {"reset": True})
            if path == "/_proxy/config" and method == "GET":
                return self.reply_json(200, state.config)
            if path == "/_proxy/config" and method == "POST":
                state.configure(json.loads(raw or b"{}"))
                return self.reply_json(200, state.config)
        except ValueError as err:
            return self.reply_json(400, {"error": str(err)})
        return self.reply_json(404, {"error": f"no control endpoint {method} {path}"})

    def reply_json(self, status: int, value) -> None:
        self.reply(status, [("Content-Type", "application/json")], json.dumps(value).encode())


class Body:
    """A request body to send upstream: from the client's stream (sent as it arrives, once) or
    from a spool (replayable, for a retry on a stale upstream connection)."""

    def __init__(self, source, length: int, buffered: bool, data: bytes | None = None):
        self.source, self.length, self.buffered, self.data = source, length, buffered, data
        self.sent = False

    def peek(self) -> bytes:
        """The whole body, for a small buffered one (a query-protocol form)."""
        if self.data is not None:
            return self.data
        if self.buffered and self.length <= SPOOL_IN_MEMORY:
            self.source.seek(0)
            data = self.source.read()
            self.source.seek(0)
            return data
        return b""

    def replayable(self) -> bool:
        return self.buffered or not self.sent

    def rewind(self) -> None:
        if self.buffered and self.data is None:
            self.source.seek(0)

    def send(self, sock) -> None:
        self.sent = True
        if self.data is not None:
            sock.sendall(self.data)
            return
        remaining = self.length
        while remaining:
            data = self.source.read(min(BLOCK, remaining))
            if not data:
                raise ConnectionError("client body ended early")
            sock.sendall(data)
            remaining -= len(data)

    def close(self) -> None:
        if self.buffered and self.source is not None:
            self.source.close()

    def drain(self) -> None:
        if not self.buffered and not self.sent:
            remaining = self.length
            while remaining:
                data = self.source.read(min(BLOCK, remaining))
                if not data:
                    break
                remaining -= len(data)
            self.sent = True


class FaultProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, upstream: str, state: FaultState):
        super().__init__(address, ProxyHandler)
        split = urlsplit(upstream)
        self.upstream = (split.hostname, split.port or 80)
        self.state = state


class FaultProxy:
    """In-process proxy for tests: `with FaultProxy(upstream, config) as proxy: proxy.url`."""

    def __init__(self, upstream: str, config: dict | None = None, port: int = 0):
        self.state = FaultState(config)
        self.server = FaultProxyServer(("127.0.0.1", port), upstream, self.state)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "FaultProxy":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def parse_rule(text: str) -> dict:
    """`service=rds,region=eu-west-1,throttle=1` -> a rule."""
    rule: dict = {}
    for part in text.split(","):
        key, _, value = part.partition("=")
        key = key.strip()
        if key in ("service", "region", "action", "drop_mode"):
            rule[key] = value.strip()
        elif key == "times":
            rule[key] = int(value)
        else:
            rule[key] = float(value)
    return rule


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--upstream", required=True, help="the emulator, e.g. http://127.0.0.1:5000")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--config", help="a JSON file with the configuration (flags override it)")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--throttle", type=float, help="probability of a throttling answer")
    parser.add_argument("--error", type=float, help="probability of a 500/503 answer")
    parser.add_argument("--drop", type=float, help="probability of closing the connection unanswered")
    parser.add_argument("--drop-mode", choices=("before", "after"))
    parser.add_argument("--latency-ms", type=float)
    parser.add_argument("--jitter-ms", type=float)
    parser.add_argument("--rate", type=float, help="token bucket refill, requests/s per (service, region)")
    parser.add_argument("--burst", type=float, help="token bucket capacity")
    parser.add_argument("--rule", action="append", default=[],
                        help="service=...,region=...,action=...,throttle=1[,times=N] (repeatable)")
    args = parser.parse_args()
    config = json.loads(Path(args.config).read_text()) if args.config else {}
    for key in ("seed", "throttle", "error", "drop", "drop_mode", "latency_ms", "jitter_ms", "rate", "burst"):
        value = getattr(args, key)
        if value is not None:
            config[key] = value
    config.setdefault("rules", [])
    config["rules"] += [parse_rule(r) for r in args.rule]
    proxy = FaultProxy(args.upstream, config, args.port).start()
    env = emulator.product_environment(proxy.port)
    print(json.dumps({**env, "port": proxy.port, "env": env}), flush=True)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    def watch_stdin() -> None:
        try:
            while os.read(sys.stdin.fileno(), 1024):
                pass
        except OSError:
            pass
        stop.set()

    if not sys.stdin.isatty():
        threading.Thread(target=watch_stdin, daemon=True).start()
    stop.wait()
    proxy.stop()


if __name__ == "__main__":
    main()
