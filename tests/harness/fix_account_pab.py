#!/usr/bin/env python3
"""Turns on all four account-level S3 Block Public Access settings in the emulator."""
import argparse

import boto3
from botocore.config import Config

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--endpoint", required=True)
args = parser.parse_args()
# S3 Control prefixes the host with the account id; the emulator is one host, so skip that.
s3control = boto3.client(
    "s3control", endpoint_url=args.endpoint, region_name="us-east-1", config=Config(inject_host_prefix=False)
)
s3control.put_public_access_block(
    AccountId="123456789012",
    PublicAccessBlockConfiguration={
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    },
)
