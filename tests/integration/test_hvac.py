#!/usr/bin/python3
"""hvac 0.11.2 (Debian python3-hvac) against rekey's Vault KV v2 API.

Covers every KV v2 call hvac 0.11.2 makes (docs: /work/shared/reference/api-compat.md
sections 2-3), plus is_authenticated, sys health (HEAD and GET) and the generic
client.read/write/list on KV paths.

Run:  REKEY_BIN=build/src/app/rekey /usr/bin/python3 tests/integration/test_hvac.py -v
(`python3` on PATH is a pyenv without hvac; use /usr/bin/python3.)
"""

import json
import os
import re
import sys
import unittest
import urllib.error
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import RekeyServer, SecretTracker  # noqa: E402

try:
    import hvac
    import hvac.exceptions
except ImportError:  # pragma: no cover
    sys.stderr.write("hvac not importable: run with /usr/bin/python3 (Debian python3-hvac 0.11.2)\n")
    sys.exit(2)

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")

SRV = None
SECRETS = SecretTracker()


def setUpModule():
    global SRV
    import importlib.metadata
    print("hvac version:", importlib.metadata.version("hvac"))
    SRV = RekeyServer(name="hvac").__enter__()


def tearDownModule():
    try:
        SECRETS.check(SRV, label="test_hvac")
    finally:
        SRV.__exit__(None, None, None)


def uniq(prefix):
    """A fresh KV path per test so tests never see each other's data."""
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def raw_get(path, token=None):
    """GET via urllib (no hvac): returns (status, headers, parsed JSON or None)."""
    req = urllib.request.Request(SRV.url + path, headers={"X-Vault-Token": token or SRV.token})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            body = r.read()
            return r.status, r.headers, (json.loads(body) if body else None)
    except urllib.error.HTTPError as e:
        body = e.read()
        return e.code, e.headers, (json.loads(body) if body else None)


