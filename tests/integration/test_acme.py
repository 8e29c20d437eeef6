#!/usr/bin/python3
"""End-to-end tests of rekey's `acme` rotator through the rekey server, against Debian's pebble.

scripts/services starts pebble (the ACME CA, on loopback with a test API certificate) and
pebble-challtestsrv (the DNS pebble resolves every name with: 127.0.0.1, and TXT records set
through its management API). What is checked (issue 5):
- http-01: a rotation configured through the rotation API obtains a certificate; rekey's own
  responder answers pebble on the port pebble validates on; the ACME account is registered and
  stored as a rekey secret on first use; `openssl verify` accepts the chain;
- dns-01: a hook script publishes the TXT record through challtestsrv; a wildcard certificate;
- renewal by the scheduler: a `before_expiry` schedule due seconds after the first certificate
  starts a run on its own (trigger "schedule"); the new version has a new key and serial;
- an unreachable ACME server (and one whose TLS certificate rekey does not trust) fails the run
  with a readable error and `rotation.failed`, leaving `current` where it was;
- no private key (certificate's or account's) appears in the server log, the audit file or an
  error body.

Needs pebble (scripts/install-deps test); REKEY_NO_SERVICES=1 skips it.
Run:  REKEY_BIN=build/src/app/rekey /usr/bin/python3 tests/integration/test_acme.py -v
"""

import datetime
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import RekeyServer, SecretTracker, quote_path  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RUN_TIMEOUT_S = 60.0

SRV = None
ENV = {}
TMP = None
SECRETS = SecretTracker()


