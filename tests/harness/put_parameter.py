#!/usr/bin/env python3
"""Puts one SSM parameter into the emulator (endpoint from AWS_ENDPOINT_URL)."""
import argparse
import os

import boto3

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--name", required=True)
parser.add_argument("--value", required=True)
parser.add_argument("--type", default="String", choices=["String", "StringList", "SecureString"])
parser.add_argument("--region", default="us-east-1")
args = parser.parse_args()
ssm = boto3.client("ssm", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=args.region)
ssm.put_parameter(Name=args.name, Value=args.value, Type=args.type, Overwrite=True)
