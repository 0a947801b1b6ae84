#!/usr/bin/python3
"""Reference presigned URL from botocore, for sigv4_test.cpp (run with Debian's /usr/bin/python3).

Reads a JSON object, or a list of them, on stdin and prints botocore's generate_presigned_url()
for each, one URL a line:
  {"endpoint": "http://127.0.0.1:9100", "addressing": "path" | "virtual",
   "access_key_id": "...", "secret_access_key": "...", "region": "us-east-1",
   "operation": "get_object", "method": "GET", "bucket": "b", "key": "k",
   "params": {"UploadId": "...", "PartNumber": 3}, "time": "20130524T000000Z", "expires": 86400}
"key" is left out for bucket-level operations. The clock is fixed by replacing the datetime
module botocore.auth uses, so the URL is reproducible byte for byte.
"""
import datetime
import json
import sys
import types

import botocore.auth
import botocore.session
from botocore.config import Config


class FixedDatetime(datetime.datetime):
    fixed = None

    @classmethod
    def utcnow(cls):
        return cls.fixed


def presign(session, spec):
    FixedDatetime.fixed = datetime.datetime.strptime(spec["time"], "%Y%m%dT%H%M%SZ")
    client = session.create_client(
        "s3",
        region_name=spec["region"],
        endpoint_url=spec["endpoint"],
        aws_access_key_id=spec["access_key_id"],
        aws_secret_access_key=spec["secret_access_key"],
        config=Config(signature_version="s3v4", s3={"addressing_style": spec["addressing"]}),
    )
    params = {"Bucket": spec["bucket"]}
    if "key" in spec:
        params["Key"] = spec["key"]
    params.update(spec.get("params", {}))
    return client.generate_presigned_url(
        spec["operation"], Params=params, ExpiresIn=spec["expires"], HttpMethod=spec["method"]
    )


def main():
    botocore.auth.datetime = types.SimpleNamespace(datetime=FixedDatetime)
    specs = json.load(sys.stdin)
    session = botocore.session.get_session()
    for spec in specs if isinstance(specs, list) else [specs]:
        print(presign(session, spec))


if __name__ == "__main__":
    main()
