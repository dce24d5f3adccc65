#!/usr/bin/env python3
"""Small S3 helper for tests: `create-bucket NAME`, `get-object BUCKET KEY` (to stdout),
`put-object BUCKET KEY` (from stdin), `legal-hold BUCKET KEY` (ON or OFF) and
`list-keys BUCKET PREFIX` (one key per line), against the emulator in AWS_ENDPOINT_URL."""
import argparse
import os
import sys

import boto3

parser = argparse.ArgumentParser(description=__doc__)
sub = parser.add_subparsers(dest="command", required=True)
create = sub.add_parser("create-bucket")
create.add_argument("name")
get = sub.add_parser("get-object")
get.add_argument("bucket")
get.add_argument("key")
put = sub.add_parser("put-object")
put.add_argument("bucket")
put.add_argument("key")
hold = sub.add_parser("legal-hold")
hold.add_argument("bucket")
hold.add_argument("key")
listing = sub.add_parser("list-keys")
listing.add_argument("bucket")
listing.add_argument("prefix")
args = parser.parse_args()

s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1")
if args.command == "create-bucket":
    s3.create_bucket(Bucket=args.name)
elif args.command == "put-object":
    # The reports bucket has Object Lock: a checksum is required, as in S3.
    s3.put_object(Bucket=args.bucket, Key=args.key, Body=sys.stdin.buffer.read(), ChecksumAlgorithm="CRC32")
elif args.command == "list-keys":
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=args.bucket, Prefix=args.prefix):
        for item in page.get("Contents", []):
            print(item["Key"])
elif args.command == "legal-hold":
    try:
        print(s3.get_object_legal_hold(Bucket=args.bucket, Key=args.key)["LegalHold"]["Status"])
    except s3.exceptions.ClientError as err:  # no hold was ever set
        print("OFF" if "NoSuchObjectLockConfiguration" in str(err) else f"ERROR {err}")
else:
    sys.stdout.buffer.write(s3.get_object(Bucket=args.bucket, Key=args.key)["Body"].read())
