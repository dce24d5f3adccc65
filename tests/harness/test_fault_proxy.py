"""Tests of the fault proxy (fault_proxy.py): `python -m unittest discover -s tests/harness`.

The seeded draw and the token bucket are tested on their own; each protocol's error shapes are
parsed by botocore (a boto3 client through the proxy gets a ClientError with the right code,
which botocore's retry classifies as throttling, or as transient for a 5xx); forwarding (keep-
alive, chunked and large bodies, S3 Control through the proxy as an HTTP proxy, dropped
connections, rules, the control endpoints) runs against the harness's emulator.
"""

import http.client
import json
import os
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request
from pathlib import Path
from unittest import mock

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import boto3  # noqa: E402
import botocore.config  # noqa: E402
import botocore.exceptions  # noqa: E402
from botocore.retries.standard import (  # noqa: E402
    RetryContext,
    ThrottledRetryableChecker,
    TransientRetryableChecker,
)

import fault_proxy  # noqa: E402

CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
NO_RETRY = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=30)
SIG_US = "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0"


class FakeHeaders(dict):
    def get(self, key, default=None):
        return super().get(key, default)


def info(service="ec2", region="us-east-1", action="DescribeInstances", path="/"):
    headers = FakeHeaders({"Authorization": SIG_US.replace("us-east-1", region).format(service=service),
                           "Content-Type": "application/x-www-form-urlencoded", "Host": "127.0.0.1"})
    return fault_proxy.RequestInfo("POST", path, headers, f"Action={action}&Version=1".encode())


class SeededDrawTest(unittest.TestCase):
    def plans(self, seed, order):
        state = fault_proxy.FaultState({"seed": seed, "throttle": 0.3, "error": 0.1, "drop": 0.1})
        out = {}
        for key in order:
            out.setdefault(key, []).append(state.decide(info(*key))["fault"])
        return out

    def test_same_seed_same_faults_whatever_the_interleaving(self):
        a, b = ("ec2", "us-east-1", "DescribeInstances"), ("rds", "eu-west-1", "DescribeDBInstances")
        first = self.plans(7, [a] * 50 + [b] * 50)
        second = self.plans(7, [a, b] * 50)
        self.assertEqual(first, second)
        self.assertNotEqual(first, self.plans(8, [a] * 50 + [b] * 50))

    def test_probabilities_are_disjoint_and_roughly_as_configured(self):
        state = fault_proxy.FaultState({"seed": 1, "throttle": 0.2, "drop": 0.1})
        faults = [state.decide(info(action=f"Op{i % 7}"))["fault"] for i in range(4000)]
        self.assertAlmostEqual(faults.count("throttle_random") / 4000, 0.2, delta=0.03)
        self.assertAlmostEqual(faults.count("drop_before") / 4000, 0.1, delta=0.03)
        self.assertEqual(faults.count(500) + faults.count(503), 0)

    def test_latency_is_fixed_plus_seeded_jitter(self):
        state = fault_proxy.FaultState({"seed": 3, "latency_ms": 50, "jitter_ms": 20})
        latencies = [state.decide(info(action=f"Op{i}"))["latency"] for i in range(200)]
        self.assertTrue(all(0.05 <= x <= 0.07 for x in latencies))
        self.assertGreater(max(latencies) - min(latencies), 0.015)

    def test_rule_selects_one_unit_and_times_limits_it(self):
        state = fault_proxy.FaultState({"rules": [{"service": "rds", "region": "eu-west-1", "throttle": 1}]})
        self.assertTrue(all(state.decide(info("rds", "eu-west-1", "DescribeDBInstances"))["fault"] == "throttle_random"
                            for _ in range(100)))
        self.assertIsNone(state.decide(info("rds", "us-east-1", "DescribeDBInstances"))["fault"])
        self.assertIsNone(state.decide(info("ec2", "eu-west-1", "DescribeInstances"))["fault"])
        state = fault_proxy.FaultState({"rules": [{"action": "Describe*", "error": 1, "times": 2}]})
        self.assertEqual([state.decide(info())["fault"] in (500, 503) for _ in range(4)], [True, True, False, False])

    def test_bad_configuration_is_refused(self):
        with self.assertRaises(ValueError):
            fault_proxy.FaultState({"throtle": 0.2})
        with self.assertRaises(ValueError):
            fault_proxy.FaultState({"rules": [{"servce": "rds"}]})


