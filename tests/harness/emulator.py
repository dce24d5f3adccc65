#!/usr/bin/env python3
"""Starts moto's server for the scanner's tests, demo and benchmark.

Test infrastructure only: it fills gaps where moto 5.2 differs from AWS, so the product talks to
the emulator exactly as it talks to AWS (through the standard AWS_ENDPOINT_URL variables).

Fixes applied to moto, each where moto's answer is not what S3 returns:
  * GetBucketVersioning answers with a `GetBucketVersioningResponse` root element and never
    reports MFA delete; S3 answers `VersioningConfiguration` with `Status` and `MfaDelete`.
    PutBucketVersioning's `MfaDelete` is stored so that it can be read back.
  * GetBucketPolicyStatus is not implemented and falls through to ListObjects; it now answers
    501 NotImplemented, as S3-compatible stores without the API do.
A control endpoint, POST /_harness/deny with a JSON list like ["ec2:ap-southeast-1"], makes the
emulator refuse every request signed for those service/region pairs with the error AWS gives a
caller without permission (moto's IAM emulation cannot scope a deny to one region).

S3 Control puts the account id in front of the endpoint host (`123456789012.localhost`), so
that name must resolve to 127.0.0.1: the harness adds it to /etc/hosts when it is missing.

Prints one JSON line with the endpoint variables once the server is ready, then serves until
SIGTERM/SIGINT or until its standard input closes (so a crashed test leaves no server behind).
"""

import argparse
import json
import logging
import os
import re
import signal
import socket
import sys
import threading

ACCOUNT_ID = "123456789012"
S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"


def patch_s3() -> None:
    from moto.s3.responses import S3Response

    original_get = S3Response._bucket_response_get
    original_put = S3Response._bucket_response_put

    def bucket_get(self, bucket_name, querystring):
        if "policyStatus" in querystring:
            body = (
                '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NotImplemented</Code>'
                "<Message>GetBucketPolicyStatus is not implemented by the emulator</Message></Error>"
            )
            return 501, {"Content-Type": "application/xml"}, body
        return original_get(self, bucket_name, querystring)

    def bucket_put(self, request, bucket_name, querystring):
        if "versioning" in querystring:
            body = self.body.decode("utf-8") if isinstance(self.body, bytes) else (self.body or "")
            mfa = re.search(r"<MfaDelete>(Enabled|Disabled)</MfaDelete>", body)
            response = original_put(self, request, bucket_name, querystring)
            if mfa:
                self.backend.get_bucket(bucket_name).mfa_delete_status = mfa.group(1)
            return response
        return original_put(self, request, bucket_name, querystring)

    def get_bucket_versioning(self):
        bucket = self.backend.get_bucket(self.bucket_name)
        parts = [f'<?xml version="1.0" encoding="UTF-8"?><VersioningConfiguration xmlns="{S3_NS}">']
        if bucket.versioning_status:
            parts.append(f"<Status>{bucket.versioning_status}</Status>")
        mfa = getattr(bucket, "mfa_delete_status", None)
        if mfa:
            parts.append(f"<MfaDelete>{mfa}</MfaDelete>")
        parts.append("</VersioningConfiguration>")
        return 200, {"Content-Type": "application/xml"}, "".join(parts)

    S3Response._bucket_response_get = bucket_get
    S3Response._bucket_response_put = bucket_put
    S3Response.get_bucket_versioning = get_bucket_versioning


DENIED: set[tuple[str, str]] = set()
SIGV4_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")


def access_denied(service: str) -> bytes:
    """The error document each protocol uses for a caller without permission."""
    if service == "ec2":
        return (
            b'<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>UnauthorizedOperation</Code>'
            b"<Message>You are not authorized to perform this operation.</Message></Error></Errors>"
            b"<RequestID>harness-deny</RequestID></Response>"
        )
    if service == "s3":
        return (
            b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>'
            b"<Message>Access Denied</Message><RequestId>harness-deny</RequestId></Error>"
        )
    return (
        b'<?xml version="1.0" encoding="UTF-8"?><ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>'
        b"<Message>User is not authorized to perform this action</Message></Error>"
        b"<RequestId>harness-deny</RequestId></ErrorResponse>"
    )


def with_harness_controls(app):
    def wrapped(environ, start_response):
        if environ.get("PATH_INFO") == "/_harness/deny" and environ.get("REQUEST_METHOD") == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            pairs = json.loads(environ["wsgi.input"].read(length) or b"[]")
            DENIED.clear()
            DENIED.update(tuple(pair.split(":", 1)) for pair in pairs)
            start_response("204 No Content", [("Content-Length", "0")])
            return [b""]
        scope = SIGV4_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        if scope and (scope.group(2), scope.group(1)) in DENIED:
            body = access_denied(scope.group(2))
            start_response("403 Forbidden", [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))])
            return [body]
        return app(environ, start_response)

    return wrapped


def ensure_account_host() -> str:
    """S3 Control requests go to {account}.{endpoint host}; make that name resolve locally."""
    host = f"{ACCOUNT_ID}.localhost"
    try:
        socket.gethostbyname(host)
        return host
    except OSError:
        pass
    try:
        with open("/etc/hosts", "a", encoding="utf-8") as hosts:
            hosts.write(f"\n127.0.0.1 {host}  # compliance-scanner test harness (S3 Control)\n")
        socket.gethostbyname(host)
    except OSError as err:
        sys.exit(
            f"emulator: cannot resolve {host} and cannot add it to /etc/hosts ({err}); "
            f"add '127.0.0.1 {host}' to /etc/hosts and retry"
        )
    return host


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    args = parser.parse_args()

    ensure_account_host()
    patch_s3()
    # One log line per request drowns test output; errors still show.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    class HarnessServer(ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = with_harness_controls(DomainDispatcherApplication(create_backend_app))
            self._server = make_server(self._ip_address, self._port, app, True)
            self._server_ready_event.set()
            self._server.serve_forever()

    server = HarnessServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    print(
        json.dumps(
            {
                "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
                "AWS_ENDPOINT_URL_S3_CONTROL": f"http://localhost:{port}",
                "port": port,
            }
        ),
        flush=True,
    )

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    def watch_stdin() -> None:
        # Raw reads: a buffered sys.stdin read blocked in a daemon thread can abort the
        # interpreter at exit.
        try:
            while os.read(sys.stdin.fileno(), 1024):
                pass
        except OSError:
            pass
        stop.set()

    if not sys.stdin.isatty():
        threading.Thread(target=watch_stdin, daemon=True).start()
    stop.wait()
    server.stop()


if __name__ == "__main__":
    main()
