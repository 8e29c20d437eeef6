#!/usr/bin/python3
"""Tokens and policies through hvac 0.11.2 (Debian python3-hvac) and the rekey CLI.

hvac 0.11.2 has no sys.create_or_update_acl_policy: its policy calls use Vault's older
/v1/sys/policy/{name} endpoints, sending the policy as a JSON *string* in {"policy": ...}
(json.dumps of a dict). rekey serves those and /v1/sys/policies/acl/{name}.

Covers: policy create/read/list/delete (hvac and raw sys/policies/acl), token create
(client.create_token and client.auth.token.create), reads allowed and refused (Forbidden)
with the new token, deny rules, renew, lookup (self, by token, by accessor), revoke (token,
accessor, self), children revoked with their parent and orphans surviving, use limits, and the
CLI's `rekey token` / `rekey policy`. No token value may appear in the server's output.

Run:  REKEY_BIN=build/src/app/rekey /usr/bin/python3 tests/integration/test_auth.py -v
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest
import uuid
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import RekeyServer, SecretTracker  # noqa: E402

try:
    import hvac
    import hvac.exceptions
except ImportError:  # pragma: no cover
    sys.stderr.write("hvac not importable: run with /usr/bin/python3 (Debian python3-hvac 0.11.2)\n")
    sys.exit(2)

SRV = None
SECRETS = SecretTracker()


def setUpModule():
    global SRV
    # create_token/renew_self_token are what hvac 0.11 users call; hvac marks them deprecated.
    warnings.filterwarnings("ignore", message="Call to deprecated function",
                            category=DeprecationWarning)
    SRV = RekeyServer(name="auth").__enter__()


def tearDownModule():
    try:
        SECRETS.check(SRV, label="test_auth")
    finally:
        SRV.__exit__(None, None, None)


def uniq(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def app_policy(prefix):
    """A policy dict: read/write under secret/data/<prefix>/, list its metadata, deny one path,
    create child and orphan tokens."""
    return {
        "path": {
            "secret/data/%s/*" % prefix: {"capabilities": ["create", "read", "update"]},
            "secret/metadata/%s/*" % prefix: {"capabilities": ["list", "read"]},
            "secret/data/%s/locked" % prefix: {"capabilities": ["deny"]},
            "auth/token/create": {"capabilities": ["update"]},
            "auth/token/create-orphan": {"capabilities": ["update"]},
        }
    }


class Base(unittest.TestCase):

    def mk(self, token):
        c = hvac.Client(url=SRV.url, token=token)
        self.addCleanup(c.adapter.close)
        return c

    def setUp(self):
        self.root = self.mk(SRV.token)

    def new_policy(self, prefix=None):
        """Writes an app policy through hvac (sys/policy) and returns (name, prefix)."""
        prefix = prefix or uniq("app")
        name = uniq("pol")
        self.root.sys.create_or_update_policy(name, app_policy(prefix))
        return name, prefix

    def new_token(self, policies, **kw):
        """client.create_token as root; returns (token, accessor)."""
        resp = self.root.create_token(policies=policies, **kw)
        auth = resp["auth"]
        SECRETS.track(auth["client_token"])
        return auth["client_token"], auth["accessor"]


class Policies(Base):

    def test_hvac_sends_the_policy_as_a_string_and_reads_it_back(self):
        name, prefix = self.new_policy()
        read = self.root.sys.read_policy(name)
        # Vault copies "data" to the top level of sys/ answers; hvac users read either.
        self.assertEqual(read["name"], name)
        self.assertEqual(read["data"]["name"], name)
        self.assertEqual(json.loads(read["rules"]), app_policy(prefix))
        self.assertIn(name, self.root.sys.list_policies()["policies"])
        self.root.sys.delete_policy(name)
        self.assertNotIn(name, self.root.sys.list_policies()["data"]["keys"])
        with self.assertRaises(hvac.exceptions.InvalidPath):
            self.root.sys.read_policy(name)

    def test_acl_endpoints(self):
        name = uniq("acl")
        text = json.dumps({"path": {"secret/data/x": {"capabilities": ["read"]}}})
        self.root.write("sys/policies/acl/%s" % name, policy=text)
        self.assertEqual(self.root.read("sys/policies/acl/%s" % name)["data"]["policy"], text)
        self.assertIn(name, self.root.list("sys/policies/acl")["data"]["keys"])
        r = SRV.request("LIST", "/v1/sys/policies/acl")
        self.assertEqual(r.status, 200, r)
        self.assertIn("root", r.json["data"]["keys"])
        self.assertIn("default", r.json["data"]["keys"])
        r = SRV.request("DELETE", "/v1/sys/policies/acl/%s" % name)
        self.assertEqual(r.status, 204, r)

    def test_hcl_is_refused_with_a_clear_message(self):
        r = SRV.request("PUT", "/v1/sys/policies/acl/hcl",
                        body={"policy": 'path "secret/*" { capabilities = ["read"] }'})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.header("content-type"), "application/json")
        self.assertIn("HCL is not supported", r.json["errors"][0])
        with self.assertRaises(hvac.exceptions.InvalidRequest):
            self.root.sys.create_or_update_policy("hcl", 'path "x" { capabilities = ["read"] }')

    def test_root_and_default_are_protected(self):
        r = SRV.request("PUT", "/v1/sys/policies/acl/root", body={"policy": '{"path":{}}'})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json["errors"], ["cannot update root policy"])
        r = SRV.request("DELETE", "/v1/sys/policies/acl/default")
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json["errors"], ["cannot delete default policy"])


class Tokens(Base):

    def test_token_reads_what_its_policy_allows_and_nothing_else(self):
        name, prefix = self.new_policy()
        self.root.secrets.kv.v2.create_or_update_secret("%s/db" % prefix,
                                                        secret={"pw": SECRETS.new()})
        self.root.secrets.kv.v2.create_or_update_secret("other/%s" % prefix,
                                                        secret={"pw": SECRETS.new()})
        token, _ = self.new_token([name], ttl="1h")
        c = self.mk(token)
        self.assertTrue(c.is_authenticated())
        kv = c.secrets.kv.v2
        self.assertIn("pw", kv.read_secret_version("%s/db" % prefix)["data"]["data"])
        kv.create_or_update_secret("%s/new" % prefix, secret={"v": SECRETS.new()})
        self.assertIn("db", kv.list_secrets(prefix)["data"]["keys"])
        with self.assertRaises(hvac.exceptions.Forbidden):
            kv.read_secret_version("other/%s" % prefix)
        with self.assertRaises(hvac.exceptions.Forbidden):
            kv.read_secret_version("%s/locked" % prefix)  # explicit deny
        with self.assertRaises(hvac.exceptions.Forbidden):
            kv.delete_metadata_and_all_versions("%s/db" % prefix)  # no delete
        with self.assertRaises(hvac.exceptions.Forbidden):
            c.sys.create_or_update_policy(uniq("p"), {"path": {}})
        with self.assertRaises(hvac.exceptions.Forbidden):
            c.sys.list_policies()
        # A missing secret under an allowed path is a 404, as for root.
        with self.assertRaises(hvac.exceptions.InvalidPath):
            kv.read_secret_version("%s/absent" % prefix)

    def test_no_rights_means_403_whether_or_not_the_secret_exists(self):
        self.root.secrets.kv.v2.create_or_update_secret("exists-%s" % uniq("s"),
                                                        secret={"a": "b"})
        token, _ = self.new_token(["default"], ttl="1h")
        r1 = SRV.request("GET", "/v1/secret/data/nothing-here", token=token)
        r2 = SRV.request("GET", "/v1/secret/metadata/", token=token)
        for r in (r1, r2):
            self.assertEqual(r.status, 403, r)
            self.assertEqual(r.json, {"errors": ["permission denied"]})

    def test_auth_token_create_and_lookup(self):
        name, _ = self.new_policy()
        resp = self.root.auth.token.create(policies=[name], ttl="30m", num_uses=0,
                                           meta={"team": "billing"}, display_name="ci")
        auth = resp["auth"]
        SECRETS.track(auth["client_token"])
        self.assertEqual(sorted(auth["policies"]), sorted([name, "default"]))
        self.assertEqual(auth["lease_duration"], 1800)
        self.assertTrue(auth["renewable"])
        self.assertEqual(auth["metadata"], {"team": "billing"})
        self.assertFalse(auth["orphan"])
        c = self.mk(auth["client_token"])
        me = c.lookup_token()["data"]
        self.assertEqual(me["display_name"], "token-ci")
        self.assertEqual(me["accessor"], auth["accessor"])
        self.assertEqual(me["meta"], {"team": "billing"})
        self.assertLessEqual(me["ttl"], 1800)
        by_token = self.root.lookup_token(auth["client_token"])["data"]
        self.assertEqual(by_token["accessor"], auth["accessor"])
        by_accessor = self.root.lookup_token(auth["accessor"], accessor=True)["data"]
        self.assertEqual(by_accessor["policies"], me["policies"])
        self.assertEqual(by_accessor["id"], "")
        self.assertEqual(self.root.auth.token.lookup_accessor(auth["accessor"])["data"]["path"],
                         "auth/token/create")

    def test_renew(self):
        name, _ = self.new_policy()
        token, _ = self.new_token([name], ttl="10m")
        c = self.mk(token)
        renewed = c.renew_self_token(increment="1h")["auth"]
        self.assertEqual(renewed["lease_duration"], 3600)
        renewed = self.root.renew_token(token, increment=600)["auth"]
        self.assertEqual(renewed["lease_duration"], 600)
        self.assertTrue(c.is_authenticated())
        stiff, _ = self.new_token([name], ttl="10m", renewable=False)
        with self.assertRaises(hvac.exceptions.InvalidRequest):
            self.mk(stiff).renew_self_token()

    def test_revoke_by_token_accessor_and_self(self):
        name, _ = self.new_policy()
        a, _ = self.new_token([name], ttl="1h")
        b, b_accessor = self.new_token([name], ttl="1h")
        c, _ = self.new_token([name], ttl="1h")
        self.root.revoke_token(a)
        self.assertFalse(self.mk(a).is_authenticated())
        self.root.revoke_token(b_accessor, accessor=True)
        self.assertFalse(self.mk(b).is_authenticated())
        with self.assertRaises(hvac.exceptions.InvalidRequest):
            self.root.lookup_token(b_accessor, accessor=True)
        self.mk(c).auth.token.revoke_self()
        self.assertFalse(self.mk(c).is_authenticated())

    def test_children_die_with_their_parent_and_orphans_survive(self):
        name, prefix = self.new_policy()
        parent, _ = self.new_token([name], ttl="1h")
        p = self.mk(parent)
        child = p.create_token(policies=[name], ttl="1h")["auth"]
        SECRETS.track(child["client_token"])
        orphan = p.create_token(policies=[name], ttl="1h", orphan=True)["auth"]
        SECRETS.track(orphan["client_token"])
        self.assertTrue(orphan["orphan"])
        # A child cannot hold a policy its parent lacks.
        with self.assertRaises(hvac.exceptions.InvalidRequest):
            p.create_token(policies=[name, "admin"], ttl="1h")
        self.root.revoke_token(parent)
        self.assertFalse(self.mk(child["client_token"]).is_authenticated())
        self.assertTrue(self.mk(orphan["client_token"]).is_authenticated())

    def test_accessor_is_not_a_token(self):
        token, accessor = self.new_token(["default"], ttl="1h")
        self.assertTrue(self.mk(token).is_authenticated())
        self.assertFalse(self.mk(accessor).is_authenticated())
        r = SRV.request("GET", "/v1/auth/token/lookup-self", token=accessor)
        self.assertEqual(r.status, 403, r)

    def test_use_limit(self):
        name, prefix = self.new_policy()
        self.root.secrets.kv.v2.create_or_update_secret("%s/one" % prefix, secret={"a": "b"})
        token, _ = self.new_token([name], ttl="1h", num_uses=2)
        kv = self.mk(token).secrets.kv.v2
        kv.read_secret_version("%s/one" % prefix)
        kv.read_secret_version("%s/one" % prefix)
        with self.assertRaises(hvac.exceptions.Forbidden):
            kv.read_secret_version("%s/one" % prefix)

    def test_list_accessors_needs_sudo(self):
        token, accessor = self.new_token(["default"], ttl="1h")
        self.assertIn(accessor, self.root.auth.token.list_accessors()["data"]["keys"])
        with self.assertRaises(hvac.exceptions.Forbidden):
            self.mk(token).auth.token.list_accessors()

    def test_capabilities_self(self):
        name, prefix = self.new_policy()
        token, _ = self.new_token([name], ttl="1h")
        r = SRV.request("POST", "/v1/sys/capabilities-self", token=token,
                        body={"paths": ["secret/data/%s/x" % prefix, "sys/policy"]})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["secret/data/%s/x" % prefix], ["create", "read", "update"])
        self.assertEqual(r.json["data"]["sys/policy"], ["deny"])


class Cli(unittest.TestCase):

    def run_cli(self, *args, token=None, stdin=None):
        env = dict(os.environ, REKEY_ADDR=SRV.url, REKEY_TOKEN=token or SRV.token)
        env.pop("VAULT_TOKEN", None)
        p = subprocess.run([harness.rekey_bin()] + list(args), env=env, input=stdin,
                           capture_output=True, text=True, timeout=30)
        return p.returncode, p.stdout, p.stderr

    def test_policy_and_token_commands(self):
        prefix = uniq("cli")
        name = uniq("clipol")
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(app_policy(prefix), f)
        self.addCleanup(os.unlink, f.name)
        rc, out, err = self.run_cli("policy", "write", name, f.name)
        self.assertEqual(rc, 0, err)
        rc, out, _ = self.run_cli("policy", "list")
        self.assertIn(name, out.split())
        rc, out, _ = self.run_cli("policy", "read", name)
        self.assertEqual(json.loads(out), app_policy(prefix))
        rc, out, err = self.run_cli("policy", "write", "hcl", "-",
                                    stdin='path "x" { capabilities = ["read"] }')
        self.assertEqual(rc, 1)
        self.assertIn("HCL is not supported", err)

        rc, token, err = self.run_cli("token", "create", "--policy", name, "--ttl", "1h",
                                      "--field", "token")
        self.assertEqual(rc, 0, err)
        token = token.strip()
        SECRETS.track(token)
        rc, out, err = self.run_cli("kv", "put", "%s/x" % prefix, "a=1", token=token)
        self.assertEqual(rc, 0, err)
        rc, out, err = self.run_cli("kv", "get", "other/x", token=token)
        self.assertEqual(rc, 1)
        self.assertIn("permission denied", err)
        rc, out, err = self.run_cli("token", "lookup", token=token)
        self.assertEqual(rc, 0, err)
        self.assertIn(name, out)
        self.assertNotIn(token, out)  # lookup never prints the token
        rc, out, err = self.run_cli("--format", "json", "token", "lookup", "-", stdin=token + "\n")
        self.assertEqual(rc, 0, err)
        accessor = json.loads(out)["data"]["accessor"]
        rc, out, err = self.run_cli("token", "renew", "--increment", "2h", token=token)
        self.assertEqual(rc, 0, err)
        self.assertIn("2h", out)
        self.assertNotIn(token, out)
        rc, out, err = self.run_cli("token", "revoke", "--accessor", accessor)
        self.assertEqual(rc, 0, err)
        rc, out, err = self.run_cli("token", "lookup", token=token)
        self.assertEqual(rc, 1)
        rc, out, err = self.run_cli("token", "revoke")
        self.assertEqual(rc, 2)  # neither a token nor --self
        rc, out, err = self.run_cli("policy", "delete", name)
        self.assertEqual(rc, 0, err)


if __name__ == "__main__":
    harness.main()