class TokenBucketTest(unittest.TestCase):
    def test_burst_then_refill_at_the_rate(self):
        clock = [1000.0]
        with mock.patch.object(fault_proxy.time, "monotonic", lambda: clock[0]):
            state = fault_proxy.FaultState({"rate": 20, "burst": 20})
            ec2 = [state.decide(info())["fault"] for _ in range(25)]
            self.assertEqual(ec2.count(None), 20)
            self.assertEqual(ec2.count("throttle_bucket"), 5)
            # Another (service, region) has its own bucket.
            self.assertIsNone(state.decide(info("ec2", "eu-west-1"))["fault"])
            self.assertIsNone(state.decide(info("rds"))["fault"])
            clock[0] += 0.5  # 10 tokens at 20/s
            again = [state.decide(info())["fault"] for _ in range(12)]
            self.assertEqual(again.count(None), 10)
            clock[0] += 100  # never more than the burst
            again = [state.decide(info())["fault"] for _ in range(25)]
            self.assertEqual(again.count(None), 20)

    def test_bucket_over_real_time(self):
        state = fault_proxy.FaultState({"rate": 50, "burst": 5})
        started = time.monotonic()
        passed = 0
        while time.monotonic() - started < 1.0:
            passed += state.decide(info())["fault"] is None
            time.sleep(0.002)
        self.assertTrue(45 <= passed <= 60, passed)


