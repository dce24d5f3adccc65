"""Self-tests of the finding schemas and of tests/harness/validate_findings.py.

Run: .venv/bin/python -m unittest discover -s tests/schemas
"""

import copy
import json
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
HARNESS = HERE.parent / "harness"
SAMPLES = HERE / "samples"
sys.path.insert(0, str(HARNESS))

import jsonschema  # noqa: E402
import pydantic  # noqa: E402
import validate_findings as vf  # noqa: E402
from py_ocsf_models.events.findings.detection_finding import DetectionFinding  # noqa: E402

# finding index -> the one (path, message fragment) each invalid sample must produce, and nothing else.
ASFF_EXPECTED = {
    0: ("Id", "maxLength of 512"),
    1: ("Types[0]", "does not match '^(Software and Configuration Checks|TTPs|"),
    2: ("Types[0]", "(Vulnerabilities|AWS Security Best Practices|Industry and Regulatory Standards)"),
    3: ("Severity.Label", "'SEVERE' is not one of"),
    4: ("Resources[0].Partition", "'aws-global' is not one of"),
    5: ("Compliance.Status", "'FAIL' is not one of"),
    6: ("Compliance.RelatedRequirements", "33 items, more than the maxItems of 32"),
    7: ("ProductFields", "reserved 'aws/' prefix"),
    8: ("ProductArn", "does not match AwsAccountId"),
    9: ("CreatedAt", "'2024-05-01 12:00:00Z' does not match"),
    10: ("Remediation.Recommendation.Text", "maxLength of 512"),
    11: ("Note", "'UpdatedAt' is a required property"),
    12: ("RecordState", "'OPEN' is not one of"),
    13: ("AwsAccountId", "does not match '^[0-9]{12}$'"),
    14: ("UpdatedAt", "is earlier than CreatedAt"),
    15: ("Resources[0].Tags.Name", "'a,b' does not match"),
    16: ("(root)", "'Criticallity' was unexpected"),
}
OCSF_EXPECTED = {
    0: ("type_uid", "is not class_uid * 100 + activity_id = 200401"),
    1: ("time", "looks like epoch seconds"),
    2: ("severity_id", "7 is not one of"),
    3: ("severity", "'High' was expected"),
    4: ("status", "'In Progress' was expected"),
    5: ("(root)", "'compliance' only for Compliance Finding (class_uid 2003)"),
    6: ("metadata.version", "'1.1.0' was expected"),
    7: ("metadata.product", "'vendor_name' is a required property"),
    8: ("finding_info", "'title' is a required property"),
    9: ("cloud", "'provider' is a required property"),
    10: ("resources[0]", "'uid' is a required property"),
    11: ("remediation", "'desc' is a required property"),
    12: ("unmapped.compliance.status", "'Fail' was expected"),
    13: ("cloud.account.uid", "does not match '^[0-9]{12}$'"),
    14: ("(root)", "'risk_details' was unexpected"),
    15: ("finding_info.last_seen_time", "is earlier than finding_info.first_seen_time"),
    16: ("metadata.profiles", "does not contain 'datetime'"),
    17: ("cloud.account", "'name' is a required property"),
}


def load(name):
    return json.loads((SAMPLES / name).read_text())


def problems(fmt, findings, unique=False):
    return vf.validate(fmt, findings, vf.load_schema(fmt), require_unique_ids=unique)


def run_cli(*args):
    return subprocess.run([sys.executable, str(HARNESS / "validate_findings.py"), *args],
                          capture_output=True, text=True, check=False)


