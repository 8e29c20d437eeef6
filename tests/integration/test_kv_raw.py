#!/usr/bin/python3
"""KV v2 wire details that hvac 0.11.2 never exercises, checked with raw http.client.

Envelope and header facts (X-Request-Id, Content-Type, 204 without body), LIST via
?list=true|1, real PATCH with application/merge-patch+json on data and metadata,
subkeys, custom_metadata, delete_version_after expiry, PUT == POST, token lookup-self.
Reference: /work/shared/reference/api-compat.md sections 1-2.

Run:  REKEY_BIN=build/src/app/rekey /usr/bin/python3 tests/integration/test_kv_raw.py -v
"""

import os
import re
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import RekeyServer, SecretTracker  # noqa: E402

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")
MERGE = {"Content-Type": "application/merge-patch+json"}

SRV = None
SECRETS = SecretTracker()


def setUpModule():
    global SRV
    SRV = RekeyServer(name="kvraw").__enter__()


def tearDownModule():
    try:
        SECRETS.check(SRV, label="test_kv_raw")
    finally:
        SRV.__exit__(None, None, None)


def uniq(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


class KvWire(unittest.TestCase):

    def req(self, method, path, body=None, **kw):
        r = SRV.request(method, path, body=body, **kw)
        self.assertTrue(r.header("x-request-id"), "%s %s: no X-Request-Id header" % (method, path))
        return r

    def ok(self, method, path, body=None, status=200, **kw):
        r = self.req(method, path, body, **kw)
        self.assertEqual(r.status, status, "%s %s -> %r" % (method, path, r))
        if status == 204:
            self.assertEqual(r.body, b"", "204 must have no body")
        else:
            self.assertEqual(r.header("content-type"), "application/json", "%s %s" % (method, path))
        return r

    def write(self, path, data, **kw):
        return self.ok("POST", "/v1/secret/data/" + path, {"data": data}, **kw).json

    # -----------------------------------------------------------------------------
    def test_envelope_and_headers(self):
        p = uniq("raw/env")
        w = self.write(p, {"k": SECRETS.new()})
        self.assertRegex(w["request_id"], UUID_RE, "request_id must be a UUID")
        self.assertEqual((w["lease_id"], w["renewable"], w["lease_duration"]), ("", False, 0))
        self.assertIsNone(w["wrap_info"])
        self.assertIn(w["warnings"], (None, []))
        self.assertIsNone(w["auth"])
        a = self.ok("GET", "/v1/secret/data/" + p)
        b = self.ok("GET", "/v1/secret/data/" + p)
        self.assertNotEqual(a.header("x-request-id"), b.header("x-request-id"),
                            "X-Request-Id must differ per request")
        # X-Request-Id also on errors, 204s and health.
        self.req("GET", "/v1/secret/data/" + uniq("raw/none"))
        self.req("GET", "/v1/secret/data/" + p, token="bad-token")
        self.req("DELETE", "/v1/secret/data/" + uniq("raw/none"))
        self.req("GET", "/v1/sys/health", token=None)

    def test_put_equals_post(self):
        p = uniq("raw/put")
        v = SECRETS.new()
        w = self.ok("PUT", "/v1/secret/data/" + p, {"data": {"k": v}}).json
        self.assertEqual(w["data"]["version"], 1)
        self.assertEqual(self.ok("GET", "/v1/secret/data/" + p).json["data"]["data"], {"k": v})

    def test_health(self):
        r = self.ok("GET", "/v1/sys/health", token=None)
        for k in ("initialized", "sealed", "standby", "server_time_utc", "version"):
            self.assertIn(k, r.json, "sys/health body lacks %r" % k)
        self.assertNotIn("data", r.json, "sys/health has no envelope")
        r = self.req("HEAD", "/v1/sys/health", token=None)
        self.assertEqual((r.status, r.body), (200, b""))

    def test_lookup_self(self):
        r = self.ok("GET", "/v1/auth/token/lookup-self")
        self.assertIn("root", r.json["data"]["policies"])
        r = self.req("GET", "/v1/auth/token/lookup-self", token="nope-" + uuid.uuid4().hex)
        self.assertEqual((r.status, r.json), (403, {"errors": ["permission denied"]}))
        self.assertEqual(r.header("content-type"), "application/json")
        r = self.req("GET", "/v1/auth/token/lookup-self", token=None)
        self.assertEqual((r.status, r.json), (403, {"errors": ["permission denied"]}))

    def test_list_variants(self):
        base = uniq("raw/list")
        for sub in ("a", "b/c"):
            self.write("%s/%s" % (base, sub), {"k": SECRETS.new()})
        want = ["a", "b/"]
        for method, query in (("LIST", ""), ("GET", "?list=true"), ("GET", "?list=1"),
                              ("GET", "?list=True"), ("LIST", "/")):
            r = self.ok(method, "/v1/secret/metadata/%s%s" % (base, query))
            self.assertEqual(sorted(r.json["data"]["keys"]), want, "%s %s" % (method, query))
        # list=false is a plain metadata read.
        r = self.req("GET", "/v1/secret/metadata/%s/a?list=false" % base)
        self.assertEqual(r.status, 200, r)
        self.assertIn("current_version", r.json["data"])
        r = self.req("LIST", "/v1/secret/metadata/" + uniq("raw/list-none"))
        self.assertEqual((r.status, r.json), (404, {"errors": []}))
        # Listing the mount root works (LIST /v1/secret/metadata/).
        r = self.ok("LIST", "/v1/secret/metadata/")
        self.assertIn("raw/", r.json["data"]["keys"])

    def test_patch_merge(self):
        p = uniq("raw/patch")
        a, b, c = SECRETS.new(), SECRETS.new(), SECRETS.new()
        self.write(p, {"a": a, "drop": "x", "obj": {"keep": a, "change": b}})
        r = self.ok("PATCH", "/v1/secret/data/" + p,
                    {"data": {"drop": None, "obj": {"change": c}, "new": c}}, headers=MERGE)
        self.assertEqual(r.json["data"]["version"], 2)
        got = self.ok("GET", "/v1/secret/data/" + p).json["data"]["data"]
        self.assertEqual(got, {"a": a, "obj": {"keep": a, "change": c}, "new": c},
                         "RFC 7396 merge patch: null deletes, objects merge recursively")
        # cas in options
        r = self.req("PATCH", "/v1/secret/data/" + p, {"options": {"cas": 1}, "data": {"a": b}},
                     headers=MERGE)
        self.assertEqual(r.status, 400, "stale cas on PATCH: %r" % r)
        self.ok("PATCH", "/v1/secret/data/" + p, {"options": {"cas": 2}, "data": {"a": b}},
                headers=MERGE)
        # missing, deleted -> 404
        r = self.req("PATCH", "/v1/secret/data/" + uniq("raw/patch-none"), {"data": {"a": b}},
                     headers=MERGE)
        self.assertEqual(r.status, 404, r)
        self.ok("DELETE", "/v1/secret/data/" + p, status=204)
        r = self.req("PATCH", "/v1/secret/data/" + p, {"data": {"a": c}}, headers=MERGE)
        self.assertEqual(r.status, 404, "PATCH of a deleted latest version: %r" % r)

    def test_subkeys(self):
        p = uniq("raw/subkeys")
        v = SECRETS.new()
        self.write(p, {"foo": v, "bar": {"baz": v, "q": {"deep": v}}})
        self.write(p, {"only": v})
        r = self.ok("GET", "/v1/secret/subkeys/%s?version=1" % p)
        self.assertEqual(r.json["data"]["subkeys"],
                         {"foo": None, "bar": {"baz": None, "q": {"deep": None}}})
        self.assertEqual(r.json["data"]["metadata"]["version"], 1)
        self.assertNotIn(v.encode(), r.body, "subkeys must not return values")
        r = self.ok("GET", "/v1/secret/subkeys/%s?version=1&depth=1" % p)
        self.assertEqual(r.json["data"]["subkeys"], {"foo": None, "bar": None})
        r = self.ok("GET", "/v1/secret/subkeys/" + p)
        self.assertEqual(r.json["data"]["subkeys"], {"only": None})
        r = self.req("GET", "/v1/secret/subkeys/" + uniq("raw/subkeys-none"))
        self.assertEqual(r.status, 404)

    def test_metadata_write_and_patch(self):
        p = uniq("raw/meta")
        # Metadata may be written before any data exists.
        self.ok("POST", "/v1/secret/metadata/" + p,
                {"max_versions": 4, "cas_required": False, "delete_version_after": "1h",
                 "custom_metadata": {"owner": "team-a", "env": "prod"}}, status=204)
        self.write(p, {"k": SECRETS.new()})
        m = self.ok("GET", "/v1/secret/metadata/" + p).json["data"]
        self.assertEqual(m["max_versions"], 4)
        self.assertEqual(m["custom_metadata"], {"owner": "team-a", "env": "prod"})
        self.assertIn(m["delete_version_after"], ("1h0m0s", "1h"), "Go duration string")
        self.ok("PATCH", "/v1/secret/metadata/" + p,
                {"max_versions": 5, "custom_metadata": {"env": None, "tier": "1"}},
                headers=MERGE, status=204)
        m = self.ok("GET", "/v1/secret/metadata/" + p).json["data"]
        self.assertEqual(m["max_versions"], 5)
        self.assertEqual(m["custom_metadata"], {"owner": "team-a", "tier": "1"},
                         "metadata PATCH merges custom_metadata; null removes a key")
        self.assertIn(m["delete_version_after"], ("1h0m0s", "1h"), "untouched by the patch")
        # custom_metadata is echoed in data reads' metadata.
        r = self.ok("GET", "/v1/secret/data/" + p).json
        self.assertEqual(r["data"]["metadata"]["custom_metadata"], {"owner": "team-a", "tier": "1"})

    def test_delete_version_after_expires(self):
        p = uniq("raw/expire")
        self.ok("POST", "/v1/secret/metadata/" + p, {"delete_version_after": "1s"}, status=204)
        v = SECRETS.new()
        w = self.write(p, {"k": v})
        self.assertRfc3339(w["data"]["deletion_time"])
        self.assertEqual(self.ok("GET", "/v1/secret/data/" + p).json["data"]["data"]["k"], v)
        time.sleep(1.6)
        r = self.req("GET", "/v1/secret/data/" + p)
        self.assertEqual(r.status, 404, "version past its deletion_time: %r" % r)
        self.assertNotIn("errors", r.json)
        self.assertIsNone(r.json["data"]["data"])
        self.assertRfc3339(r.json["data"]["metadata"]["deletion_time"])

    def assertRfc3339(self, s):
        self.assertIsInstance(s, str)
        self.assertRegex(s, RFC3339)

    def test_config_roundtrip(self):
        r = self.ok("GET", "/v1/secret/config").json["data"]
        self.assertEqual(set(r), {"cas_required", "delete_version_after", "max_versions"})
        try:
            self.ok("POST", "/v1/secret/config", {"max_versions": 0, "delete_version_after": "0s"},
                    status=204)
            r = self.ok("GET", "/v1/secret/config").json["data"]
            self.assertIn(r["max_versions"], (0, 10), "max_versions 0 means the default (10)")
        finally:
            self.ok("POST", "/v1/secret/config", {"max_versions": 10, "cas_required": False},
                    status=204)

    def test_versions_ops_status(self):
        p = uniq("raw/vops")
        self.write(p, {"k": SECRETS.new()})
        for op in ("delete", "undelete", "destroy"):
            self.ok("POST", "/v1/secret/%s/%s" % (op, p), {"versions": [1]}, status=204)
            r = self.req("POST", "/v1/secret/%s/%s" % (op, p), {"versions": []})
            self.assertEqual(r.status, 400, "%s with an empty versions list: %r" % (op, r))
            self.assertTrue(r.json["errors"][0])


if __name__ == "__main__":
    harness.main()