def start_emulator():
    proc = subprocess.Popen([sys.executable, str(HERE / "emulator.py")], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError("the emulator did not start")
    return proc, json.loads(line)


class ThroughTheProxyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emulator, endpoints = start_emulator()
        cls.proxy = fault_proxy.FaultProxy(endpoints["AWS_ENDPOINT_URL"]).start()
        cls.url = cls.proxy.url

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.emulator.stdin.close()
        cls.emulator.wait(timeout=30)
        cls.emulator.stdout.close()

    def setUp(self):
        self.configure({})
        self.control("POST", "/_proxy/stats/reset")

    def control(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def configure(self, config):
        return self.control("POST", "/_proxy/config", config)

    def client(self, service, region="us-east-1", config=NO_RETRY, **kwargs):
        return boto3.client(service, region_name=region, endpoint_url=self.url, config=config, **CREDENTIALS, **kwargs)

    def s3control(self, config=NO_RETRY):
        proxied = config.merge(botocore.config.Config(proxies={"http": self.url}))
        return boto3.client("s3control", region_name="us-east-1", endpoint_url=f"http://s3-control.invalid:{self.proxy.port}",
                            config=proxied, **CREDENTIALS)

    # One call per protocol: (client factory, call, throttling code, status).
    def calls(self):
        return {
            "ec2": (lambda: self.client("ec2"), lambda c: c.describe_instances(), "RequestLimitExceeded", 503),
            "s3": (lambda: self.client("s3"), lambda c: c.list_buckets(), "SlowDown", 503),
            "s3control": (lambda: self.s3control(),
                          lambda c: c.get_public_access_block(AccountId="123456789012"), "TooManyRequestsException", 400),
            "rds": (lambda: self.client("rds"), lambda c: c.describe_db_instances(), "Throttling", 400),
            "sts": (lambda: self.client("sts"), lambda c: c.get_caller_identity(), "Throttling", 400),
            "ssm": (lambda: self.client("ssm"), lambda c: c.get_parameters_by_path(Path="/x"), "ThrottlingException", 400),
            "dynamodb": (lambda: self.client("dynamodb"), lambda c: c.list_tables(), "ThrottlingException", 400),
            "sns": (lambda: self.client("sns"), lambda c: c.list_topics(), "Throttling", 400),
            "stepfunctions": (lambda: self.client("stepfunctions"), lambda c: c.list_state_machines(),
                              "ThrottlingException", 400),
            "securityhub": (lambda: self.client("securityhub"), lambda c: c.get_findings(), "ThrottlingException", 429),
        }

    def test_each_service_throttles_in_its_own_shape_and_botocore_calls_it_throttling(self):
        self.configure({"throttle": 1.0})
        for service, (make, call, code, status) in self.calls().items():
            with self.subTest(service=service):
                with self.assertRaises(botocore.exceptions.ClientError) as caught:
                    call(make())
                response = caught.exception.response
                self.assertEqual(response["Error"]["Code"], code)
                self.assertEqual(response["ResponseMetadata"]["HTTPStatusCode"], status)
                context = RetryContext(attempt_number=1, parsed_response=response)
                self.assertTrue(ThrottledRetryableChecker().is_retryable(context), code)
        stats = self.control("GET", "/_proxy/stats")
        self.assertEqual(stats["injected"]["throttle_random"], len(self.calls()))
        self.assertIn("s3control:us-east-1", stats["by_unit"])
        self.assertIn("rds:us-east-1:DescribeDBInstances", stats["by_action"])

    def test_server_errors_are_transient_in_each_shape(self):
        self.configure({"error": 1.0, "seed": 5})
        codes = set()
        for service, (make, call, _, _) in self.calls().items():
            for _ in range(3):
                with self.subTest(service=service), self.assertRaises(botocore.exceptions.ClientError) as caught:
                    call(make())
                response = caught.exception.response
                self.assertIn(response["ResponseMetadata"]["HTTPStatusCode"], (500, 503))
                codes.add((service, response["Error"]["Code"]))

                class Http:  # what TransientRetryableChecker reads of the raw answer
                    status_code = response["ResponseMetadata"]["HTTPStatusCode"]

                context = RetryContext(attempt_number=1, parsed_response=response, http_response=Http())
                self.assertTrue(TransientRetryableChecker().is_retryable(context))
        self.assertLessEqual({code for s, code in codes if s == "ec2"}, {"InternalError", "Unavailable"})
        self.assertLessEqual({code for s, code in codes if s == "s3"}, {"InternalError", "ServiceUnavailable"})
        self.assertLessEqual({code for s, code in codes if s == "rds"}, {"InternalFailure", "ServiceUnavailable"})

    def test_forwards_without_faults_and_streams_large_bodies(self):
        s3 = self.client("s3")
        s3.create_bucket(Bucket="proxy-large")
        payload = os.urandom(3 * 1024 * 1024 + 17)
        s3.put_object(Bucket="proxy-large", Key="blob", Body=payload)
        self.assertEqual(s3.get_object(Bucket="proxy-large", Key="blob")["Body"].read(), payload)
        self.assertEqual(s3.head_object(Bucket="proxy-large", Key="blob")["ContentLength"], len(payload))
        self.assertIsInstance(self.client("ec2").describe_regions()["Regions"], list)
        self.assertIn("BlockPublicAcls", json.dumps(self.s3control_pab_or_error()))
        stats = self.control("GET", "/_proxy/stats")
        self.assertEqual(stats["injected_total"], 0)
        self.assertEqual(stats["requests"], stats["forwarded"])

    def s3control_pab_or_error(self):
        client = self.s3control()
        client.put_public_access_block(AccountId="123456789012", PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
        return client.get_public_access_block(AccountId="123456789012")["PublicAccessBlockConfiguration"]

    def test_chunked_request_body_with_trailer_on_a_kept_alive_connection(self):
        self.client("s3").create_bucket(Bucket="proxy-chunked")
        conn = http.client.HTTPConnection("127.0.0.1", self.proxy.port, timeout=10)
        headers = {"Authorization": SIG_US.format(service="s3"), "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
                   "Transfer-Encoding": "chunked", "Trailer": "x-amz-meta-trailer"}
        parts = [b"a" * 10, b"b" * 70000, b"c" * 3]
        conn.putrequest("PUT", "/proxy-chunked/k", skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.endheaders()
        for part in parts:
            conn.send(b"%x;ext=1\r\n%s\r\n" % (len(part), part))
        conn.send(b"0\r\nx-amz-meta-trailer: yes\r\n\r\n")
        response = conn.getresponse()
        response.read()
        self.assertEqual(response.status, 200)
        # The same connection: a throttled request (its body read and discarded), then a GET.
        self.configure({"rules": [{"service": "s3", "action": "PUT object", "throttle": 1}]})
        conn.request("PUT", "/proxy-chunked/k2", body=b"x" * 5000, headers={"Authorization": SIG_US.format(service="s3")})
        response = conn.getresponse()
        self.assertEqual(response.status, 503)
        self.assertIn(b"<Code>SlowDown</Code>", response.read())
        conn.request("GET", "/proxy-chunked/k", headers={"Authorization": SIG_US.format(service="s3")})
        response = conn.getresponse()
        self.assertEqual(response.read(), b"".join(parts))
        self.assertEqual(response.getheader("x-amz-meta-trailer"), "yes")
        conn.close()

    def test_dropped_connection_is_a_connection_error_and_retries_succeed(self):
        self.configure({"drop": 1.0})
        with self.assertRaises((botocore.exceptions.HTTPClientError,
                                botocore.exceptions.ConnectionError)):
            self.client("ec2").describe_instances()
        self.assertEqual(self.control("GET", "/_proxy/stats")["injected"]["drop_before"], 1)
        # The first two calls of the unit fail (a throttle, a drop), the third answers: the
        # client's retry gets through.
        self.configure({"rules": [{"service": "rds", "throttle": 1, "times": 1}, {"service": "rds", "drop": 1, "times": 1}]})
        self.control("POST", "/_proxy/stats/reset")
        retrying = botocore.config.Config(retries={"total_max_attempts": 5, "mode": "standard"})
        self.assertIn("DBInstances", self.client("rds", config=retrying).describe_db_instances())
        stats = self.control("GET", "/_proxy/stats")
        self.assertEqual((stats["requests"], stats["forwarded"], stats["injected_total"]), (3, 1, 2))
        self.assertEqual(stats["rule_hits"], [1, 1])

    def test_drop_after_forwarding_loses_the_answer(self):
        self.configure({"drop": 1.0, "drop_mode": "after"})
        with self.assertRaises(botocore.exceptions.HTTPClientError):
            self.client("sqs").create_queue(QueueName="lost-answer")
        self.configure({})
        urls = self.client("sqs").list_queues().get("QueueUrls", [])
        self.assertTrue(any(u.endswith("/lost-answer") for u in urls))
        self.assertEqual(self.control("GET", "/_proxy/stats")["injected"]["drop_after"], 1)

    def test_stats_reset_and_config_round_trip(self):
        config = self.configure({"seed": 9, "rate": 5, "burst": 2, "rules": [{"service": "ec2", "latency_ms": 1}]})
        self.assertEqual(self.control("GET", "/_proxy/config"), config)
        self.client("sts").get_caller_identity()
        self.assertEqual(self.control("GET", "/_proxy/stats")["requests"], 1)
        self.control("POST", "/_proxy/stats/reset")
        self.assertEqual(self.control("GET", "/_proxy/stats")["requests"], 0)
        with self.assertRaises(urllib.error.HTTPError) as caught:
            self.configure({"nonsense": 1})
        self.assertEqual(caught.exception.code, 400)


if __name__ == "__main__":
    unittest.main()
