#!/usr/bin/python3
"""The audit trail through a real server: devices enabled over the API, every request and
response recorded with values only as HMACs, the chain verified by `rekey audit verify`,
tampering detected, and fail-closed behaviour when the audit file cannot be written (a full
filesystem; a read-only filesystem at startup): requests get 503 and are not served, and service
resumes by itself once the fault is removed.

The fault cases need root (mount a small tmpfs, bind-mount read-only); without it they are
skipped with a message.

Run:  REKEY_BIN=build/src/app/rekey /usr/bin/python3 tests/integration/test_audit.py -v
"""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import RekeyServer, secret_value  # noqa: E402

SRV = None


def setUpModule():
    global SRV
    SRV = RekeyServer(name="audit", audit=False).__enter__()  # only its own devices


def tearDownModule():
    SRV.__exit__(None, None, None)


def uniq(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def is_root():
    return os.geteuid() == 0


def cli(*args):
    return subprocess.run([SRV.binary] + list(args), capture_output=True, text=True, timeout=60)


def lines_of(path):
    with open(path, "rb") as f:
        return [json.loads(line) for line in f.read().splitlines() if line.strip()]


class AuditTest(unittest.TestCase):

    def enable(self, name, path, **options):
        opts = {"file_path": path}
        opts.update(options)
        r = SRV.request("PUT", "/v1/sys/audit/" + name, {"type": "file", "options": opts})
        self.assertEqual(r.status, 204, r)

    def disable(self, name):
        r = SRV.request("DELETE", "/v1/sys/audit/" + name)
        self.assertEqual(r.status, 204, r)

    def device(self, name):
        r = SRV.request("GET", "/v1/sys/audit")
        self.assertEqual(r.status, 200, r)
        return r.json["data"][name + "/"]

    def test_requests_are_recorded_without_values_and_the_chain_verifies(self):
        tmp = tempfile.mkdtemp(prefix="rekey-audit-")
        log = os.path.join(tmp, "audit.log")
        name = uniq("file").lower()
        self.enable(name, log, fsync="every-batch")
        try:
            value = secret_value("audited")
            path = uniq("app/db")
            r = SRV.request("POST", "/v1/secret/data/" + path, {"data": {"password": value}})
            self.assertEqual(r.status, 200, r)
            r = SRV.request("GET", "/v1/secret/data/" + path)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(SRV.request("GET", "/v1/secret/data/" + path, token="wrong").status,
                             403)
            dev = self.device(name)
            self.assertTrue(dev["healthy"], dev)
        finally:
            self.disable(name)

        raw = open(log, "rb").read()
        for form in (value.encode(), base64.b64encode(value.encode()), value.encode().hex().encode(),
                     SRV.token.encode()):
            self.assertNotIn(form, raw, "a value or token is in the audit file")
        entries = lines_of(log)
        kinds = [(e["type"], e.get("operation"), e.get("path")) for e in entries]
        self.assertIn(("request", "update", "secret/data/" + path), kinds)
        self.assertIn(("response", "update", "secret/data/" + path), kinds)
        # A read is recorded once, with its outcome, before the response is sent.
        self.assertIn(("response", "read", "secret/data/" + path), kinds)
        self.assertNotIn(("request", "read", "secret/data/" + path), kinds)
        writes = [e for e in entries if e["type"] == "request" and e.get("operation") == "update"
                  and e.get("path") == "secret/data/" + path]
        self.assertTrue(writes[0]["data"]["data"].startswith("hmac-sha256:"), writes[0])
        denied = [e for e in entries if e["type"] == "response" and e.get("status") == 403]
        self.assertTrue(denied, "the refused request was not recorded")
        self.assertEqual(denied[0].get("error"), "permission denied")
        # The accessor is recorded only as its HMAC, which audit-hash reproduces.
        me = SRV.request("GET", "/v1/auth/token/lookup-self").json["data"]
        self.assertNotIn(me["accessor"].encode(), raw)

        # The closed log verifies, pinned to the published key; a flipped byte is found.
        r = cli("audit", "verify", "--public-key", dev["public_key"], log)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("result         OK", r.stdout)
        data = bytearray(raw)
        data[len(data) // 2] ^= 0x01
        bad = os.path.join(tmp, "tampered.log")
        with open(bad, "wb") as f:
            f.write(bytes(data))
        r = cli("audit", "verify", "--public-key", dev["public_key"], bad)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("FIRST BAD", r.stdout)
        # A truncated log (the close checkpoint cut off) is caught too.
        cut = os.path.join(tmp, "truncated.log")
        with open(cut, "wb") as f:
            f.write(b"".join(line + b"\n" for line in raw.splitlines()[:-3]))
        self.assertEqual(cli("audit", "verify", cut).returncode, 1)
        r = cli("audit", "search", log, "--path", "secret/data/" + path, "--type", "request")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("secret/data/" + path, r.stdout)
        self.assertEqual(cli("audit", "tail", "-n", "3", log).returncode, 0)
        shutil.rmtree(tmp, ignore_errors=True)

    def test_audit_hash_fingerprints_a_known_value(self):
        tmp = tempfile.mkdtemp(prefix="rekey-audit-")
        name = uniq("hash").lower()
        self.enable(name, os.path.join(tmp, "a.log"))
        try:
            r = SRV.request("POST", "/v1/sys/audit-hash/" + name, {"input": "s3cr3t"})
            self.assertEqual(r.status, 200, r)
            h = r.json["data"]["hash"]
            self.assertTrue(h.startswith("hmac-sha256:"), h)
            again = SRV.request("POST", "/v1/sys/audit-hash/" + name, {"input": "s3cr3t"})
            self.assertEqual(again.json["data"]["hash"], h)
            self.assertEqual(SRV.request("POST", "/v1/sys/audit-hash/nope",
                                         {"input": "x"}).status, 404)
        finally:
            self.disable(name)
            shutil.rmtree(tmp, ignore_errors=True)

    def test_bad_device_configs_are_refused(self):
        for body in ({"type": "syslog"}, {"type": "file"},
                     {"type": "file", "options": {"file_path": "relative.log"}},
                     {"type": "file", "options": {"file_path": "/tmp/x.log", "fsync": "maybe"}}):
            r = SRV.request("PUT", "/v1/sys/audit/bad", body)
            self.assertEqual(r.status, 400, (body, r))
        r = SRV.request("GET", "/v1/sys/audit")
        self.assertNotIn("bad/", r.json["data"])

    def check_fail_closed(self, log, break_it, repair_it):
        name = uniq("fc").lower()
        self.enable(name, log, fsync="every-batch")
        path = uniq("app/fc")
        value = secret_value("fc")
        self.assertEqual(SRV.request("POST", "/v1/secret/data/" + path,
                                     {"data": {"v": value}}).status, 200)
        try:
            break_it()
            # The file's last page may still have room for a few lines; once it has none,
            # every request fails.
            for _ in range(200):
                r = SRV.request("GET", "/v1/secret/data/" + path)
                if r.status != 200:
                    break
            self.assertEqual(r.status, 503, r)
            self.assertNotIn(value.encode(), r.body, "an unaudited request was served")
            w = SRV.request("POST", "/v1/secret/data/" + path, {"data": {"v": "unaudited"}})
            self.assertEqual(w.status, 503, w)
            repair_it()
            r = SRV.request("GET", "/v1/secret/data/" + path)
            self.assertEqual(r.status, 200, r)
            # The refused write never happened.
            self.assertEqual(r.json["data"]["data"]["v"], value)
            self.assertEqual(r.json["data"]["metadata"]["version"], 1)
        finally:
            repair_it()
            self.disable(name)
        r = cli("audit", "verify", log)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    @unittest.skipUnless(is_root(), "needs root to mount a small tmpfs")
    def test_full_filesystem_fails_closed_and_recovers(self):
        mnt = tempfile.mkdtemp(prefix="rekey-audit-full-")
        m = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mnt],
                           capture_output=True, text=True)
        if m.returncode != 0:
            os.rmdir(mnt)
            self.skipTest("cannot mount a tmpfs here (%s)" % m.stderr.strip())
        filler = os.path.join(mnt, "filler")
        try:
            def fill():
                try:
                    with open(filler, "wb") as f:
                        while True:
                            f.write(b"\0" * 4096)
                            f.flush()
                except OSError:
                    pass  # ENOSPC: full, as wanted

            def free():
                if os.path.exists(filler):
                    os.unlink(filler)
            log = os.path.join(mnt, "audit.log")
            self.check_fail_closed(log, fill, free)
        finally:
            subprocess.run(["umount", "-l", mnt])
            os.rmdir(mnt)

    @unittest.skipUnless(is_root(), "needs root to bind-mount a directory read-only")
    def test_read_only_filesystem_at_start_fails_closed_and_recovers(self):
        # A filesystem cannot turn read-only under a file open for writing (the kernel refuses
        # the remount), so the device's directory is made read-only while the server is down.
        tmp = tempfile.mkdtemp(prefix="rekey-audit-ro-")
        logdir = os.path.join(tmp, "logs")
        os.mkdir(logdir)
        log = os.path.join(logdir, "audit.log")
        name = uniq("ro").lower()
        self.enable(name, log, fsync="every-batch")
        path = uniq("app/ro")
        value = secret_value("ro")
        self.assertEqual(SRV.request("POST", "/v1/secret/data/" + path,
                                     {"data": {"v": value}}).status, 200)
        probe = subprocess.run(["mount", "--bind", logdir, logdir], capture_output=True, text=True)
        if probe.returncode != 0:
            self.disable(name)
            self.skipTest("cannot bind-mount here (%s)" % probe.stderr.strip())
        subprocess.run(["umount", logdir], check=True)
        SRV.stop()
        os.rename(log, log + ".moved")  # the device must create its file again: it cannot
        subprocess.run(["mount", "--bind", logdir, logdir], check=True)
        mounted = True
        try:
            subprocess.run(["mount", "-o", "remount,ro,bind", logdir], check=True)
            SRV.start()
            # Every request fails now, sys/audit included: nothing is served unrecorded.
            self.assertEqual(SRV.request("GET", "/v1/sys/audit").status, 503)
            r = SRV.request("GET", "/v1/secret/data/" + path)
            self.assertEqual(r.status, 503, r)
            self.assertNotIn(value.encode(), r.body)
            w = SRV.request("POST", "/v1/secret/data/" + path, {"data": {"v": "unaudited"}})
            self.assertEqual(w.status, 503, w)
            subprocess.run(["umount", logdir], check=True)
            mounted = False
            os.rename(log + ".moved", log)
            import time
            time.sleep(1.1)  # the device is retried at most once a second
            self.assertTrue(self.device(name)["healthy"])
            r = SRV.request("GET", "/v1/secret/data/" + path)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["data"]["data"]["v"], value)
            self.assertEqual(r.json["data"]["metadata"]["version"], 1, "a refused write happened")
        finally:
            if mounted:
                subprocess.run(["umount", "-l", logdir])
            if os.path.exists(log + ".moved") and not os.path.exists(log):
                os.rename(log + ".moved", log)
            if not SRV.alive():
                SRV.start()
            import time
            time.sleep(1.1)
            self.disable(name)
        self.assertEqual(cli("audit", "verify", log).returncode, 0)
        shutil.rmtree(tmp, ignore_errors=True)

    def test_devices_survive_a_restart_and_the_chain_continues(self):
        tmp = tempfile.mkdtemp(prefix="rekey-audit-")
        log = os.path.join(tmp, "audit.log")
        name = uniq("keep").lower()
        self.enable(name, log)
        key = self.device(name)["public_key"]
        self.assertEqual(SRV.request("GET", "/v1/sys/health").status, 200)
        SRV.restart()
        try:
            self.assertEqual(self.device(name)["public_key"], key)
            self.assertEqual(SRV.request("GET", "/v1/secret/data/none").status, 404)
        finally:
            self.disable(name)
        r = cli("audit", "verify", "--public-key", key, log)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        shutil.rmtree(tmp, ignore_errors=True)

    def test_rotation_events_are_audited(self):
        tmp = tempfile.mkdtemp(prefix="rekey-audit-")
        log = os.path.join(tmp, "audit.log")
        name = uniq("rot").lower()
        self.enable(name, log)
        path = uniq("app/key")
        try:
            self.assertEqual(SRV.request("POST", "/v1/secret/data/" + path,
                                         {"data": {"value": "x"}}).status, 200)
            self.assertEqual(SRV.request("PUT", "/v1/rotation/config/" + path,
                                         {"rotator": "generic", "grace": "0s"}).status, 204)
            self.assertEqual(SRV.request("POST", "/v1/rotation/rotate/" + path, {}).status, 200)
            for _ in range(100):
                events = [e for e in lines_of(log) if e["type"] == "event"]
                if any(e.get("operation") == "rotation.completed" for e in events):
                    break
                import time
                time.sleep(0.05)
            ops = [e.get("operation") for e in events if e.get("path") == path]
            self.assertIn("rotation.started", ops)
            self.assertIn("rotation.completed", ops)
        finally:
            self.disable(name)
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    harness.main()
