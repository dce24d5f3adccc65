#!/usr/bin/env python3
"""Validate security findings against the documentation-backed schemas in tests/schemas/.

    validate_findings.py --format asff|ocsf [--require-unique-ids] FILE

FILE holds a JSON array of findings, an object {"Findings": [...]} (the BatchImportFindings
request shape), a single finding object, or JSON Lines (one finding per line). Each violation is
printed as

    finding[i] (Id=...): path: message

Exit status: 0 when every finding is valid, 1 when at least one is not, 2 when the input (or a
schema) cannot be read or parsed.

Besides the JSON Schema (jsonschema, Draft 7), a few documented rules that JSON Schema cannot
express are checked here; each names its source (see tests/schemas/README.md):

ASFF
  * AwsAccountId equals the account in ProductArn (BatchImportFindings: with the default product ARN
    the calling account must equal AwsAccountId, and the ARN is product/<account-id>/default).
  * UpdatedAt is not earlier than CreatedAt; LastObservedAt is not earlier than FirstObservedAt.
  * A finding serialises to at most 240 KB ("The maximum allowed size for a finding is 240 Kb").
OCSF
  * finding_info.first_seen_time <= last_seen_time.
  * py-ocsf-models (the OCSF library Prowler uses) loads every event the schema accepts as a
    DetectionFinding.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, Iterable

try:
    import jsonschema
except ImportError:  # pragma: no cover - reported as an unreadable environment
    sys.stderr.write("validate_findings: the 'jsonschema' package is required (pip install -r tests/harness/requirements.txt)\n")
    sys.exit(2)

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
SCHEMA_FILES = {
    "asff": SCHEMA_DIR / "asff_finding.schema.json",
    "ocsf": SCHEMA_DIR / "ocsf_detection_finding.schema.json",
}

# https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchImportFindings.html
ASFF_MAX_FINDING_BYTES = 240 * 1024
MAX_MESSAGE = 300


class InputError(Exception):
    """The input cannot be read or parsed (exit status 2)."""


def load_findings(path: str) -> list[Any]:
    """Read FILE: a JSON array, {"Findings": [...]}, one JSON object, or JSON Lines."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    if not text.strip():
        raise InputError(f"{path} is empty")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as whole_error:
        findings = []
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                findings.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}: neither a JSON document ({whole_error}) nor JSON Lines (line {lineno}: {exc})") from exc
        return findings
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict) and "Findings" in doc:
        if not isinstance(doc["Findings"], list):
            raise InputError(f"{path}: 'Findings' is not an array")
        return doc["Findings"]
    if isinstance(doc, dict):
        return [doc]
    raise InputError(f"{path}: expected an array of findings, an object or JSON Lines, got {type(doc).__name__}")


def load_schema(fmt: str, override: str | None = None) -> dict:
    path = Path(override) if override else SCHEMA_FILES[fmt]
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
        jsonschema.Draft7Validator.check_schema(schema)
    except (OSError, ValueError, jsonschema.SchemaError) as exc:
        raise InputError(f"cannot load schema {path}: {exc}") from exc
    return schema


def finding_id(fmt: str, finding: Any) -> str | None:
    if not isinstance(finding, dict):
        return None
    if fmt == "asff":
        value = finding.get("Id")
    else:
        info = finding.get("finding_info")
        value = info.get("uid") if isinstance(info, dict) else None
    return value if isinstance(value, str) else None


def format_path(parts: Iterable[Any]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(root)"


def _shorten(message: str) -> str:
    message = " ".join(message.split())
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 3] + "..."


HINTS = {
    # (format, unexpected property) -> hint appended to the message
    ("ocsf", "compliance"): "OCSF 1.1.0 defines 'compliance' only for Compliance Finding (class_uid 2003), not for Detection Finding (2004); see tests/schemas/README.md",
    ("ocsf", "risk_details"): "'risk_details' is not an attribute of Detection Finding in OCSF 1.1.0",
}


