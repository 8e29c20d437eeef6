#!/usr/bin/python3
"""The AWS Secrets Manager surface through Debian's boto3 1.26 / botocore 1.29.

Every response is validated against the botocore service model Debian ships (its own parser
already checks types; ShapeCheck below additionally checks required members and enums).

Run:  REKEY_BIN=build/src/app/rekey /usr/bin/python3 tests/integration/test_aws_boto3.py -v
"""

import json
import os
import subprocess
import sys
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import RekeyServer  # noqa: E402

try:
    import boto3
    import botocore.exceptions
    import botocore.session
except ImportError:  # pragma: no cover
    sys.stderr.write("boto3 not importable: run with /usr/bin/python3 (Debian python3-boto3)\n")
    sys.exit(2)

AKID = "AKIAREKEYTESTKEY0000"
SECRET = "rekey-test-secret-access-key-0001"
SRV = None
MODEL = botocore.session.get_session().get_service_model("secretsmanager")
CHECKED = []


def check_shape(shape, value, where):
    """Required members present, enums respected, types right (recursively)."""
    t = shape.type_name
    if t == "structure":
        assert isinstance(value, dict), where
        for req in shape.required_members:
            assert req in value, "%s: missing required %s" % (where, req)
        for k, v in value.items():
            if k in shape.members:
                check_shape(shape.members[k], v, where + "." + k)
    elif t == "list":
        assert isinstance(value, list), where
        for i, v in enumerate(value):
            check_shape(shape.member, v, "%s[%d]" % (where, i))
    elif t == "map":
        assert isinstance(value, dict), where
        for k, v in value.items():
            check_shape(shape.value, v, where + "{" + k + "}")
    elif t == "string":
        assert isinstance(value, str), where
        if shape.enum:
            assert value in shape.enum, "%s: %r not in enum" % (where, value)
    elif t == "boolean":
        assert isinstance(value, bool), where


def on_parsed(http_response, parsed, model, **kwargs):
    if http_response.status_code == 200 and model.output_shape is not None:
        body = {k: v for k, v in parsed.items() if k != "ResponseMetadata"}
        check_shape(model.output_shape, body, model.name)
        CHECKED.append(model.name)


def client(secret=SECRET, akid=AKID):
    c = boto3.client("secretsmanager", endpoint_url=SRV.url, region_name="us-east-1",
                     aws_access_key_id=akid, aws_secret_access_key=secret)
    c.meta.events.register("after-call.secretsmanager", on_parsed)
    return c


def code_of(fn):
    try:
        fn()
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]
    return None