def start_pebble():
    """Starts pebble with scripts/services (idempotent) and returns its env file's variables."""
    p = subprocess.run([os.path.join(ROOT, "scripts", "services"), "start", "pebble"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError("scripts/services start pebble failed (install it with "
                             "scripts/install-deps test, or set REKEY_NO_SERVICES=1 to skip):\n"
                             + p.stderr)
    env = {}
    with open(p.stdout.strip().splitlines()[-1]) as f:
        for line in f:
            if line.startswith("export ") and "=" in line:
                k, _, v = line[len("export "):].strip().partition("=")
                env[k] = v.strip("'")
    for k in ("REKEY_PEBBLE_DIRECTORY", "REKEY_PEBBLE_CA_FILE", "REKEY_PEBBLE_HTTP01_PORT",
              "REKEY_PEBBLE_ROOTS_FILE", "REKEY_CHALLTESTSRV_MGMT"):
        assert env.get(k), "%s missing from the services env file" % k
    return env


def setUpModule():
    global SRV, ENV, TMP
    if os.environ.get("REKEY_NO_SERVICES") == "1":
        raise unittest.SkipTest("REKEY_NO_SERVICES=1: skipping the tests that need pebble")
    ENV = start_pebble()
    TMP = tempfile.mkdtemp(prefix="rekey-it-acme-")
    cfg = os.path.join(TMP, "rekey.yaml")
    with open(cfg, "w") as f:
        # No jitter or spacing: a scheduled renewal starts when it is due.
        f.write("rotation:\n  max_jitter: 0s\n  min_target_spacing: 0s\n  default_grace: 0s\n")
    SRV = RekeyServer(name="acme", extra_args=["--config", cfg]).__enter__()


def tearDownModule():
    try:
        if SRV is not None:
            SECRETS.check(SRV, label="test_acme")
    finally:
        if SRV is not None:
            SRV.__exit__(None, None, None)
        if TMP is not None:
            shutil.rmtree(TMP, ignore_errors=True)


def label():
    return uuid.uuid4().hex[:12]


def api(method, path, body=None, expect=200):
    r = SRV.request(method, path, body)
    if expect is not None:
        assert r.status == expect, "%s %s -> %r" % (method, path, r)
    return r


def data(r):
    return r.json["data"]


def set_config(path, config):
    api("PUT", "/v1/rotation/config/" + quote_path(path), config, expect=204)


def rotate(path, **body):
    return data(api("POST", "/v1/rotation/rotate/" + quote_path(path), body))


def runs(path):
    return data(api("GET", "/v1/rotation/runs/" + quote_path(path)))["runs"]


def get_run(path, run_id):
    return data(api("GET", "/v1/rotation/runs/%s?run_id=%s" % (quote_path(path), run_id)))["runs"][0]


def wait_done(path, run_id, timeout=RUN_TIMEOUT_S):
    deadline = time.monotonic() + timeout
    run = None
    while time.monotonic() < deadline:
        run = get_run(path, run_id)
        if run["phase"] == "done":
            return run
        time.sleep(0.1)
    raise AssertionError("run %s of %s not done within %.0fs; last: %r" % (run_id, path, timeout, run))


def kv_get(path):
    return data(api("GET", "/v1/secret/data/" + quote_path(path)))["data"]


def kv_meta(path):
    return data(api("GET", "/v1/secret/metadata/" + quote_path(path)))


def events_after(seq):
    return data(api("GET", "/v1/rotation/events?after=%d&limit=10000" % seq))


def track_pem(pem):
    """Tracks a distinctive line of a PEM private key for the leak check."""
    lines = [l for l in pem.splitlines() if l and not l.startswith("-----")]
    assert lines, "no PEM body"
    SECRETS.track(lines[len(lines) // 2])


def openssl_verify(value):
    leaf = os.path.join(TMP, "leaf-%s.pem" % label())
    chain = os.path.join(TMP, "chain-%s.pem" % label())
    with open(leaf, "w") as f:
        f.write(value["certificate"])
    with open(chain, "w") as f:
        f.write(value["chain"])
    p = subprocess.run(["openssl", "verify", "-CAfile", ENV["REKEY_PEBBLE_ROOTS_FILE"],
                        "-untrusted", chain, leaf], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    return p.returncode, p.stdout


def rfc3339_to_unix(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http01_params(domains, account="acme/account"):
    return {"directory_url": ENV["REKEY_PEBBLE_DIRECTORY"],
            "ca_file": ENV["REKEY_PEBBLE_CA_FILE"],
            "account_secret": account, "agree_tos": True,
            "domains": domains, "challenge": "http-01",
            "http01_listen": "127.0.0.1:" + ENV["REKEY_PEBBLE_HTTP01_PORT"],
            "trust_bundle_file": ENV["REKEY_PEBBLE_ROOTS_FILE"]}


def dns01_hook():
    path = os.path.join(TMP, "dns-hook.sh")
    if not os.path.exists(path):
        mgmt = ENV["REKEY_CHALLTESTSRV_MGMT"]
        with open(path, "w") as f:
            f.write("#!/bin/sh\nset -e\n"
                    'case "$REKEY_ACME_ACTION" in\n'
                    '  present) /usr/bin/curl -sf -X POST -d "{\\"host\\":\\"$REKEY_ACME_RECORD.\\",'
                    '\\"value\\":\\"$REKEY_ACME_TXT\\"}" %s/set-txt ;;\n'
                    '  cleanup) /usr/bin/curl -sf -X POST -d "{\\"host\\":\\"$REKEY_ACME_RECORD.\\"}" '
                    '%s/clear-txt ;;\n'
                    "esac\n"
                    'echo "$REKEY_ACME_ACTION $REKEY_ACME_RECORD" >> %s/hook.log\n'
                    % (mgmt, mgmt, TMP))
        os.chmod(path, 0o700)
    return path


class AcmeRotatorTest(unittest.TestCase):

    def check_value(self, value, domains):
        for field in ("certificate", "private_key", "private_key_type", "issuing_ca", "chain",
                      "serial_number", "not_before", "not_after", "certificate_url"):
            self.assertIn(field, value)
        track_pem(value["private_key"])
        rc, out = openssl_verify(value)
        self.assertEqual(rc, 0, out)
        p = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName"],
                           input=value["certificate"], stdout=subprocess.PIPE, text=True)
        for d in domains:
            self.assertIn("DNS:" + d, p.stdout)

    def test_http01_through_the_server_creates_the_account_on_first_use(self):
        l = label()
        path = "web/http01-" + l
        domains = ["www.h%s.rekey-test.example" % l, "h%s.rekey-test.example" % l]
        account = "acme/account-" + l
        set_config(path, {"rotator": "acme", "params": http01_params(domains, account)})
        report = rotate(path, dry_run=True)
        self.assertTrue(report["ok"], report)
        self.assertEqual(api("GET", "/v1/secret/data/" + account, expect=None).status, 404)

        run = wait_done(path, rotate(path)["id"])
        self.assertEqual(run["outcome"], "succeeded", run)
        self.assertIn("order_url", run["rotator_state"])
        value = kv_get(path)
        self.check_value(value, domains)
        self.assertEqual(value["private_key_type"], "ec-p256")
        # The account was created in rekey, as a secret of its own.
        acct = kv_get(account)
        self.assertIn("BEGIN PRIVATE KEY", acct["account_key"])
        self.assertTrue(acct["account_url"].startswith(ENV["REKEY_PEBBLE_DIRECTORY"].rsplit("/", 1)[0]))
        track_pem(acct["account_key"])
        self.assertEqual(kv_meta(path)["labels"]["current"], 1)

    def test_dns01_wildcard_and_a_scheduled_renewal_with_a_new_key(self):
        l = label()
        path = "web/dns01-" + l
        base = "d%s.rekey-test.example" % l
        domains = ["*." + base, base]
        params = http01_params(domains)
        del params["http01_listen"]
        params.update({"challenge": "dns-01", "dns01_hook": [dns01_hook()], "key_type": "ec-p384"})
        set_config(path, {"rotator": "acme", "params": params})
        first_run = wait_done(path, rotate(path)["id"])
        self.assertEqual(first_run["outcome"], "succeeded", first_run)
        first = kv_get(path)
        self.check_value(first, domains)
        with open(os.path.join(TMP, "hook.log")) as f:
            self.assertIn("present _acme-challenge." + base, f.read())

        # A before_expiry schedule that falls due a few seconds from now: the scheduler renews.
        left = rfc3339_to_unix(first["not_after"]) - time.time()
        seq = events_after(0)["last_seq"]
        set_config(path, {"rotator": "acme", "params": params,
                          "schedule": "before_expiry(%ds)" % int(left - 5)})
        deadline = time.monotonic() + RUN_TIMEOUT_S
        scheduled = None
        while time.monotonic() < deadline and scheduled is None:
            done = [r for r in runs(path) if r["trigger"] == "schedule" and r["phase"] == "done"]
            scheduled = done[-1] if done else None
            time.sleep(0.2)
        # Stop further renewals (each new certificate is due again seconds later).
        api("DELETE", "/v1/rotation/config/" + quote_path(path), expect=204)
        self.assertIsNotNone(scheduled, runs(path))
        self.assertEqual(scheduled["outcome"], "succeeded", scheduled)
        second = kv_get(path)
        self.check_value(second, domains)
        self.assertNotEqual(second["private_key"], first["private_key"])
        self.assertNotEqual(second["serial_number"], first["serial_number"])
        self.assertGreater(kv_meta(path)["labels"]["current"], 1)
        types = [e["type"] for e in events_after(seq)["events"] if e.get("path") == path]
        self.assertIn("rotation.completed", types)

    def test_an_unreachable_or_untrusted_ca_fails_the_run_and_leaves_current(self):
        l = label()
        path = "web/down-" + l
        domains = ["u%s.rekey-test.example" % l]
        set_config(path, {"rotator": "acme", "params": http01_params(domains)})
        run = wait_done(path, rotate(path)["id"])
        self.assertEqual(run["outcome"], "succeeded", run)
        before = kv_get(path)
        track_pem(before["private_key"])

        port = closed_port()
        cases = [
            (dict(http01_params(domains), directory_url="https://127.0.0.1:%d/dir" % port),
             ["ACME server https://127.0.0.1:%d" % port, "fetching the ACME directory"]),
            # pebble's issuing root is not the CA of its API certificate: TLS must fail.
            (dict(http01_params(domains), ca_file=ENV["REKEY_PEBBLE_ROOTS_FILE"]),
             ["certificate verify failed"]),
        ]
        for params, expected in cases:
            seq = events_after(0)["last_seq"]
            set_config(path, {"rotator": "acme", "params": params,
                              "retry": {"max_attempts": 1}})
            run = wait_done(path, rotate(path)["id"])
            self.assertEqual(run["outcome"], "failed", run)
            for text in expected:
                self.assertIn(text, run["error"])
            self.assertNotIn("PRIVATE", run["error"])
            meta = kv_meta(path)
            self.assertEqual(meta["labels"]["current"], 1, meta)
            self.assertNotIn("pending", meta["labels"])
            self.assertEqual(kv_get(path)["serial_number"], before["serial_number"])
            evs = [e for e in events_after(seq)["events"] if e.get("run_id") == run["id"]]
            self.assertIn("rotation.failed", [e["type"] for e in evs])


if __name__ == "__main__":
    harness.main()