class HvacKvV2(unittest.TestCase):

    def setUp(self):
        self.c = self.mk(token=SRV.token)
        self.kv = self.c.secrets.kv.v2

    def mk(self, **kw):
        """An hvac client for SRV whose requests session is closed after the test."""
        c = hvac.Client(url=SRV.url, **kw)
        self.addCleanup(c.adapter.close)
        return c

    # -- helpers ----------------------------------------------------------------
    def put(self, path, **kw):
        secret = {k: SECRETS.track(v) for k, v in kw.items()}
        resp = self.kv.create_or_update_secret(path=path, secret=secret)
        self.assertIsInstance(resp, dict, "create_or_update_secret must return 200 + JSON")
        return resp

    def assertRfc3339(self, value, what):
        self.assertIsInstance(value, str, "%s must be a string" % what)
        self.assertRegex(value, RFC3339, "%s=%r is not RFC 3339 UTC" % (what, value))

    def assertVersionMeta(self, meta, version, what="metadata"):
        self.assertEqual(meta.get("version"), version, "%s.version" % what)
        self.assertRfc3339(meta.get("created_time"), "%s.created_time" % what)
        self.assertEqual(meta.get("deletion_time"), "",
                         "%s.deletion_time must be \"\" when not deleted" % what)
        self.assertIs(meta.get("destroyed"), False, "%s.destroyed" % what)

    # -- auth and health --------------------------------------------------------
    def test_is_authenticated(self):
        self.assertTrue(self.c.is_authenticated(), "root token must authenticate")
        bad = self.mk(token="not-a-token-" + uuid.uuid4().hex)
        self.assertFalse(bad.is_authenticated(), "bad token: lookup-self must give 403 (not 401)")

    def test_lookup_self_root_policy(self):
        st, hdrs, body = raw_get("/v1/auth/token/lookup-self")
        self.assertEqual(st, 200)
        self.assertIn("root", body["data"]["policies"], "root token must carry the root policy")

    def test_health_head_and_get(self):
        r = self.c.sys.read_health_status()  # HEAD /v1/sys/health
        self.assertEqual(getattr(r, "status_code", None), 200, "HEAD /v1/sys/health: %r" % (r,))
        body = self.c.sys.read_health_status(method="GET")
        self.assertIsInstance(body, dict, "GET /v1/sys/health must return a JSON object")
        self.assertIs(body.get("initialized"), True, body)
        self.assertIs(body.get("sealed"), False, body)
        # No authentication needed.
        anon = self.mk(token=None)
        self.assertEqual(anon.sys.read_health_status().status_code, 200)

    # -- create / read ------------------------------------------------------------
    def test_create_and_read(self):
        p = uniq("hvac/create")
        v = SECRETS.new()
        w = self.kv.create_or_update_secret(path=p, secret={"password": v})
        self.assertIsInstance(w, dict)
        self.assertVersionMeta(w["data"], 1, "write response data")
        for envelope_key in ("request_id", "lease_id", "renewable", "lease_duration", "data",
                             "wrap_info", "warnings", "auth"):
            self.assertIn(envelope_key, w, "success envelope lacks %r" % envelope_key)

        r = self.kv.read_secret(path=p)
        self.assertEqual(r["data"]["data"], {"password": v})
        self.assertVersionMeta(r["data"]["metadata"], 1, "read_secret metadata")

        r = self.kv.read_secret_version(path=p)
        self.assertEqual(r["data"]["data"], {"password": v})
        r = self.kv.read_secret_version(path=p, version=1)
        self.assertEqual(r["data"]["data"], {"password": v})

    def test_nested_values_round_trip(self):
        p = uniq("hvac/nested")
        v = SECRETS.new()
        secret = {"s": v, "n": 42, "f": 1.5, "b": True, "z": None, "list": [1, "two", v],
                  "obj": {"inner": {"deep": v}}, "unicode": "h\u00e9llo \u2603 \U0001F511"}
        self.kv.create_or_update_secret(path=p, secret=secret)
        self.assertEqual(self.kv.read_secret(path=p)["data"]["data"], secret)

    def test_versions(self):
        p = uniq("hvac/versions")
        vals = [SECRETS.new() for _ in range(3)]
        for i, v in enumerate(vals, 1):
            w = self.kv.create_or_update_secret(path=p, secret={"k": v})
            self.assertEqual(w["data"]["version"], i)
        self.assertEqual(self.kv.read_secret_version(path=p)["data"]["data"]["k"], vals[2])
        for i, v in enumerate(vals, 1):
            r = self.kv.read_secret_version(path=p, version=i)
            self.assertEqual(r["data"]["data"]["k"], v, "version %d" % i)
            self.assertEqual(r["data"]["metadata"]["version"], i)
        with self.assertRaises(hvac.exceptions.InvalidPath, msg="nonexistent version 99"):
            self.kv.read_secret_version(path=p, version=99)

    def test_read_missing(self):
        with self.assertRaises(hvac.exceptions.InvalidPath):
            self.kv.read_secret(path=uniq("hvac/missing"))
        st, hdrs, body = raw_get("/v1/secret/data/" + uniq("hvac/missing"))
        self.assertEqual((st, body), (404, {"errors": []}), "missing secret: 404 {\"errors\":[]}")
        self.assertEqual(hdrs.get("Content-Type"), "application/json")

    # -- check-and-set ------------------------------------------------------------
    def test_cas(self):
        p = uniq("hvac/cas")
        w = self.kv.create_or_update_secret(path=p, secret={"k": SECRETS.new()}, cas=0)
        self.assertEqual(w["data"]["version"], 1, "cas=0 creates")
        with self.assertRaises(hvac.exceptions.InvalidRequest) as cm:
            self.kv.create_or_update_secret(path=p, secret={"k": SECRETS.new()}, cas=0)
        self.assertIsInstance(cm.exception.errors, list,
                              "error body must be {\"errors\":[...]} with Content-Type application/json")
        self.assertIn("check-and-set", " ".join(cm.exception.errors))
        w = self.kv.create_or_update_secret(path=p, secret={"k": SECRETS.new()}, cas=1)
        self.assertEqual(w["data"]["version"], 2)
        with self.assertRaises(hvac.exceptions.InvalidRequest):
            self.kv.create_or_update_secret(path=p, secret={"k": SECRETS.new()}, cas=1)
        with self.assertRaises(hvac.exceptions.InvalidRequest):
            self.kv.create_or_update_secret(path=p, secret={"k": SECRETS.new()}, cas=7)
        self.assertEqual(self.kv.read_secret_metadata(path=p)["data"]["current_version"], 2,
                         "failed CAS writes must not create versions")

    # -- patch (hvac 0.11.2: GET + POST with cas) ----------------------------------------
    def test_patch(self):
        p = uniq("hvac/patch")
        a, b, b2, c = (SECRETS.new() for _ in range(4))
        self.kv.create_or_update_secret(path=p, secret={"a": a, "b": b})
        w = self.kv.patch(path=p, secret={"b": b2, "c": c})
        self.assertEqual(w["data"]["version"], 2)
        self.assertEqual(self.kv.read_secret(path=p)["data"]["data"], {"a": a, "b": b2, "c": c})
        with self.assertRaises(hvac.exceptions.InvalidPath):
            self.kv.patch(path=uniq("hvac/patch-missing"), secret={"x": SECRETS.new()})

    # -- metadata -------------------------------------------------------------------
    def test_read_secret_metadata(self):
        p = uniq("hvac/meta")
        self.put(p, k=SECRETS.new())
        self.put(p, k=SECRETS.new())
        m = self.kv.read_secret_metadata(path=p)["data"]
        self.assertEqual(m["current_version"], 2)
        self.assertEqual(sorted(m["versions"].keys()), ["1", "2"],
                         "versions keys must be decimal strings")
        for v, info in m["versions"].items():
            # The hvac docs sample: read_secret_metadata(p)['data']['versions'][v]['created_time']
            self.assertRfc3339(info["created_time"], "versions[%s].created_time" % v)
            self.assertEqual(info["deletion_time"], "", "versions[%s].deletion_time" % v)
            self.assertIs(info["destroyed"], False)
        self.assertRfc3339(m["created_time"], "created_time")
        self.assertRfc3339(m["updated_time"], "updated_time")
        self.assertLessEqual(m["created_time"], m["updated_time"])
        self.assertEqual(m["max_versions"], 0)
        self.assertIs(m["cas_required"], False)
        self.assertEqual(m["delete_version_after"], "0s")
        self.assertIn("oldest_version", m)
        self.assertIn(m.get("custom_metadata"), (None, {}))
        with self.assertRaises(hvac.exceptions.InvalidPath):
            self.kv.read_secret_metadata(path=uniq("hvac/meta-missing"))

    # -- list -------------------------------------------------------------------------
    def test_list_secrets(self):
        base = uniq("hvac/list")
        for sub in ("x", "y", "sub/z", "sub/deeper/w"):
            self.put("%s/%s" % (base, sub), k=SECRETS.new())
        keys = self.kv.list_secrets(path=base)["data"]["keys"]
        self.assertEqual(sorted(keys), ["sub/", "x", "y"], "folders end in '/', listed once")
        keys = self.kv.list_secrets(path=base + "/sub")["data"]["keys"]
        self.assertEqual(sorted(keys), ["deeper/", "z"])
        keys = self.kv.list_secrets(path=base + "/sub/")["data"]["keys"]
        self.assertEqual(sorted(keys), ["deeper/", "z"], "trailing slash on a list path is fine")
        with self.assertRaises(hvac.exceptions.InvalidPath):
            self.kv.list_secrets(path=uniq("hvac/list-missing"))
        # strict_http: GET ?list=true
        strict = self.mk(token=SRV.token, strict_http=True)
        keys = strict.secrets.kv.v2.list_secrets(path=base)["data"]["keys"]
        self.assertEqual(sorted(keys), ["sub/", "x", "y"], "GET ?list=true")

    # -- delete / undelete / destroy ------------------------------------------------
    def test_delete_latest_and_soft_deleted_read(self):
        p = uniq("hvac/del")
        v1, v2 = SECRETS.new(), SECRETS.new()
        self.put(p, k=v1)
        self.put(p, k=v2)
        r = self.kv.delete_latest_version_of_secret(path=p)
        self.assertEqual(getattr(r, "status_code", None), 204, "DELETE data: 204 no body")
        with self.assertRaises(hvac.exceptions.InvalidPath, msg="soft-deleted latest"):
            self.kv.read_secret(path=p)
        # Raw wire check: 404 with the full envelope, data.data null, no "errors" key.
        st, hdrs, body = raw_get("/v1/secret/data/" + p)
        self.assertEqual(st, 404)
        self.assertEqual(hdrs.get("Content-Type"), "application/json")
        self.assertIsInstance(body, dict)
        self.assertNotIn("errors", body, "deleted version: envelope, not an error body")
        self.assertIsNone(body["data"]["data"], "deleted version: data.data must be null")
        meta = body["data"]["metadata"]
        self.assertEqual(meta["version"], 2)
        self.assertRfc3339(meta["deletion_time"], "deleted version metadata.deletion_time")
        self.assertIs(meta["destroyed"], False)
        self.assertNotIn(v2.encode(), json.dumps(body).encode(), "deleted value must not leak")
        # Version 1 is still readable; metadata shows the deletion.
        self.assertEqual(self.kv.read_secret_version(path=p, version=1)["data"]["data"]["k"], v1)
        m = self.kv.read_secret_metadata(path=p)["data"]
        self.assertRfc3339(m["versions"]["2"]["deletion_time"], "versions[2].deletion_time")
        self.assertEqual(m["versions"]["1"]["deletion_time"], "")
        # Deleting a missing path is 204 too.
        r = self.kv.delete_latest_version_of_secret(path=uniq("hvac/del-missing"))
        self.assertEqual(getattr(r, "status_code", None), 204)

    def test_delete_undelete_versions(self):
        p = uniq("hvac/undel")
        vals = [SECRETS.new() for _ in range(3)]
        for v in vals:
            self.put(p, k=v)
        r = self.kv.delete_secret_versions(path=p, versions=[1, 2])
        self.assertEqual(getattr(r, "status_code", None), 204)
        for ver in (1, 2):
            with self.assertRaises(hvac.exceptions.InvalidPath, msg="deleted version %d" % ver):
                self.kv.read_secret_version(path=p, version=ver)
        self.assertEqual(self.kv.read_secret_version(path=p)["data"]["data"]["k"], vals[2])
        r = self.kv.undelete_secret_versions(path=p, versions=[1])
        self.assertEqual(getattr(r, "status_code", None), 204)
        self.assertEqual(self.kv.read_secret_version(path=p, version=1)["data"]["data"]["k"], vals[0])
        with self.assertRaises(hvac.exceptions.InvalidPath):
            self.kv.read_secret_version(path=p, version=2)
        m = self.kv.read_secret_metadata(path=p)["data"]["versions"]
        self.assertEqual(m["1"]["deletion_time"], "", "undeleted version has deletion_time \"\"")
        self.assertNotEqual(m["2"]["deletion_time"], "")

    def test_destroy_versions(self):
        p = uniq("hvac/destroy")
        v1, v2 = SECRETS.new(), SECRETS.new()
        self.put(p, k=v1)
        self.put(p, k=v2)
        r = self.kv.destroy_secret_versions(path=p, versions=[1])
        self.assertEqual(getattr(r, "status_code", None), 204)
        with self.assertRaises(hvac.exceptions.InvalidPath):
            self.kv.read_secret_version(path=p, version=1)
        st, _, body = raw_get("/v1/secret/data/%s?version=1" % p)
        self.assertEqual(st, 404)
        self.assertNotIn("errors", body)
        self.assertIsNone(body["data"]["data"])
        self.assertIs(body["data"]["metadata"]["destroyed"], True)
        self.assertIs(self.kv.read_secret_metadata(path=p)["data"]["versions"]["1"]["destroyed"], True)
        # Undelete cannot resurrect a destroyed version.
        self.kv.undelete_secret_versions(path=p, versions=[1])
        with self.assertRaises(hvac.exceptions.InvalidPath, msg="destroyed stays destroyed"):
            self.kv.read_secret_version(path=p, version=1)
        self.assertEqual(self.kv.read_secret(path=p)["data"]["data"]["k"], v2)

    # -- update_metadata -------------------------------------------------------------
    def test_update_metadata_max_versions_prunes(self):
        p = uniq("hvac/prune")
        vals = [SECRETS.new() for _ in range(5)]
        for v in vals:
            self.put(p, k=v)
        r = self.kv.update_metadata(path=p, max_versions=2)
        self.assertEqual(getattr(r, "status_code", None), 204)
        self.assertEqual(self.kv.read_secret_metadata(path=p)["data"]["max_versions"], 2)
        v6 = SECRETS.new()
        self.put(p, k=v6)  # pruning happens (at the latest) on write
        m = self.kv.read_secret_metadata(path=p)["data"]
        self.assertEqual(m["current_version"], 6)
        self.assertEqual(sorted(m["versions"].keys(), key=int), ["5", "6"],
                         "max_versions=2 keeps only the newest 2 versions")
        self.assertEqual(m["oldest_version"], 5)
        with self.assertRaises(hvac.exceptions.InvalidPath, msg="pruned version 1"):
            self.kv.read_secret_version(path=p, version=1)
        self.assertEqual(self.kv.read_secret_version(path=p, version=5)["data"]["data"]["k"], vals[4])
        self.assertEqual(self.kv.read_secret(path=p)["data"]["data"]["k"], v6)

    def test_update_metadata_cas_required(self):
        p = uniq("hvac/casreq")
        self.put(p, k=SECRETS.new())
        self.kv.update_metadata(path=p, cas_required=True)
        self.assertIs(self.kv.read_secret_metadata(path=p)["data"]["cas_required"], True)
        with self.assertRaises(hvac.exceptions.InvalidRequest) as cm:
            self.kv.create_or_update_secret(path=p, secret={"k": SECRETS.new()})
        self.assertIn("check-and-set", " ".join(cm.exception.errors or []))
        w = self.kv.create_or_update_secret(path=p, secret={"k": SECRETS.new()}, cas=1)
        self.assertEqual(w["data"]["version"], 2)
        self.kv.update_metadata(path=p, cas_required=False)
        self.put(p, k=SECRETS.new())  # no cas needed any more

    # -- mount configuration -----------------------------------------------------------
    def test_configure_and_read_configuration(self):
        try:
            r = self.kv.configure(max_versions=7, cas_required=False, delete_version_after="0s")
            self.assertEqual(getattr(r, "status_code", None), 204)
            cfg = self.kv.read_configuration()["data"]
            self.assertEqual(cfg["max_versions"], 7)
            self.assertIs(cfg["cas_required"], False)
            self.assertEqual(cfg["delete_version_after"], "0s")

            self.kv.configure(max_versions=7, cas_required=True)
            self.assertIs(self.kv.read_configuration()["data"]["cas_required"], True)
            with self.assertRaises(hvac.exceptions.InvalidRequest, msg="mount-wide cas_required"):
                self.kv.create_or_update_secret(path=uniq("hvac/cfg"), secret={"k": SECRETS.new()})
            w = self.kv.create_or_update_secret(path=uniq("hvac/cfg"), secret={"k": SECRETS.new()}, cas=0)
            self.assertEqual(w["data"]["version"], 1)
        finally:
            self.kv.configure(max_versions=10, cas_required=False)  # restore the defaults
        self.assertIs(self.kv.read_configuration()["data"]["cas_required"], False)

    def test_configure_max_versions_prunes(self):
        p = uniq("hvac/cfgprune")
        try:
            self.kv.configure(max_versions=3, cas_required=False)
            for _ in range(5):
                self.put(p, k=SECRETS.new())
            m = self.kv.read_secret_metadata(path=p)["data"]
            self.assertEqual(sorted(m["versions"].keys(), key=int), ["3", "4", "5"],
                             "mount max_versions=3 applies when the key sets none")
        finally:
            self.kv.configure(max_versions=10, cas_required=False)

    # -- delete metadata -------------------------------------------------------------
    def test_delete_metadata_and_all_versions(self):
        base = uniq("hvac/rmall")
        p = base + "/victim"
        self.put(p, k=SECRETS.new())
        self.put(p, k=SECRETS.new())
        self.put(base + "/survivor", k=SECRETS.new())
        r = self.kv.delete_metadata_and_all_versions(path=p)
        self.assertEqual(getattr(r, "status_code", None), 204)
        with self.assertRaises(hvac.exceptions.InvalidPath):
            self.kv.read_secret(path=p)
        with self.assertRaises(hvac.exceptions.InvalidPath):
            self.kv.read_secret_version(path=p, version=1)
        with self.assertRaises(hvac.exceptions.InvalidPath):
            self.kv.read_secret_metadata(path=p)
        self.assertEqual(self.kv.list_secrets(path=base)["data"]["keys"], ["survivor"])
        # A new write after rm-all starts again at version 1.
        self.assertEqual(self.put(p, k=SECRETS.new())["data"]["version"], 1)

    # -- generic client.read / write / list -------------------------------------------
    def test_generic_read_write_list(self):
        base = uniq("hvac/generic")
        v = SECRETS.new()
        w = self.c.write("secret/data/%s/one" % base, data={"k": v})
        self.assertIsInstance(w, dict)
        self.assertEqual(w["data"]["version"], 1)
        r = self.c.read("secret/data/%s/one" % base)
        self.assertEqual(r["data"]["data"], {"k": v})
        self.assertIsNone(self.c.read("secret/data/%s/none" % base), "404 -> None")
        lst = self.c.list("secret/metadata/%s" % base)  # GET ?list=True
        self.assertEqual(lst["data"]["keys"], ["one"])
        self.assertIsNone(self.c.list("secret/metadata/%s/none" % base), "404 -> None")
        w = self.c.write("secret/data/%s/one" % base, data={"k": SECRETS.new()}, options={"cas": 1})
        self.assertEqual(w["data"]["version"], 2)
        self.c.delete("secret/metadata/%s/one" % base)
        self.assertIsNone(self.c.read("secret/data/%s/one" % base))

    def test_bad_token_is_forbidden(self):
        bad = self.mk(token="bad-" + uuid.uuid4().hex)
        with self.assertRaises(hvac.exceptions.Forbidden) as cm:
            bad.secrets.kv.v2.read_secret(path="hvac/anything")
        self.assertEqual(cm.exception.errors, ["permission denied"])

    def test_path_quoting(self):
        # hvac quotes path parts with urllib.parse.quote ('/' kept). Paths allow the AWS secret
        # name characters (letters, digits, . _ - + = @), so these arrive percent-encoded.
        p = uniq("hvac/quote") + "/plus+eq=at@x"
        v = SECRETS.new()
        self.kv.create_or_update_secret(path=p, secret={"k": v})
        self.assertEqual(self.kv.read_secret(path=p)["data"]["data"]["k"], v)
        self.assertIn("plus+eq=at@x", self.kv.list_secrets(path=p.rsplit("/", 1)[0])["data"]["keys"])

    def test_path_with_space_is_rejected(self):
        with self.assertRaises(hvac.exceptions.InvalidRequest) as cm:
            self.kv.create_or_update_secret(path=uniq("hvac/quote") + "/with space",
                                            secret={"k": SECRETS.new()})
        self.assertIn("invalid path", str(cm.exception))


if __name__ == "__main__":
    harness.main()
