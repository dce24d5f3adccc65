#!/usr/bin/env python3
"""Runs the scanner's Rust Lambda binaries locally, without Docker, for the tests.

Test infrastructure only. Each function binary (`lambda_runtime` crate) runs as a plain process
polling an emulated Lambda Runtime API (one HTTP server per process, as in the AWS docs "Using the
Lambda runtime API for custom runtimes"); callers use an emulated Lambda Invoke API, so boto3 and
moto's Step Functions engine call the functions exactly as they call AWS.

  serve --function NAME=BINARY [...] [--env K=V ...] [--port P] [--timeout S]
      Prints {"endpoint": "http://127.0.0.1:PORT"} when ready; serves until SIGTERM/SIGINT or
      until stdin closes (if not a tty). Processes start lazily, on their first invocation.
  invoke --binary BINARY --event FILE|- [--name NAME] [--env K=V ...] [--timeout S]
      Prints the response (exit 0) or the function error (exit 1); if the process itself fails
      (init, crash, timeout), the same kind of error JSON, a note on stderr and exit 2.

Each function runs with its own access key (`function_access_key`), as each Lambda function has
its own execution role's credentials; the emulator's request log records the key, so every AWS
request is attributed to the function that made it (tests/template/least_privilege.py).

As in Lambda: one invocation at a time per process (others queue); function errors answer 200 with
`X-Amz-Function-Error: Unhandled`; timeouts give `Sandbox.Timedout`, crashes `Runtime.ExitError`,
and the process is replaced. Processes get the bridge's environment, the Lambda variables and
--env; their output goes to stderr prefixed with the function name; they die with the bridge.
"""

import argparse
import collections
import contextlib
import ctypes
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

ACCOUNT_ID = "123456789012"
RUNTIME = "/2018-06-01/runtime"
INVOKE_PATH = re.compile(r"/2015-03-31/functions/([^/]+)/invocations")
FUNCTION_REF = re.compile(r"(?:arn:[^:]+:lambda:[^:]*:)?(?:\d{12}:)?(?:function:)?([\w-]+)(?::[^:]+)?")
_output = threading.Lock()
FUNCTION_KEY_PREFIX = "HARNESSFN"


def function_access_key(name: str) -> str:
    """The access key a function's process signs with: its name behind a fixed prefix, so the
    emulator's request log names the caller (moto accepts any key and acts in its default
    account for a key it does not know, as for the shared test key)."""
    return FUNCTION_KEY_PREFIX + name


def function_of_access_key(key: str) -> str | None:
    """The function whose process signs with `key`, or None for any other caller."""
    return key[len(FUNCTION_KEY_PREFIX):] if key.startswith(FUNCTION_KEY_PREFIX) else None


# With LAMBDA_BRIDGE_LOG_FILE set, the functions' own output goes to that file (tests read it,
# e.g. to prove a secret is never logged); the bridge's messages stay on stderr.
FUNCTION_LOG = os.environ.get("LAMBDA_BRIDGE_LOG_FILE")


# With LAMBDA_BRIDGE_RSS_LOG set (bench/org.py), one JSON line per invocation is appended to that
# file: the function, the process id, when the event was queued, the invocation's duration, the
# process's CPU time so far (user + system), its peak RSS so far (VmHWM) and RSS (VmRSS), read
# from /proc once the response is in, and the event's account_id, region and service when it has
# them. A process serves one invocation at a time and lives across invocations (a warm sandbox),
# so VmHWM after the last invocation is the process's peak, and CPU time deltas are per invocation.
RSS_LOG = os.environ.get("LAMBDA_BRIDGE_RSS_LOG")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def memory_kib(pid: int) -> dict[str, int]:
    fields = {}
    with contextlib.suppress(OSError):
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                name, _, value = line.partition(":")
                if name in ("VmHWM", "VmRSS"):
                    fields[name] = int(value.split()[0])
    return fields


def cpu_seconds(pid: int) -> float | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rpartition(")")[2].split()  # after the command name
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime (fields 14, 15)
    return None