class Schemas(unittest.TestCase):
    def test_schemas_are_valid_draft7(self):
        for fmt in ("asff", "ocsf"):
            jsonschema.Draft7Validator.check_schema(vf.load_schema(fmt))

    def test_valid_samples_pass(self):
        for fmt, name in (("asff", "asff_valid.json"), ("ocsf", "ocsf_valid.json")):
            result = run_cli("--format", fmt, "--require-unique-ids", str(SAMPLES / name))
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
            self.assertEqual(result.stdout, "")

    def check_invalid(self, fmt, name, expected):
        findings = load(name)
        self.assertEqual(len(findings), len(expected))
        found = {}
        for index, _fid, path, message in problems(fmt, findings):
            found.setdefault(index, []).append((path, message))
        for index, (path, fragment) in expected.items():
            with self.subTest(fmt=fmt, finding=index):
                self.assertEqual(len(found.get(index, [])), 1, found.get(index))
                got_path, got_message = found[index][0]
                self.assertEqual(got_path, path)
                self.assertIn(fragment, got_message)
        result = run_cli("--format", fmt, str(SAMPLES / name))
        self.assertEqual(result.returncode, 1)
        lines = result.stdout.splitlines()
        self.assertEqual(len(lines), len(expected))
        for line in lines:
            self.assertRegex(line, r"^finding\[\d+\] \(Id=[^)]*\): \S.*: .+$")

    def test_each_invalid_asff_sample_fails_for_its_reason(self):
        self.check_invalid("asff", "asff_invalid.json", ASFF_EXPECTED)

    def test_each_invalid_ocsf_sample_fails_for_its_reason(self):
        self.check_invalid("ocsf", "ocsf_invalid.json", OCSF_EXPECTED)


class AsffRules(unittest.TestCase):
    def setUp(self):
        self.base = load("asff_valid.json")["Findings"][1]

    def errors(self, **changes):
        finding = copy.deepcopy(self.base)
        finding.update(changes)
        return problems("asff", [finding])

    def test_documented_timestamp_forms(self):
        for good in ("2019-01-31T23:00:00Z", "2019-01-31T23:00:00.123456789Z", "2024-01-04T15:25:10+17:59",
                     "2024-01-04T15:25:10-1759", "2024-01-04T15:25:10.123456789+17:59", "2024-01-04T15:25:10+05"):
            self.assertEqual(self.errors(CreatedAt="2019-01-01T00:00:00Z", UpdatedAt=good), [], good)
        for bad in ("2024-01-04T15:25:10.1234567891Z", "2024-01-04T15:25:10+18:01", "2024-01-04T15:25:10z",
                    "2024-01-04T15:25:10", "2024-01-04 15:25:10Z", "2024-13-04T15:25:10Z"):
            self.assertTrue(self.errors(UpdatedAt=bad), bad)

    def test_taxonomy_types(self):
        for good in ("Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark",
                     "Software and Configuration Checks/Industry and Regulatory Standards/PCI-DSS Controls",
                     "Software and Configuration Checks/Industry and Regulatory Standards/NIST 800-53 Controls (USA)",
                     "Software and Configuration Checks/AWS Security Best Practices", "TTPs", "Effects/Data Exposure"):
            self.assertEqual(self.errors(Types=[good]), [], good)
        for bad in ("Effects/Data Exposure/", "Compliance/CIS", "Software and Configuration Checks/Best Practices"):
            self.assertTrue(self.errors(Types=[bad]), bad)
        self.assertTrue(self.errors(Types=[]))

    def test_product_arn(self):
        for partition in ("aws", "aws-cn", "aws-us-gov"):
            arn = f"arn:{partition}:securityhub:eu-west-1:111122223333:product/111122223333/default"
            self.assertEqual(self.errors(ProductArn=arn), [], arn)
        for arn in ("arn:aws:securityhub:eu-west-1:111122223333:product/444455556666/default",
                    "arn:aws:securityhub:eu-west-1::product/aws/guardduty",
                    "arn:aws-iso:securityhub:eu-west-1:111122223333:product/111122223333/default"):
            self.assertTrue(self.errors(ProductArn=arn), arn)

    def test_size_limit_and_unique_ids(self):
        big = {f"examplecorp/scanner/f{i}": "v" * 2048 for i in range(50)}
        self.assertEqual(self.errors(ProductFields=big), [])
        huge = dict(self.base, Description="d", Types=[f"TTPs/{'x' * 5000}{i}" for i in range(50)])
        self.assertIn("240 KB", problems("asff", [huge])[0][3])
        dup = problems("asff", [self.base, self.base], unique=True)
        self.assertEqual([(p[0], p[2]) for p in dup], [(1, "Id")])