class AwsBoto3Test(unittest.TestCase):
    def test_create_get_put_labels_and_kv_face(self):
        c = client()
        created = c.create_secret(Name="it/db", SecretString='{"password":"p1"}',
                                  Tags=[{"Key": "team", "Value": "a"}])
        self.assertRegex(created["ARN"], r"^arn:aws:secretsmanager:us-east-1:\d{12}:secret:it/db-\w{6}$")
        got = c.get_secret_value(SecretId="it/db")
        self.assertEqual(got["SecretString"], '{"password":"p1"}')
        self.assertEqual(got["VersionStages"], ["AWSCURRENT"])
        c.put_secret_value(SecretId=created["ARN"], SecretString="plain-text")
        self.assertEqual(c.get_secret_value(SecretId="it/db", VersionStage="AWSPREVIOUS")
                         ["SecretString"], '{"password":"p1"}')
        # The KV face: the JSON object is the data; a plain string is shown under one key.
        kv = SRV.request("GET", "/v1/secret/data/it/db").json
        self.assertEqual(kv["data"]["data"], {"aws:SecretString": "plain-text"})
        SRV.request("POST", "/v1/secret/data/it/kv", {"data": {"user": "u"}})
        self.assertEqual(c.get_secret_value(SecretId="it/kv")["SecretString"], '{"user": "u"}'
                         .replace(" ", ""))
        d = c.describe_secret(SecretId="it/db")
        self.assertEqual(d["Tags"], [{"Key": "team", "Value": "a"}])
        self.assertEqual(sorted(sum(d["VersionIdsToStages"].values(), [])),
                         ["AWSCURRENT", "AWSPREVIOUS"])

    def test_binary_and_errors(self):
        c = client()
        c.create_secret(Name="it/bin", SecretBinary=b"\x00\x01\xff")
        self.assertEqual(c.get_secret_value(SecretId="it/bin")["SecretBinary"], b"\x00\x01\xff")
        self.assertEqual(code_of(lambda: c.create_secret(Name="it/bin", SecretString="x")),
                         "ResourceExistsException")
        self.assertEqual(code_of(lambda: c.get_secret_value(SecretId="it/none")),
                         "ResourceNotFoundException")
        self.assertEqual(code_of(lambda: c.create_secret(Name="it/both", SecretString="x",
                                                         SecretBinary=b"y")),
                         "InvalidParameterException")

    def test_token_idempotency(self):
        c = client()
        c.create_secret(Name="it/tok")
        tok = str(uuid.uuid4())
        v1 = c.put_secret_value(SecretId="it/tok", SecretString="a", ClientRequestToken=tok)
        v2 = c.put_secret_value(SecretId="it/tok", SecretString="a", ClientRequestToken=tok)
        self.assertEqual(v1["VersionId"], tok)
        self.assertEqual(v2["VersionId"], tok)
        self.assertEqual(len(c.list_secret_version_ids(SecretId="it/tok")["Versions"]), 1)
        self.assertEqual(code_of(lambda: c.put_secret_value(
            SecretId="it/tok", SecretString="b", ClientRequestToken=tok)), "ResourceExistsException")

    def test_stage_moves(self):
        c = client()
        c.create_secret(Name="it/stage", SecretString="one")
        cur = c.get_secret_value(SecretId="it/stage")["VersionId"]
        pend = c.put_secret_value(SecretId="it/stage", SecretString="two",
                                  VersionStages=["AWSPENDING"])["VersionId"]
        self.assertEqual(c.get_secret_value(SecretId="it/stage")["SecretString"], "one")
        self.assertEqual(code_of(lambda: c.update_secret_version_stage(
            SecretId="it/stage", VersionStage="AWSCURRENT", MoveToVersionId=pend)),
            "InvalidParameterException")
        c.update_secret_version_stage(SecretId="it/stage", VersionStage="AWSCURRENT",
                                      MoveToVersionId=pend, RemoveFromVersionId=cur)
        self.assertEqual(c.get_secret_value(SecretId="it/stage")["SecretString"], "two")
        self.assertEqual(c.get_secret_value(SecretId="it/stage", VersionStage="AWSPREVIOUS")
                         ["VersionId"], cur)

    def test_delete_restore_and_pagination(self):
        c = client()
        for i in range(25):
            c.create_secret(Name="it/page/%02d" % i, SecretString="v")
        names = []
        for page in c.get_paginator("list_secrets").paginate(
                Filters=[{"Key": "name", "Values": ["it/page/"]}], PaginationConfig={"PageSize": 10}):
            names += [s["Name"] for s in page["SecretList"]]
        self.assertEqual(names, ["it/page/%02d" % i for i in range(25)])
        c.delete_secret(SecretId="it/page/00", RecoveryWindowInDays=7)
        self.assertEqual(code_of(lambda: c.get_secret_value(SecretId="it/page/00")),
                         "InvalidRequestException")
        c.restore_secret(SecretId="it/page/00")
        c.get_secret_value(SecretId="it/page/00")
        c.delete_secret(SecretId="it/page/01", ForceDeleteWithoutRecovery=True)
        self.assertEqual(code_of(lambda: c.describe_secret(SecretId="it/page/01")),
                         "ResourceNotFoundException")
        c.tag_resource(SecretId="it/page/02", Tags=[{"Key": "k", "Value": "v"}])
        c.untag_resource(SecretId="it/page/02", TagKeys=["k"])
        self.assertNotIn("Tags", c.describe_secret(SecretId="it/page/02"))
        self.assertEqual(len(c.get_random_password(PasswordLength=40)["RandomPassword"]), 40)

    def test_issued_keys_are_bound_to_their_policies(self):
        env = dict(os.environ, REKEY_ADDR=SRV.url, REKEY_TOKEN=SRV.token)

        def cli(*args):
            p = subprocess.run([harness.rekey_bin()] + list(args), env=env, capture_output=True,
                               text=True, timeout=30)
            return p.returncode, p.stdout, p.stderr

        policy = {"path": {"secret/data/keys/ok": {"capabilities": ["read"]}}}
        SRV.request("PUT", "/v1/sys/policies/acl/aws-keys-ok", {"policy": json.dumps(policy)})
        c = client()
        c.create_secret(Name="keys/ok", SecretString="readable-by-the-new-key")
        c.create_secret(Name="keys/other", SecretString="not-readable-by-the-new-key")
        self.assertNotEqual(cli("aws-key", "create")[0], 0, "--policy is required")
        rc, out, err = cli("--format", "json", "aws-key", "create", "--policy", "aws-keys-ok")
        self.assertEqual(rc, 0, err)
        data = json.loads(out)["data"]
        akid, secret = data["access_key_id"], data["secret_access_key"]
        self.assertRegex(akid, r"^AKIA[A-Z2-7]{16}$")
        self.assertEqual(data["policies"], ["aws-keys-ok"])
        mine = client(secret=secret, akid=akid)
        self.assertEqual(mine.get_secret_value(SecretId="keys/ok")["SecretString"],
                         "readable-by-the-new-key")
        self.assertEqual(code_of(lambda: mine.get_secret_value(SecretId="keys/other")),
                         "AccessDeniedException")
        self.assertEqual(code_of(lambda: mine.get_secret_value(SecretId="keys/none")),
                         "AccessDeniedException", "no hint whether a secret exists")
        rc, out, err = cli("aws-key", "list")
        self.assertIn(akid, out.split())
        rc, out, err = cli("aws-key", "read", akid)
        self.assertEqual(rc, 0, err)
        self.assertIn("aws-keys-ok", out)
        self.assertNotIn(secret, out + err, "read never shows the secret")
        # Without sudo on sys/aws-keys a token cannot mint keys.
        tok = SRV.request("POST", "/v1/auth/token/create", {"policies": ["aws-keys-ok"]}).json
        env["REKEY_TOKEN"] = tok["auth"]["client_token"]
        rc, out, err = cli("aws-key", "create", "--policy", "root")
        self.assertNotEqual(rc, 0)
        self.assertIn("permission denied", err)
        env["REKEY_TOKEN"] = SRV.token
        self.assertEqual(cli("aws-key", "delete", akid)[0], 0)
        self.assertEqual(code_of(lambda: mine.get_secret_value(SecretId="keys/ok")),
                         "UnrecognizedClientException")

    def test_sigv4_refusals(self):
        self.assertEqual(code_of(lambda: client(secret="wrong-secret-0000000000").list_secrets()),
                         "InvalidSignatureException")
        self.assertEqual(code_of(lambda: client(akid="AKIAUNKNOWN000000000").list_secrets()),
                         "UnrecognizedClientException")


def setUpModule():
    global SRV
    SRV = RekeyServer(name="aws", extra_args=["--dev-aws-key", "%s:%s" % (AKID, SECRET)])
    SRV.start()


def tearDownModule():
    SRV.stop()
    SRV.cleanup()
    sys.stderr.write("validated %d responses against the botocore model\n" % len(CHECKED))


if __name__ == "__main__":
    harness.main()