def _brief(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def describe(error: jsonschema.ValidationError) -> str:
    """A one-line message that names the limit without echoing huge values."""
    kind, limit, value = error.validator, error.validator_value, error.instance
    if kind in ("maxLength", "minLength") and isinstance(value, str):
        return f"length {len(value)} is {'more' if kind == 'maxLength' else 'less'} than the {kind} of {limit} ({_brief(value)})"
    if kind in ("maxItems", "minItems") and isinstance(value, list):
        return f"{len(value)} items, {'more' if kind == 'maxItems' else 'fewer'} than the {kind} of {limit}"
    if kind in ("maxProperties", "minProperties") and isinstance(value, dict):
        return f"{len(value)} entries, {'more' if kind == 'maxProperties' else 'fewer'} than the {kind} of {limit}"
    if kind == "pattern":
        return f"{_brief(value)} does not match {limit!r}"
    if kind == "const" and list(error.absolute_path)[-1:] == ["type_uid"]:
        return f"{_brief(value)} is not class_uid * 100 + activity_id = {limit!r}"
    if kind == "contains" and isinstance(limit, dict) and "const" in limit:
        return f"{_brief(value)} does not contain {limit['const']!r}"
    if kind == "minimum" and limit == 1000000000000 and isinstance(value, int) and 10**9 <= value < 10**10:
        return f"{value} looks like epoch seconds; OCSF timestamp_t is milliseconds since the epoch"
    if kind == "not" and limit == {"pattern": "^aws/"}:
        return f"key {_brief(value)} uses the reserved 'aws/' prefix (AWS products only; not for third-party/custom integrations)"
    return error.message


def schema_errors(validator: jsonschema.Draft7Validator, fmt: str, finding: Any) -> list[tuple[str, str]]:
    errors = []
    for error in sorted(validator.iter_errors(finding), key=lambda e: (list(map(str, e.absolute_path)), e.message)):
        message = describe(error)
        if error.validator == "additionalProperties":
            for (hint_fmt, prop), hint in HINTS.items():
                if hint_fmt == fmt and f"'{prop}'" in message:
                    message = f"{message} ({hint})"
        errors.append((format_path(error.absolute_path), _shorten(message)))
    return errors


# Accepted forms: see #/definitions/timestamp in asff_finding.schema.json.
_ASFF_TS = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}(?::?\d{2})?)$")


def parse_asff_timestamp(value: Any) -> _dt.datetime | None:
    """Parse a timestamp in one of the documented ASFF forms; None when it is not one."""
    if not isinstance(value, str):
        return None
    match = _ASFF_TS.match(value)
    if not match:
        return None
    base, frac, offset = match.groups()
    try:
        moment = _dt.datetime.strptime(base.replace("23:59:60", "23:59:59"), "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return None
    micros = int((frac or "0")[:6].ljust(6, "0"))
    moment = moment.replace(microsecond=micros)
    if offset == "Z":
        tz = _dt.timezone.utc
    else:
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:] or "0")
        tz = _dt.timezone(sign * _dt.timedelta(hours=hours, minutes=minutes))
    return moment.replace(tzinfo=tz)