def report_invocation(fn: "Function", pid: int, started: float, seconds: float, event: bytes,
                      result: "Result") -> None:
    memory = memory_kib(pid)
    line = {"function": fn.name, "pid": pid, "started": round(started, 6), "seconds": round(seconds, 6),
            "error": result.error, "cpu_seconds": cpu_seconds(pid),
            "peak_rss_kib": memory.get("VmHWM"), "rss_kib": memory.get("VmRSS")}
    with contextlib.suppress(ValueError):
        parsed = json.loads(event)
        if isinstance(parsed, dict):
            line.update({k: parsed[k] for k in ("account_id", "region", "service") if k in parsed})
    with _output, open(RSS_LOG, "a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")


def log(message: str, prefix: str = "lambda_bridge:") -> None:
    with _output:
        if FUNCTION_LOG and prefix.startswith("["):
            with open(FUNCTION_LOG, "a", encoding="utf-8") as f:
                f.write(f"{prefix} {message}\n")
            return
        sys.stderr.write(f"{prefix} {message}\n")
        sys.stderr.flush()


class Result(NamedTuple):
    body: bytes
    error: bool = False  # answered with X-Amz-Function-Error: Unhandled
    harness: bool = False  # the process failed (init, crash, timeout), not the handler


def failure(error_type: str, message: str) -> Result:
    return Result(json.dumps({"errorType": error_type, "errorMessage": message}).encode(), True, True)


class Invocation:
    def __init__(self, event: bytes, timeout: float):
        self.id, self.event = str(uuid.uuid4()), event
        self.deadline_ms = int((time.time() + timeout) * 1000)
        self.delivered, self.done, self.result = False, threading.Event(), None


_prctl = ctypes.CDLL(None).prctl if sys.platform.startswith("linux") else None  # resolved before any fork
# Every process is forked by this one long-lived thread: PR_SET_PDEATHSIG fires when the *thread*
# that forked a child ends, so forking from short-lived request threads would kill the child.
_spawner = ThreadPoolExecutor(1, thread_name_prefix="spawner")


def spawn(argv: list[str], **kwargs) -> subprocess.Popen:
    die_with_bridge = _prctl and (lambda: _prctl(1, signal.SIGKILL))  # 1: PR_SET_PDEATHSIG
    return _spawner.submit(subprocess.Popen, argv, preexec_fn=die_with_bridge, **kwargs).result(timeout=30)


class JsonHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: always send Content-Length, always read bodies

    def handle(self) -> None:
        with contextlib.suppress(ConnectionError):  # a killed process resets its connections
            super().handle()

    def log_message(self, format, *args) -> None:  # noqa: A002 (the base class's name)
        pass

    def read_body(self) -> bytes:  # lambda_runtime sends Content-Length (no streamed responses)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def reply(self, status: int, body: bytes = b"", headers: list | tuple = ()) -> None:
        self.send_response(status)
        for key, value in [*headers, *([("Content-Type", "application/json")] if body else [])]:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class RuntimeHandler(JsonHandler):
    """The Runtime API that one function process polls; `self.server.sandbox` is that process."""

    def do_GET(self) -> None:
        box = self.server.sandbox
        if self.path != f"{RUNTIME}/invocation/next":
            return self.unsupported(box)
        while not box.closed:  # long poll, until an event is queued or the process is being stopped
            with contextlib.suppress(queue.Empty):
                inv = box.events.get(timeout=0.5)
                break
        else:
            self.close_connection = True
            return self.reply(500, b'{"errorMessage":"the bridge is stopping this process"}')
        inv.delivered = True
        trace = f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Parent={uuid.uuid4().hex[:16]};Sampled=0"
        self.reply(200, inv.event, [("Lambda-Runtime-Aws-Request-Id", inv.id), ("Lambda-Runtime-Trace-Id", trace),
                                    ("Lambda-Runtime-Deadline-Ms", str(inv.deadline_ms)),
                                    ("Lambda-Runtime-Invoked-Function-Arn", box.fn.arn)])

    def do_POST(self) -> None:
        box, body = self.server.sandbox, self.read_body()
        error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
        if self.path == f"{RUNTIME}/init/error":
            box.init_error = json.loads(diagnostic(body, error_type or "Runtime.InitError"))
            return self.reply(202, b'{"status":"OK"}')
        match = re.fullmatch(rf"{RUNTIME}/invocation/([^/]+)/(response|error)", self.path)
        if not match:
            return self.unsupported(box)
        inv = box.pending.pop(match.group(1), None)
        if inv is None:
            return self.reply(400, b'{"errorType":"InvalidRequestID","errorMessage":"unknown or answered request id"}')
        failed = match.group(2) == "error"
        inv.result = Result(diagnostic(body, error_type or "Unhandled") if failed else body, error=failed)
        inv.done.set()
        self.reply(202, b'{"status":"OK"}')

    def unsupported(self, box: "Sandbox") -> None:
        log(f"{box.fn.name}: unsupported Runtime API call {self.command} {self.path}")
        self.reply(404, json.dumps({"errorMessage": f"not emulated: {self.command} {self.path}"}).encode())


