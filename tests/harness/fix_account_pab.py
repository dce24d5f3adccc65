#!/usr/bin/env python3
"""Turns on all four account-level S3 Block Public Access settings in the emulator."""
import os

import boto3

# S3 Control puts the account id in front of the endpoint's host; that name is reached through
# the emulator as an HTTP proxy (HTTP_PROXY, NO_PROXY: see product_environment in emulator.py).
s3control = boto3.client("s3control", endpoint_url=os.environ["AWS_ENDPOINT_URL_S3_CONTROL"], region_name="us-east-1")
s3control.put_public_access_block(
    AccountId="123456789012",
    PublicAccessBlockConfiguration={
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    },
)
