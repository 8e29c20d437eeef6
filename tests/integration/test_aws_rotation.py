#!/usr/bin/python3
"""RotateSecret / CancelRotateSecret through Debian's boto3 1.26: the AWS face of rekey's rotation
engine, with the generic rotator (string, JSON and binary values) and the postgres rotator against
a real PostgreSQL started by scripts/services. Every response is checked against botocore's model
(test_aws_boto3.check_shape).

Run:  REKEY_BIN=build/src/app/rekey /usr/bin/python3 tests/integration/test_aws_rotation.py -v
"""

import base64
import json
import os
import shlex
import subprocess
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import RekeyServer, SecretTracker  # noqa: E402
import test_aws_boto3 as shapes  # noqa: E402  (model checks; its server is not started here)

import boto3  # noqa: E402
import botocore.exceptions  # noqa: E402

AKID = "AKIAREKEYROTATION000"
SECRET = "rekey-rotation-test-secret-key-01"
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SRV = None
TRACKER = SecretTracker()


RAW = {}  # operation name -> the last raw response body (members botocore 1.29 does not know)


def remember_raw(http_response, model, **kwargs):
    RAW[model.name] = json.loads(http_response.content or b"{}")


def client():
    c = boto3.client("secretsmanager", endpoint_url=SRV.url, region_name="us-east-1",
                     aws_access_key_id=AKID, aws_secret_access_key=SECRET)
    c.meta.events.register("after-call.secretsmanager", shapes.on_parsed)
    c.meta.events.register("after-call.secretsmanager", remember_raw)
    return c


def next_rotation(c, name):
    """DescribeSecret's NextRotationDate (epoch seconds) or None. botocore 1.29's model predates
    the member, so boto3 drops it: it is read from the raw response."""
    c.describe_secret(SecretId=name)
    return RAW["DescribeSecret"].get("NextRotationDate")


def error_of(fn):
    try:
        fn()
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"]["Message"]
    return None, None


def token():
    return str(uuid.uuid4())


def wait_current(c, name, version_id, timeout=20.0):
    """Waits until AWSCURRENT of `name` is `version_id`; returns get_secret_value's answer."""
    deadline = time.time() + timeout
    while True:
        got = c.get_secret_value(SecretId=name)
        if got["VersionId"] == version_id:
            return got
        if time.time() > deadline:
            raise AssertionError("AWSCURRENT of %s is %s, not %s after %.0fs"
                                 % (name, got["VersionId"], version_id, timeout))
        time.sleep(0.1)


def wait_run(name, outcome, timeout=20.0):
    """Waits until the newest rotation run of `name` ended with `outcome`; returns it."""
    deadline = time.time() + timeout
    while True:
        r = SRV.request("GET", "/v1/rotation/runs/" + name)
        runs = r.json.get("data", {}).get("runs", []) if r.status == 200 else []
        if runs and runs[0].get("outcome") == outcome:
            return runs[0]
        if time.time() > deadline:
            raise AssertionError("no %s run of %s: %r" % (outcome, name, runs[:1]))
        time.sleep(0.1)