def diagnostic(body: bytes, default_type: str) -> bytes:
    """The runtime's {"errorType", "errorMessage", ...} as posted, or a wrapper if it is not one."""
    with contextlib.suppress(ValueError):
        if "errorType" in (json.loads(body) if body.lstrip().startswith(b"{") else {}):
            return body
    return json.dumps({"errorType": default_type, "errorMessage": body.decode("utf-8", "replace")}).encode()


class Sandbox:
    """One function process and the Runtime API server it polls."""

    def __init__(self, fn: "Function"):
        self.fn, self.events, self.pending = fn, queue.Queue(), {}
        self.init_error, self.closed, self.proc = None, False, None
        self.tail: collections.deque = collections.deque(maxlen=6)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), RuntimeHandler)
        self.server.sandbox = self
        threading.Thread(target=self.server.serve_forever, name=f"runtime-{fn.name}", daemon=True).start()
        try:
            self.proc = spawn([fn.binary], env=fn.environment(self.server.server_address[1]),
                              start_new_session=True,  # its own process group, killed as a whole
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except BaseException:
            self.stop()
            raise
        self.pumps = [threading.Thread(target=self.pump, args=(stream,), daemon=True)
                      for stream in (self.proc.stdout, self.proc.stderr)]
        for pump in self.pumps:
            pump.start()

    def pump(self, stream) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            self.tail.append(line)
            log(line, prefix=f"[{self.fn.name}]")

    def wait(self, inv: Invocation, deadline: float) -> Result:
        name, request = self.fn.name, f"(RequestId: {inv.id})"
        while not inv.done.wait(0.05):
            if (error := self.init_error) is not None:
                return failure(error["errorType"], f"{name}: init failed: {error.get('errorMessage')} {request}")
            if (code := self.proc.poll()) is not None and not inv.done.wait(0.2):
                for pump in self.pumps:
                    pump.join(1)  # the last lines of its output
                status = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
                phase = "while handling the event" if inv.delivered else "during init, before asking for the event"
                output = "\n".join(self.tail) or "(no output)"
                return failure("Runtime.ExitError", f"{name}: runtime exited with {status} {phase} {request}; "
                                                    f"last output:\n{output}")
            if time.monotonic() > deadline:
                stuck = "" if inv.delivered else "; it never asked for the event (stuck in init?)"
                return failure("Sandbox.Timedout",
                               f"{name}: task timed out after {self.fn.timeout:.2f} seconds{stuck} {request}")
        return inv.result

    def stop(self) -> None:
        self.closed = True
        for sig, grace in ((signal.SIGTERM, 2), (signal.SIGKILL, 5)):
            if self.proc is None or self.proc.poll() is not None:
                break
            try:
                os.killpg(self.proc.pid, sig)
                self.proc.wait(grace)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        self.server.shutdown()
        self.server.server_close()


class Function:
    """A named function: its binary, settings and current sandbox (one invocation at a time)."""

    def __init__(self, name: str, binary: str, env: dict[str, str], timeout: float):
        self.name, self.binary, self.env, self.timeout = name, binary, env, timeout
        self.region = env.get("AWS_REGION") or os.environ.get("AWS_REGION") or "us-east-1"
        self.arn = f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{name}"
        self.lock, self.sandbox, self.closed = threading.Lock(), None, False

    def environment(self, port: int) -> dict[str, str]:
        inherited = {k: v for k, v in os.environ.items() if k != "AWS_SESSION_TOKEN"}  # another principal's
        return {
            **inherited, "AWS_REGION": self.region, "_HANDLER": "bootstrap",
            # Its own credentials, as each function has its own role (an --env value still wins).
            "AWS_ACCESS_KEY_ID": function_access_key(self.name),
            "AWS_LAMBDA_FUNCTION_NAME": self.name, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{self.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}",
            **self.env, "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
        }

    def invoke(self, event: bytes) -> Result:
        with self.lock:
            deadline = time.monotonic() + self.timeout
            if self.closed:
                return failure("Runtime.ExitError", f"{self.name}: the bridge is shutting down")
            if self.sandbox is None or self.sandbox.proc.poll() is not None:
                if self.sandbox is not None:
                    self.sandbox.stop()
                try:
                    self.sandbox = Sandbox(self)
                except OSError as err:  # TimeoutError included
                    self.sandbox = None
                    return failure("Runtime.InvalidEntrypoint", f"{self.name}: cannot start {self.binary}: {err}")
            box, inv = self.sandbox, Invocation(event, self.timeout)
            box.pending[inv.id] = inv
            started, queued = time.monotonic(), time.time()
            box.events.put(inv)
            result = box.wait(inv, deadline)
            if RSS_LOG:
                report_invocation(self, box.proc.pid, queued, time.monotonic() - started, event, result)
            if result.harness:  # like Lambda: a crashed, failed or timed-out sandbox is replaced
                box.stop()
                self.sandbox = None
            return result

    def close(self) -> None:
        self.closed = True
        if self.sandbox is not None:
            self.sandbox.stop()


class InvokeHandler(JsonHandler):
    """The Lambda Invoke API; `self.server.functions` maps names to Functions."""

    timeout = 600  # closes idle keep-alive connections of callers

    def do_POST(self) -> None:
        body, path = self.read_body(), urlsplit(self.path).path
        if path == "/_harness/faults":
            return self.set_faults(body)
        match = INVOKE_PATH.fullmatch(path)
        if not match:
            return self.aws_error(404, "UnknownOperationException", f"the bridge only emulates Invoke, not POST {path}")
        ref = unquote(match.group(1))
        name = FUNCTION_REF.fullmatch(ref)
        fn = self.server.functions.get(name.group(1) if name else ref)
        if fn is None:
            message = f"Function not found: {ref} (the bridge serves: {', '.join(sorted(self.server.functions))})"
            return self.aws_error(404, "ResourceNotFoundException", message)
        event = body or b"{}"
        try:
            json.loads(event)
        except ValueError as err:
            return self.aws_error(400, "InvalidRequestContentException", f"Could not parse the payload as JSON: {err}")
        headers = [("x-amzn-RequestId", str(uuid.uuid4()))]
        injected = self.injected_fault(fn.name, json.loads(event))
        if injected is not None:
            return self.reply(200, injected.body, headers + [("X-Amz-Function-Error", "Unhandled")])
        if self.headers.get("X-Amz-Invocation-Type", "RequestResponse") == "Event":  # its logs tell the outcome
            threading.Thread(target=fn.invoke, args=(event,), daemon=True).start()
            return self.reply(202, headers=headers)
        result = fn.invoke(event)
        headers.append(("X-Amz-Executed-Version", "$LATEST"))
        self.reply(200, result.body, headers + ([("X-Amz-Function-Error", "Unhandled")] if result.error else []))

    def set_faults(self, body: bytes) -> None:
        """Fault injection for workflow tests: POST /_harness/faults with a list of
        {"function", "error_type", "count", "match": {event field: value}}; the next `count`
        invocations of `function` whose event has those fields fail with `error_type`."""
        with self.server.faults_lock:
            self.server.faults = [dict(f) for f in json.loads(body or b"[]")]
        self.reply(204)

    def injected_fault(self, name: str, event) -> Result | None:
        with self.server.faults_lock:
            for fault in getattr(self.server, "faults", []):
                matches = isinstance(event, dict) and all(event.get(k) == v for k, v in fault.get("match", {}).items())
                if fault.get("function") == name and fault.get("count", 0) > 0 and matches:
                    fault["count"] -= 1
                    log(f"{name}: injected {fault['error_type']} for {json.dumps(event)}")
                    return failure(fault["error_type"], "fault injected by the test harness")._replace(harness=False)
        return None

    def aws_error(self, status: int, error_type: str, message: str) -> None:
        body = json.dumps({"Type": "User", "message": message}).encode()
        self.reply(status, body, [("x-amzn-RequestId", str(uuid.uuid4())), ("x-amzn-ErrorType", error_type)])


def key_value(text: str) -> tuple[str, str]:  # argparse types: errors exit 2 with the usage
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def executable(path: str) -> str:
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise argparse.ArgumentTypeError(f"{path} is not an executable file (build the function first)")
    return os.path.abspath(path)


def function_spec(text: str) -> tuple[str, str]:
    name, path = key_value(text)
    return name, executable(path)


def serve(args: argparse.Namespace) -> None:
    functions = {name: Function(name, path, dict(args.env), args.timeout) for name, path in args.function}
    server = ThreadingHTTPServer(("127.0.0.1", args.port), InvokeHandler)
    server.functions = functions
    server.faults, server.faults_lock = [], threading.Lock()
    threading.Thread(target=server.serve_forever, name="invoke-api", daemon=True).start()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    def watch_stdin() -> None:
        with contextlib.suppress(OSError):
            while os.read(sys.stdin.fileno(), 4096):  # the raw fd: no io lock left held at exit
                pass
        stop.set()

    if not sys.stdin.isatty():
        threading.Thread(target=watch_stdin, daemon=True).start()
    print(json.dumps({"endpoint": f"http://127.0.0.1:{server.server_address[1]}"}), flush=True)
    try:
        stop.wait()
    finally:
        server.shutdown()
        for fn in functions.values():
            fn.close()
        server.server_close()


def invoke(args: argparse.Namespace) -> int:
    try:
        event = sys.stdin.buffer.read() if args.event == "-" else open(args.event, "rb").read()
        json.loads(event)
    except (OSError, ValueError) as err:
        log(f"cannot read the event {args.event}: {err}")
        return 2
    for sig in (signal.SIGTERM, signal.SIGINT):  # exit through `finally`, which stops the process
        signal.signal(sig, lambda signum, _: sys.exit(128 + signum))
    fn = Function(args.name or os.path.basename(args.binary), args.binary, dict(args.env), args.timeout)
    try:
        result = fn.invoke(event)
    finally:
        fn.close()
    sys.stdout.buffer.write(result.body.rstrip(b"\n") + b"\n")
    sys.stdout.flush()
    if result.harness:
        error = json.loads(result.body)
        log(f"the function process failed ({error['errorType']}): {error['errorMessage']}")
        return 2
    return 1 if result.error else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--env", action="append", default=[], type=key_value, metavar="K=V", help="repeatable")
    common.add_argument("--timeout", type=float, default=60.0, help="seconds per invocation (default 60)")
    serve_cmd = commands.add_parser("serve", parents=[common], help="serve the Lambda Invoke API")
    serve_cmd.add_argument("--function", action="append", required=True, type=function_spec, metavar="NAME=BINARY")
    serve_cmd.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    invoke_cmd = commands.add_parser("invoke", parents=[common], help="invoke a binary once")
    invoke_cmd.add_argument("--binary", required=True, type=executable)
    invoke_cmd.add_argument("--event", required=True, help="event JSON file, or - for stdin")
    invoke_cmd.add_argument("--name", help="function name (default: the binary's file name)")
    args = parser.parse_args()
    if args.command == "serve":
        serve(args)
    else:
        sys.exit(invoke(args))


if __name__ == "__main__":
    main()
