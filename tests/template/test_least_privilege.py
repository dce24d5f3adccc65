#!/usr/bin/env python3
"""The least-privilege check itself (least_privilege.py), on made-up request logs: that it names
IAM actions right, traces assumed roles to the function behind them, and fails both ways."""

import unittest

from least_privilege import (IMPLIED_BY_INVOCATION, Roles, UnknownRequest, compare, iam_action, report)

PLAN = "HARNESSFNcompliance-scanner-plan-dev"
SCAN = "HARNESSFNcompliance-scanner-region-scan-dev"


def request(key: str, service: str, action: str, status: int = 200, **extra) -> dict:
    return {"service": service, "action": action, "status": status, "access_key": key, **extra}


class IamActionTest(unittest.TestCase):
    def test_s3_requests_get_their_iam_names(self):
        for action, expected in [
            ("GET bucket?encryption", "s3:GetEncryptionConfiguration"),
            ("GET bucket?object-lock", "s3:GetBucketObjectLockConfiguration"),
            ("GET bucket?encoding-type,list-type,prefix", "s3:ListBucket"),
            ("GET /", "s3:ListAllMyBuckets"),
            ("GET object?x-id", "s3:GetObject"),
            ("POST object?uploads", "s3:PutObject"),
            ("DELETE object?uploadId", "s3:AbortMultipartUpload"),
            ("PUT object?legal-hold", "s3:PutObjectLegalHold"),
        ]:
            self.assertEqual(iam_action({"service": "s3", "action": action})[0], expected, action)

    def test_other_protocols(self):
        self.assertEqual(iam_action({"service": "monitoring", "action": "PutMetricData"})[0],
                         "cloudwatch:PutMetricData")
        self.assertEqual(iam_action({"service": "s3control", "action": "GET /v20180820/accesspoint/ap-1"})[0],
                         "s3:GetAccessPoint")
        self.assertEqual(iam_action({"service": "securityhub", "action": "POST /findings/import"})[0],
                         "securityhub:BatchImportFindings")

    def test_an_unknown_request_is_an_error_not_a_pass(self):
        with self.assertRaises(UnknownRequest):
            iam_action({"service": "s3", "action": "PUT bucket?website"})


class CompareTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.roles = Roles()

    def test_a_call_without_its_grant_fails(self):
        found = compare([request(PLAN, "ec2", "DescribeInstances")], self.roles)
        self.assertIn("ec2:DescribeInstances", found["roles"]["PlanRole"]["missing"])
        self.assertTrue(any("PlanRole: calls ec2:DescribeInstances" in f for f in report(found)))

    def test_a_grant_without_its_call_fails(self):
        found = compare([request(PLAN, "sts", "GetCallerIdentity")], self.roles)
        self.assertIn("organizations:ListAccounts", found["roles"]["PlanRole"]["unused"])
        self.assertEqual(found["roles"]["PlanRole"]["missing"], [])
        for action in IMPLIED_BY_INVOCATION:
            self.assertIn(action, found["roles"]["PlanRole"]["called"], "Lambda's own use of the role")

    def test_member_calls_are_the_member_roles_and_the_harnesss_are_nobodys(self):
        member = "arn:aws:iam::210987654321:role/ComplianceScannerMemberRole"
        found = compare([
            request(SCAN, "sts", "AssumeRole"),
            request("ASIAFROMSCAN", "ec2", "DescribeVpcs", role=member, assumed_by=SCAN),
            request("ASIAFROMHARNESS", "s3", "PUT bucket", role=member, assumed_by="testing"),
        ], self.roles)
        called = found["roles"]["member:MemberRole"]["called"]
        self.assertEqual(called["ec2:DescribeVpcs"], ["compliance-scanner-region-scan-dev"])
        self.assertNotIn("s3:CreateBucket", called)

    def test_a_missing_key_read_as_absent_needs_list_bucket(self):
        store = "HARNESSFNcompliance-scanner-store-report-dev"
        found = compare([request(store, "s3", "GET object?x-id", status=404)], self.roles)
        self.assertIn("s3:ListBucket", found["roles"]["StoreReportRole"]["called"])


if __name__ == "__main__":
    unittest.main()