class GenericRotationTest(unittest.TestCase):
    def test_plain_string_rotates_and_describe_shows_the_schedule(self):
        c = client()
        old = TRACKER.new("aws-plain")
        c.create_secret(Name="rot/plain", SecretString=old)
        tok = token()
        out = c.rotate_secret(SecretId="rot/plain", ClientRequestToken=tok,
                              RotationRules={"AutomaticallyAfterDays": 30})
        self.assertEqual(out["VersionId"], tok)
        self.assertEqual(out["Name"], "rot/plain")
        got = wait_current(c, "rot/plain", tok)
        TRACKER.track(got["SecretString"])
        self.assertNotEqual(got["SecretString"], old)
        self.assertFalse(got["SecretString"].startswith("{"), "a plain string stays plain")
        self.assertEqual(c.get_secret_value(SecretId="rot/plain", VersionStage="AWSPREVIOUS")
                         ["SecretString"], old)
        d = c.describe_secret(SecretId="rot/plain")
        self.assertTrue(d["RotationEnabled"])
        self.assertEqual(d["RotationRules"], {"AutomaticallyAfterDays": 30})
        self.assertTrue(d["RotationLambdaARN"].endswith(":function:generic"))
        self.assertIn("LastRotatedDate", d)
        days = (next_rotation(c, "rot/plain") - d["LastRotatedDate"].timestamp()) / 86400
        self.assertAlmostEqual(days, 30, delta=0.01)
        # The same request again starts nothing.
        again = c.rotate_secret(SecretId="rot/plain", ClientRequestToken=tok)
        self.assertEqual(again["VersionId"], tok)
        # A second rotation right away (the first is in its grace period) ends that grace and
        # rotates again, as AWS allows once AWSCURRENT moved.
        tok2 = token()
        c.rotate_secret(SecretId="rot/plain", ClientRequestToken=tok2)
        got2 = wait_current(c, "rot/plain", tok2)
        TRACKER.track(got2["SecretString"])
        self.assertNotEqual(got2["SecretString"], got["SecretString"])
        self.assertEqual(c.get_secret_value(SecretId="rot/plain", VersionStage="AWSPREVIOUS")
                         ["VersionId"], tok)
        versions = c.list_secret_version_ids(SecretId="rot/plain")["Versions"]
        self.assertEqual(sum(1 for v in versions if "AWSPENDING" in v.get("VersionStages", [])), 0)

    def test_json_value_needs_its_field_named(self):
        c = client()
        pw = TRACKER.new("aws-json")
        c.create_secret(Name="rot/json", SecretString=json.dumps({"user": "svc", "password": pw}))
        code, message = error_of(lambda: c.rotate_secret(SecretId="rot/json"))
        self.assertEqual(code, "InvalidRequestException")
        self.assertIn("rekey:rotate-fields", message)
        self.assertEqual(len(c.list_secret_version_ids(SecretId="rot/json")["Versions"]), 1)
        c.tag_resource(SecretId="rot/json", Tags=[{"Key": "rekey:rotate-fields",
                                                   "Value": "password"}])
        tok = token()
        c.rotate_secret(SecretId="rot/json", ClientRequestToken=tok)
        value = json.loads(wait_current(c, "rot/json", tok)["SecretString"])
        TRACKER.track(value["password"])
        self.assertEqual(value["user"], "svc")
        self.assertNotEqual(value["password"], pw)

    def test_binary_value_gets_new_random_bytes(self):
        c = client()
        c.create_secret(Name="rot/bin", SecretBinary=b"\x00\x01old-binary-bytes")
        tok = token()
        c.rotate_secret(SecretId="rot/bin", ClientRequestToken=tok)
        got = wait_current(c, "rot/bin", tok)
        self.assertIn("SecretBinary", got)
        self.assertEqual(len(got["SecretBinary"]), 32)
        TRACKER.track(base64.b64encode(got["SecretBinary"]).decode())

    def test_rotate_immediately_false_only_schedules_and_cancel_stops_it(self):
        c = client()
        c.create_secret(Name="rot/later", SecretString=TRACKER.new("aws-later"))
        before = c.list_secret_version_ids(SecretId="rot/later")["Versions"]
        out = c.rotate_secret(SecretId="rot/later", RotateImmediately=False,
                              RotationRules={"ScheduleExpression": "cron(0 2 * * ? *)",
                                             "Duration": "2h"})
        self.assertNotIn("VersionId", out)
        self.assertEqual(c.list_secret_version_ids(SecretId="rot/later")["Versions"], before)
        d = c.describe_secret(SecretId="rot/later")
        self.assertTrue(d["RotationEnabled"])
        self.assertEqual(d["RotationRules"], {"ScheduleExpression": "cron(0 2 * * ? *)",
                                              "Duration": "2h"})
        self.assertEqual(time.gmtime(next_rotation(c, "rot/later")).tm_hour, 2)
        c.cancel_rotate_secret(SecretId="rot/later")
        d = c.describe_secret(SecretId="rot/later")
        self.assertFalse(d["RotationEnabled"])
        self.assertIsNone(next_rotation(c, "rot/later"))
        # Rotation on demand still works after a cancel.
        tok = token()
        c.rotate_secret(SecretId="rot/later", ClientRequestToken=tok)
        TRACKER.track(wait_current(c, "rot/later", tok)["SecretString"])

    def test_errors(self):
        c = client()
        c.create_secret(Name="rot/err", SecretString=TRACKER.new("aws-err"))
        self.assertEqual(error_of(lambda: c.rotate_secret(SecretId="rot/none"))[0],
                         "ResourceNotFoundException")
        self.assertEqual(error_of(lambda: c.rotate_secret(
            SecretId="rot/err", RotationRules={"AutomaticallyAfterDays": 3,
                                               "ScheduleExpression": "rate(3 days)"}))[0],
            "InvalidParameterException")
        self.assertEqual(error_of(lambda: c.rotate_secret(
            SecretId="rot/err", RotationRules={"ScheduleExpression": "rate(5 minutes)"}))[0],
            "InvalidParameterException")
        code, message = error_of(lambda: c.rotate_secret(
            SecretId="rot/err",
            RotationLambdaARN="arn:aws:lambda:us-east-1:123456789012:function:no-such-thing"))
        self.assertEqual(code, "InvalidRequestException")
        self.assertIn("no-such-thing", message)
        # A rotator that needs params it was not given: the config problems, nothing changed.
        code, message = error_of(lambda: c.rotate_secret(
            SecretId="rot/err", RotationLambdaARN="function:http"))
        self.assertEqual(code, "InvalidRequestException")
        self.assertIn("params.url", message)
        self.assertNotIn("RotationEnabled", c.describe_secret(SecretId="rot/err"))
        # AWSPENDING staged by hand on another version: a rotation is in progress (AWS's rule).
        c.put_secret_value(SecretId="rot/err", SecretString=TRACKER.new("aws-pend"),
                           VersionStages=["AWSPENDING"])
        code, message = error_of(lambda: c.rotate_secret(SecretId="rot/err"))
        self.assertEqual(code, "InvalidRequestException")
        self.assertIn("AWSPENDING", message)

    def test_a_failed_rotation_leaves_no_awspending(self):
        c = client()
        old = TRACKER.new("aws-fail")
        c.create_secret(Name="rot/fail", SecretString=json.dumps({"api_key": old}))
        # A template rotation config at another path, named by the Lambda ARN: an http rotator
        # whose provider is down, one attempt.
        SRV.request("POST", "/v1/secret/data/templates/hook-key",
                    {"data": {"hmac_key": TRACKER.new("aws-hmac")}})
        r = SRV.request("PUT", "/v1/rotation/config/templates/down", {
            "rotator": "http", "params": {"url": "http://127.0.0.1:9/hook",
                                          "signing_secret": "templates/hook-key"},
            "retry": {"max_attempts": 1}})
        self.assertIn(r.status, (200, 204), r.body)
        tok = token()
        c.rotate_secret(SecretId="rot/fail", ClientRequestToken=tok,
                        RotationLambdaARN="arn:aws:lambda:us-east-1:1:function:templates/down")
        run = wait_run("rot/fail", "failed")
        self.assertTrue(run.get("error"))
        got = c.get_secret_value(SecretId="rot/fail")
        self.assertEqual(json.loads(got["SecretString"])["api_key"], old)
        for v in c.list_secret_version_ids(SecretId="rot/fail", IncludeDeprecated=True)["Versions"]:
            self.assertNotIn("AWSPENDING", v.get("VersionStages", []))
        self.assertEqual(error_of(lambda: c.get_secret_value(
            SecretId="rot/fail", VersionStage="AWSPENDING"))[0], "ResourceNotFoundException")