def asff_cross_checks(finding: Any) -> list[tuple[str, str]]:
    if not isinstance(finding, dict):
        return []
    errors = []
    account = finding.get("AwsAccountId")
    arn = finding.get("ProductArn")
    # Only compare a well-formed account id; a malformed one is already reported by the schema.
    if isinstance(account, str) and re.fullmatch(r"[0-9]{12}", account) and isinstance(arn, str):
        match = re.match(r"^arn:[^:]+:securityhub:[^:]*:([^:]*):product/([^/]+)/", arn)
        if match and (match.group(1) != account or match.group(2) != account):
            errors.append(("ProductArn", f"account in {arn!r} does not match AwsAccountId {account!r} (BatchImportFindings with the default product ARN must come from the finding's own account)"))
    for earlier, later in (("CreatedAt", "UpdatedAt"), ("FirstObservedAt", "LastObservedAt")):
        first, second = parse_asff_timestamp(finding.get(earlier)), parse_asff_timestamp(finding.get(later))
        if first and second and second < first:
            errors.append((later, f"{finding.get(later)!r} is earlier than {earlier} {finding.get(earlier)!r}"))
    size = len(json.dumps(finding, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    if size > ASFF_MAX_FINDING_BYTES:
        errors.append(("(root)", f"finding is {size} bytes; the maximum allowed size for a finding is 240 KB"))
    return errors


def ocsf_library_errors(finding: dict) -> list[tuple[str, str]]:
    """What py-ocsf-models (the OCSF library Prowler uses) refuses in a Detection Finding."""
    try:
        import pydantic
        from py_ocsf_models.events.findings.detection_finding import DetectionFinding
    except ImportError:  # pragma: no cover - reported as an unreadable environment
        return [("(root)", "py-ocsf-models is not installed (tests/harness/requirements.txt)")]
    try:
        DetectionFinding.model_validate(finding)
    except pydantic.ValidationError as e:
        return [(".".join(map(str, err["loc"])), f"py-ocsf-models: {err['msg']}") for err in e.errors()]
    return []


def ocsf_cross_checks(finding: Any) -> list[tuple[str, str]]:
    if not isinstance(finding, dict):
        return []
    errors = []
    info = finding.get("finding_info")
    if isinstance(info, dict):
        first, last = info.get("first_seen_time"), info.get("last_seen_time")
        if isinstance(first, int) and isinstance(last, int) and last < first:
            errors.append(("finding_info.last_seen_time", f"{last} is earlier than finding_info.first_seen_time {first}"))
    return errors


def validate(fmt: str, findings: list[Any], schema: dict, require_unique_ids: bool = False) -> list[tuple[int, str | None, str, str]]:
    """Return (index, id, path, message) for every violation, in finding order."""
    validator = jsonschema.Draft7Validator(schema)
    cross = asff_cross_checks if fmt == "asff" else ocsf_cross_checks
    seen: dict[str, int] = {}
    problems = []
    for index, finding in enumerate(findings):
        fid = finding_id(fmt, finding)
        errors = schema_errors(validator, fmt, finding) + cross(finding)
        if fmt == "ocsf" and not errors and isinstance(finding, dict):
            # The library as a second opinion on what the schema passed (it repeats the
            # schema's own complaints otherwise).
            errors = ocsf_library_errors(finding)
        for path, message in errors:
            problems.append((index, fid, path, message))
        if require_unique_ids and fid is not None:
            if fid in seen:
                id_path = "Id" if fmt == "asff" else "finding_info.uid"
                problems.append((index, fid, id_path, f"duplicate id, already used by finding[{seen[fid]}]"))
            else:
                seen[fid] = index
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Validate ASFF or OCSF findings against tests/schemas/.")
    parser.add_argument("--format", required=True, choices=sorted(SCHEMA_FILES), help="finding format")
    parser.add_argument("--require-unique-ids", action="store_true",
                        help="fail when two findings share an id (ASFF Id / OCSF finding_info.uid)")
    parser.add_argument("--schema", help="use this schema file instead of the bundled one")
    parser.add_argument("file", metavar="FILE")
    args = parser.parse_args(argv)
    try:
        schema = load_schema(args.format, args.schema)
        findings = load_findings(args.file)
    except InputError as exc:
        sys.stderr.write(f"validate_findings: {exc}\n")
        return 2
    problems = validate(args.format, findings, schema, args.require_unique_ids)
    for index, fid, path, message in problems:
        shown = "?" if fid is None else (fid if len(fid) <= 120 else fid[:117] + "...")
        print(f"finding[{index}] (Id={shown}): {path}: {message}")
    invalid = len({p[0] for p in problems})
    sys.stderr.write(f"validate_findings: {len(findings)} {args.format} finding(s) checked, {invalid} invalid\n")
    return 1 if problems else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # e.g. piped into `head`: violations were being printed, so exit 1
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
