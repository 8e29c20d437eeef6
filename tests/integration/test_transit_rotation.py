#!/usr/bin/python3
"""Transit key rotation through the rotation engine (issue 6 item 2): a key's auto_rotate_period
becomes the schedule of the rotation config at secret path transit/<key> (rotator `transit`),
and a rotation run rotates the key like any other rotation: journaled, evented, in the run
history; old ciphertexts keep decrypting.

Run:  REKEY_BIN=build/src/app/rekey /usr/bin/python3 tests/integration/test_transit_rotation.py -v
"""

import base64
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import RekeyServer  # noqa: E402

import hvac  # noqa: E402

SRV = None


def client():
    return hvac.Client(url=SRV.url, token=SRV.token)


def wait_run(path, outcome="succeeded", timeout=20.0):
    deadline = time.time() + timeout
    while True:
        r = SRV.request("GET", "/v1/rotation/runs/" + path)
        runs = r.json.get("data", {}).get("runs", []) if r.status == 200 else []
        if runs and runs[0].get("outcome") == outcome:
            return runs[0]
        if time.time() > deadline:
            raise AssertionError("no %s run of %s: %r" % (outcome, path, runs[:1]))
        time.sleep(0.1)


class TransitRotationTest(unittest.TestCase):
    def test_auto_rotate_period_becomes_an_engine_schedule_and_runs_rotate_the_key(self):
        c = client()
        c.secrets.transit.create_key(name="orders")
        old = c.secrets.transit.encrypt_data(
            name="orders", plaintext=base64.b64encode(b"order-42").decode())["data"]["ciphertext"]
        # hvac 0.11.2 predates auto_rotate_period: the raw call.
        r = SRV.request("POST", "/v1/transit/keys/orders/config", {"auto_rotate_period": "24h"})
        self.assertIn(r.status, (200, 204), r)
        # The schedule sync runs at start (and every 30 s): a restart picks the period up now.
        SRV.restart()
        cfg = SRV.request("GET", "/v1/rotation/config/transit/orders")
        self.assertEqual(cfg.status, 200, cfg)
        self.assertEqual(cfg.json["data"]["rotator"], "transit")
        self.assertEqual(cfg.json["data"]["params"], {"key": "orders"})
        self.assertEqual(cfg.json["data"]["schedule"], "rate(1d)")
        # A rotation through the engine (as the scheduler would start one) rotates the key.
        r = SRV.request("POST", "/v1/rotation/rotate/transit/orders", {})
        self.assertIn(r.status, (200, 202), r)
        run = wait_run("transit/orders")
        self.assertEqual(run.get("trigger"), "manual")
        c = client()
        self.assertEqual(c.secrets.transit.read_key(name="orders")["data"]["latest_version"], 2)
        new = c.secrets.transit.encrypt_data(
            name="orders", plaintext=base64.b64encode(b"order-43").decode())["data"]["ciphertext"]
        self.assertTrue(new.startswith("vault:v2:"), new)
        plain = c.secrets.transit.decrypt_data(name="orders", ciphertext=old)["data"]["plaintext"]
        self.assertEqual(base64.b64decode(plain), b"order-42")
        events = SRV.request("GET", "/v1/rotation/events?after=0").json["data"]["events"]
        kinds = [e["type"] for e in events if e.get("path") == "transit/orders"]
        self.assertIn("rotation.completed", kinds)
        # Period 0: the schedule goes, the config stays for rotations on demand.
        r = SRV.request("POST", "/v1/transit/keys/orders/config", {"auto_rotate_period": "0"})
        self.assertIn(r.status, (200, 204), r)
        SRV.restart()
        cfg = SRV.request("GET", "/v1/rotation/config/transit/orders").json["data"]
        self.assertNotIn("schedule", cfg)

    def test_a_missing_key_fails_the_run_readably(self):
        r = SRV.request("PUT", "/v1/rotation/config/transit/ghost",
                        {"rotator": "transit", "params": {"key": "ghost"},
                         "retry": {"max_attempts": 1}})
        self.assertIn(r.status, (200, 204), r)
        SRV.request("POST", "/v1/rotation/rotate/transit/ghost", {})
        run = wait_run("transit/ghost", "failed")
        self.assertIn("ghost", run.get("error", ""))


def setUpModule():
    global SRV
    SRV = RekeyServer(name="transit-rotation")
    SRV.start()


def tearDownModule():
    SRV.stop()
    SRV.cleanup()


if __name__ == "__main__":
    harness.main()