def services_env():
    """Starts PostgreSQL (idempotent) and returns scripts/services' environment."""
    subprocess.run([os.path.join(REPO, "scripts", "services"), "start", "postgres"],
                   check=True, stdout=subprocess.DEVNULL)
    out = subprocess.run([os.path.join(REPO, "scripts", "services"), "env"], check=True,
                         capture_output=True, text=True).stdout
    env = {}
    for line in out.splitlines():
        if line.startswith("export "):
            k, _, v = line[len("export "):].partition("=")
            env[k] = shlex.split(v)[0] if v else ""
    return env


def psql(env, user, password, sql):
    """Runs `sql` as `user`; returns (exit status, stderr)."""
    p = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", env["REKEY_PG_HOST"],
                        "-p", env["REKEY_PG_PORT"], "-U", user, "-d", env["REKEY_PG_DATABASE"],
                        "-c", sql],
                       env=dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT="5"),
                       capture_output=True, text=True)
    return p.returncode, p.stderr


class PostgresRotationTest(unittest.TestCase):
    def test_rotate_secret_drives_the_postgres_rotator(self):
        env = services_env()
        admin, admin_pw = env["REKEY_PG_ADMIN_USER"], env["REKEY_PG_ADMIN_PASSWORD"]
        role = "aws_app_%s" % uuid.uuid4().hex[:8]
        initial = TRACKER.new("aws-pg")
        rc, err = psql(env, admin, admin_pw,
                       "CREATE ROLE %s LOGIN PASSWORD '%s'" % (role, initial))
        self.assertEqual(rc, 0, err)
        SRV.request("POST", "/v1/secret/data/rot/pg-admin",
                    {"data": {"username": admin, "password": admin_pw}})
        c = client()
        c.create_secret(Name="rot/pg", SecretString=json.dumps({
            "username": role, "password": initial, "host": env["REKEY_PG_HOST"],
            "port": int(env["REKEY_PG_PORT"])}))
        r = SRV.request("PUT", "/v1/rotation/config/rot/pg", {
            "rotator": "postgres", "grace": "1s",
            "params": {"host": env["REKEY_PG_HOST"], "port": int(env["REKEY_PG_PORT"]),
                       "database": env["REKEY_PG_DATABASE"], "username": role,
                       "admin_secret": "rot/pg-admin", "sslmode": "disable"}})
        self.assertIn(r.status, (200, 204), r.body)
        tok = token()
        c.rotate_secret(SecretId="rot/pg", ClientRequestToken=tok,
                        RotationLambdaARN="arn:aws:lambda:us-east-1:123456789012:function:postgres",
                        RotationRules={"AutomaticallyAfterDays": 7})
        value = json.loads(wait_current(c, "rot/pg", tok, timeout=30)["SecretString"])
        TRACKER.track(value["password"])
        self.assertEqual(value["username"], role)
        self.assertNotEqual(value["password"], initial)
        self.assertEqual(psql(env, role, value["password"], "SELECT 1")[0], 0)
        self.assertNotEqual(psql(env, role, initial, "SELECT 1")[0], 0,
                            "single-user: the old password stops working")
        d = c.describe_secret(SecretId="rot/pg")
        self.assertTrue(d["RotationLambdaARN"].endswith(":function:postgres"))
        self.assertEqual(d["RotationRules"], {"AutomaticallyAfterDays": 7})


def setUpModule():
    global SRV
    SRV = RekeyServer(name="aws-rotation",
                      extra_args=["--dev-aws-key", "%s:%s" % (AKID, SECRET)])
    SRV.start()


def tearDownModule():
    try:
        TRACKER.check(SRV, label="aws rotation")
    finally:
        SRV.stop()
        SRV.cleanup()
        sys.stderr.write("validated %d responses against the botocore model\n"
                         % len(shapes.CHECKED))


if __name__ == "__main__":
    harness.main()