class OcsfRules(unittest.TestCase):
    def test_every_activity_has_its_type_uid(self):
        base = load("ocsf_valid.json")[0]
        for activity, caption in ((0, "Unknown"), (1, "Create"), (2, "Update"), (3, "Close"), (99, "Other")):
            event = dict(base, activity_id=activity, type_uid=200400 + activity,
                         activity_name=caption if activity != 99 else "Reopen",
                         type_name=f"Detection Finding: {caption}")
            self.assertEqual(problems("ocsf", [event]), [], activity)


class RenderedOcsf(unittest.TestCase):
    """samples/ocsf_rendered.json is the scanner's own OCSF output (a run of two accounts, one
    finding of every rule, resolved findings), written by a compliance-core test that fails when
    the renderer and the sample disagree (`UPDATE_DOCS=1 cargo test -p compliance-core`)."""

    def setUp(self):
        self.events = load("ocsf_rendered.json")

    def test_it_passes_the_schema(self):
        self.assertGreater(len(self.events), 20)
        self.assertEqual(problems("ocsf", self.events, unique=True), [])

    def test_py_ocsf_models_loads_every_event(self):
        for i, event in enumerate(self.events):
            with self.subTest(event=i):
                model = DetectionFinding.model_validate(event)
                self.assertEqual(model.cloud.account.uid, event["cloud"]["account"]["uid"])
                self.assertEqual(model.finding_info.uid, event["finding_info"]["uid"])

    def test_every_event_names_its_account(self):
        names = {}
        for event in self.events:
            account = event["cloud"]["account"]
            names.setdefault(account["uid"], set()).add(account["name"])
        # Two accounts: one Organizations named, one it did not (named by its id).
        self.assertEqual(names, {"111111111111": {"Production"}, "222222222222": {"222222222222"}})

    def test_py_ocsf_models_rejects_an_event_without_an_account_name(self):
        # What every finding looked like before accounts had names: the check has teeth.
        event = copy.deepcopy(self.events[0])
        del event["cloud"]["account"]["name"]
        with self.assertRaises(pydantic.ValidationError) as caught:
            DetectionFinding.model_validate(event)
        self.assertIn("cloud.account.name", str(caught.exception).replace("\n", " "))

    def test_py_ocsf_models_loads_the_valid_samples(self):
        for event in load("ocsf_valid.json"):
            DetectionFinding.model_validate(event)


class InputForms(unittest.TestCase):
    def write(self, text):
        handle = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        handle.write(text)
        handle.close()
        self.addCleanup(Path(handle.name).unlink)
        return handle.name

    def test_json_lines_and_single_object(self):
        events = load("ocsf_valid.json")
        lines = self.write("\n".join(json.dumps(e) for e in events) + "\n")
        self.assertEqual(run_cli("--format", "ocsf", lines).returncode, 0)
        single = self.write(json.dumps(events[0]))
        self.assertEqual(run_cli("--format", "ocsf", single).returncode, 0)

    def test_unreadable_input_exits_2(self):
        for path in (self.write(""), self.write("{not json\n"), str(SAMPLES / "missing.json")):
            result = run_cli("--format", "asff", path)
            self.assertEqual(result.returncode, 2, path)

    def test_duplicate_ids_fail_only_when_asked(self):
        events = load("ocsf_valid.json")
        twice = self.write(json.dumps([events[0], events[0]]))
        self.assertEqual(run_cli("--format", "ocsf", twice).returncode, 0)
        result = run_cli("--format", "ocsf", "--require-unique-ids", twice)
        self.assertEqual(result.returncode, 1)
        self.assertIn("finding[1]", result.stdout)
        self.assertIn("duplicate id, already used by finding[0]", result.stdout)


if __name__ == "__main__":
    unittest.main()
