#!/usr/bin/python3
"""CA rotation through the rotation engine (issue 5 item 2), with the `pki-ca` rotator: each run
adds a new root issuer beside the old one (the trust bundle carries both), makes it the default
at finish, and retires the previous one at revoke, after the grace period. A client that trusts
the bundle verifies every leaf issued before, during and after the rotations (openssl verify).

Run:  REKEY_BIN=build/src/app/rekey /usr/bin/python3 tests/integration/test_pki_ca_rotation.py -v
"""

import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import RekeyServer, SecretTracker  # noqa: E402

SRV = None
TRACKER = SecretTracker()


def data(method, path, body=None):
    r = SRV.request(method, path, body)
    assert r.status in (200, 204), (method, path, r.status, r.body[:300])
    return r.json.get("data") if r.body else None


def wait_run(path, n_runs, timeout=30.0):
    """Waits until `path` has n_runs finished runs; returns the newest."""
    deadline = time.time() + timeout
    while True:
        runs = SRV.request("GET", "/v1/rotation/runs/" + path).json.get("data", {}).get("runs", [])
        done = [r for r in runs if r.get("outcome")]
        if len(done) >= n_runs and runs[0].get("outcome"):
            return runs[0]
        if time.time() > deadline:
            raise AssertionError("runs of %s: %r" % (path, runs[:2]))
        time.sleep(0.2)


def verifies(cert_pem, bundle_pem):
    with tempfile.TemporaryDirectory() as d:
        open(os.path.join(d, "leaf.pem"), "w").write(cert_pem)
        open(os.path.join(d, "bundle.pem"), "w").write(bundle_pem)
        p = subprocess.run(["openssl", "verify", "-CAfile", os.path.join(d, "bundle.pem"),
                            os.path.join(d, "leaf.pem")], capture_output=True, text=True)
        return p.returncode == 0


def issue(cn):
    leaf = data("POST", "/v1/pki/issue/web", {"common_name": cn, "ttl": "1h"})
    TRACKER.track(leaf["private_key"])
    return leaf["certificate"]


def bundle():
    """The trust bundle (GET pki/ca_chain answers PEM, as Vault's does)."""
    r = SRV.request("GET", "/v1/pki/ca_chain")
    assert r.status == 200, r
    return r.body.decode()


class CaRotationTest(unittest.TestCase):
    def test_two_ca_rotations_through_the_engine(self):
        data("POST", "/v1/pki/root/generate/internal",
             {"common_name": "First Root", "key_type": "ec", "issuer_name": "first"})
        data("POST", "/v1/pki/roles/web", {"allowed_domains": "example.com",
                                            "allow_subdomains": True, "key_type": "ec",
                                            "max_ttl": "2h"})
        before = issue("a.example.com")
        data("PUT", "/v1/rotation/config/ops/ca",
             {"rotator": "pki-ca", "grace": "2s", "retry": {"max_attempts": 1},
              "params": {"common_name": "Rotated Root", "ttl": "8760h", "force_retire": True}})
        # Rotation 1: a new issuer joins the bundle and signs; the first root was not named by a
        # previous value, so it stays (an operator retires it).
        data("POST", "/v1/rotation/rotate/ops/ca", {})
        run = wait_run("ops/ca", 1)
        self.assertEqual(run["outcome"], "succeeded", run)
        default = data("GET", "/v1/pki/issuer/default")
        self.assertTrue(default["issuer_name"].startswith("ca-"), default)
        b = bundle()
        self.assertTrue(verifies(before, b), "a leaf of the old issuer fails against the bundle")
        during = issue("b.example.com")
        self.assertTrue(verifies(during, b))
        # Rotation 2: the issuer of rotation 1 is retired after the grace period.
        first_rotated = default["issuer_name"]
        data("POST", "/v1/rotation/rotate/ops/ca", {})
        run = wait_run("ops/ca", 2)
        self.assertEqual(run["outcome"], "succeeded", run)
        self.assertTrue(data("GET", "/v1/pki/issuer/" + first_rotated)["retired"])
        new_default = data("GET", "/v1/pki/issuer/default")["issuer_name"]
        self.assertNotEqual(new_default, first_rotated)
        after = issue("c.example.com")
        self.assertTrue(verifies(after, bundle()))
        self.assertFalse(verifies(during, bundle()),
                         "a leaf of the retired issuer still verifies (force_retire)")
        events = SRV.request("GET", "/v1/rotation/events?after=0").json["data"]["events"]
        self.assertIn("rotation.completed",
                      [e["type"] for e in events if e.get("path") == "ops/ca"])


def setUpModule():
    global SRV
    SRV = RekeyServer(name="pki-ca-rotation")
    SRV.start()


def tearDownModule():
    try:
        TRACKER.check(SRV, label="pki ca rotation")
    finally:
        SRV.stop()
        SRV.cleanup()


if __name__ == "__main__":
    harness.main()
