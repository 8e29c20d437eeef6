#!/usr/bin/python3
"""Writes a wrk Lua script sending one SigV4-signed GetSecretValue request, again and again.

  aws_get_lua.py URL ACCESS_KEY_ID SECRET_ACCESS_KEY SECRET_ID OUT.lua

The signature is computed once, by botocore (Debian's python3-botocore), over the exact
request wrk sends (POST / with the same Host, body and headers). rekey accepts a signed request
for 5 minutes (the SigV4 clock-skew limit), and verifies the signature on every request, so
each request costs what a real SDK call costs on the server.
"""
import json
import sys

import botocore.auth
import botocore.awsrequest
import botocore.credentials

url, akid, secret, secret_id, out = sys.argv[1:6]
body = json.dumps({"SecretId": secret_id})
req = botocore.awsrequest.AWSRequest(
    method="POST", url=url.rstrip("/") + "/", data=body,
    headers={"X-Amz-Target": "secretsmanager.GetSecretValue",
             "Content-Type": "application/x-amz-json-1.1"})
botocore.auth.SigV4Auth(botocore.credentials.Credentials(akid, secret), "secretsmanager",
                        "us-east-1").add_auth(req)
lines = ['wrk.method = "POST"', "wrk.body = %s" % json.dumps(body)]
for name, value in req.headers.items():
    if name.lower() == "host":
        continue  # wrk sends the URL's host, which is what was signed
    lines.append("wrk.headers[%s] = %s" % (json.dumps(name), json.dumps(str(value))))
with open(out, "w") as f:
    f.write("\n".join(lines) + "\n")
