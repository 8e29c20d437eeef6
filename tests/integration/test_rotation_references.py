#!/usr/bin/python3
"""Writing a rotation config is not a way around policies: what a config lets rotations use
(another secret it reads, a transit key or JWT keyset it changes, the CA, running commands) must
be within the caller's own rights (RotationEngine::ReferencesOf, api/rotation/config_references).

Run:  REKEY_BIN=build/src/app/rekey /usr/bin/python3 tests/integration/test_rotation_references.py -v
"""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import RekeyServer  # noqa: E402

SRV = None


def token_with(name, paths):
    r = SRV.request("PUT", "/v1/sys/policies/acl/" + name, {"policy": json.dumps({"path": paths})})
    assert r.status == 204, r
    r = SRV.request("POST", "/v1/auth/token/create", {"policies": [name]})
    assert r.status == 200, r
    return r.json["auth"]["client_token"]


PG = {"rotator": "postgres", "params": {"host": "127.0.0.1", "username": "app",
                                        "admin_secret": "ops/pg-admin"}}


class ReferencesTest(unittest.TestCase):
    def test_a_config_may_only_reach_what_its_author_may(self):
        base = {"rotation/config/app/*": {"capabilities": ["update", "read"]}}
        tok = token_with("cfg-only", base)
        r = SRV.request("PUT", "/v1/rotation/config/app/db", PG, token=tok)
        self.assertEqual(r.status, 403, r)
        self.assertIn("params.admin_secret needs read on secret/data/ops/pg-admin",
                      r.json["errors"][0])
        self.assertEqual(SRV.request("GET", "/v1/rotation/config/app/db").status, 404,
                         "a refused config was stored")
        r = SRV.request("PUT", "/v1/rotation/config/app/cmd",
                        {"rotator": "exec", "params": {"command": ["/bin/true"]}}, token=tok)
        self.assertEqual(r.status, 403, r)
        self.assertIn("sudo on sys/rotators/run-commands", r.json["errors"][0])
        r = SRV.request("PUT", "/v1/rotation/config/app/ca",
                        {"rotator": "pki-ca", "params": {"common_name": "Evil Root"}}, token=tok)
        self.assertEqual(r.status, 403, r)
        r = SRV.request("PUT", "/v1/rotation/config/app/tk",
                        {"rotator": "transit", "params": {"key": "payments"}}, token=tok)
        self.assertEqual(r.status, 403, r)
        self.assertIn("update on transit/keys/payments/rotate", r.json["errors"][0])
        r = SRV.request("PUT", "/v1/rotation/config/app/hook",
                        {"rotator": "generic", "notify": [{"url": "https://hooks.example/x",
                                                           "signing_secret": "ops/hmac"}]},
                        token=tok)
        self.assertEqual(r.status, 403, r)
        # Nothing referenced: allowed.
        r = SRV.request("PUT", "/v1/rotation/config/app/key", {"rotator": "generic"}, token=tok)
        self.assertEqual(r.status, 204, r)
        # With read on the admin secret, the postgres config is accepted.
        tok2 = token_with("cfg-and-admin", dict(base, **{
            "secret/data/ops/pg-admin": {"capabilities": ["read"]}}))
        r = SRV.request("PUT", "/v1/rotation/config/app/db", PG, token=tok2)
        self.assertEqual(r.status, 204, r)
        # Root may do anything.
        r = SRV.request("PUT", "/v1/rotation/config/app/cmd",
                        {"rotator": "exec", "params": {"command": ["/bin/true"]}})
        self.assertEqual(r.status, 204, r)


def setUpModule():
    global SRV
    SRV = RekeyServer(name="rotation-references")
    SRV.start()


def tearDownModule():
    SRV.stop()
    SRV.cleanup()


if __name__ == "__main__":
    harness.main()
