#!/usr/bin/python3
"""`rekey transit rewrap` against a harness server.

2,500 ciphertexts made over four key versions are rewrapped in parallel batches (-o FILE and
stdin/stdout); every output line must decrypt (over HTTP) to its line's plaintext at the latest
version, in order; a tampered line is reported with its number, left unchanged, and makes the
exit code 1; blank and comment lines pass through; no plaintext ever appears (raw or base64) in
the CLI's stdout, stderr or output file. Also: --advance-min-decryption-version (refused after a
failed line; on a clean run it raises min_decryption_version and old ciphertexts then fail with
Vault's "too old" error), an unknown key, a token without update on transit/rewrap/<key>, empty
input, and the progress display.

Run:  REKEY_BIN=build/src/app/rekey /usr/bin/python3 tests/integration/test_transit_rewrap_cli.py -v
"""

import base64
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import RekeyServer, SecretTracker, rekey_bin  # noqa: E402

BIN = None
SRV = None
SECRETS = SecretTracker()
CLI_TIMEOUT_S = 60
TOO_OLD = "ciphertext or signature version is disallowed by policy (too old)"
GENERIC = "cipher: message authentication failed"


def setUpModule():
    global BIN, SRV
    BIN = rekey_bin()
    SRV = RekeyServer(name="rewrap-cli").__enter__()


def tearDownModule():
    try:
        SECRETS.check(SRV, label="test_transit_rewrap_cli")
    finally:
        SRV.__exit__(None, None, None)


def uniq(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def b64(text):
    return base64.b64encode(text.encode()).decode()


def run_cli(args, token=None, stdin_data=None, text=True):
    """Runs `rekey ARGS` against SRV; text=False keeps stdout/stderr as bytes (with their \r)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REKEY_", "VAULT_"))}
    env.update(REKEY_ADDR=SRV.url, REKEY_TOKEN=token or SRV.token)
    data = stdin_data if stdin_data is not None else ""
    return subprocess.run([BIN] + list(args), env=env, capture_output=True, text=text,
                          input=data if text else data.encode(), timeout=CLI_TIMEOUT_S)


def api(method, path, body=None, token="__default__", ok=(200, 204)):
    r = SRV.request(method, path, body, token=token)
    if ok and r.status not in ok:
        raise AssertionError("%s %s -> %r" % (method, path, r))
    return r


def encrypt_batch(key, plaintexts):
    r = api("POST", "/v1/transit/encrypt/%s" % key,
            {"batch_input": [{"plaintext": b64(p)} for p in plaintexts]})
    return [item["ciphertext"] for item in r.json["data"]["batch_results"]]


def decrypt_all(key, ciphertexts):
    """Plaintexts (str) of `ciphertexts`, in order; asserts every one decrypts."""
    out = []
    for i in range(0, len(ciphertexts), 1000):
        chunk = ciphertexts[i:i + 1000]
        r = api("POST", "/v1/transit/decrypt/%s" % key,
                {"batch_input": [{"ciphertext": c} for c in chunk]})
        for item in r.json["data"]["batch_results"]:
            out.append(base64.b64decode(item["plaintext"]).decode())
    return out


def key_info(key):
    return api("GET", "/v1/transit/keys/%s" % key).json["data"]


def make_key(versions, per_version):
    """A new key with `versions` versions and `per_version` ciphertexts made under each; returns
    (name, plaintexts, ciphertexts) in creation order."""
    key = uniq("rw")
    api("POST", "/v1/transit/keys/%s" % key, {})
    plaintexts, ciphertexts = [], []
    for v in range(1, versions + 1):
        if v > 1:
            api("POST", "/v1/transit/keys/%s/rotate" % key)
        batch = ["pt-%s" % uuid.uuid4().hex for _ in range(per_version)]
        cts = encrypt_batch(key, batch)
        assert all(c.startswith("vault:v%d:" % v) for c in cts), cts[:2]
        plaintexts += batch
        ciphertexts += cts
    for p in plaintexts[::250]:
        SECRETS.track(p)
    return key, plaintexts, ciphertexts


def tamper(ciphertext):
    head, payload = ciphertext.rsplit(":", 1)
    c = payload[10]
    return "%s:%s%s%s" % (head, payload[:10], "A" if c != "A" else "B", payload[11:])


class RewrapCli(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="rekey-rewrap-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, lines):
        with open(self.path(name), "w") as f:
            f.write("".join(line + "\n" for line in lines))
        return self.path(name)

    def assert_no_plaintext(self, plaintexts, *texts):
        blob = "\n".join(texts)
        for p in plaintexts:
            for form in (p, b64(p), b64(p).rstrip("=")):
                self.assertNotIn(form, blob)

    def assert_no_temp_files(self):
        self.assertEqual([n for n in os.listdir(self.dir) if ".rekey-tmp-" in n], [])

    def test_file_with_tampered_and_blank_lines(self):
        key, plaintexts, ciphertexts = make_key(versions=4, per_version=625)
        lines = ["# ciphertexts of %s" % key]
        expected = [None]  # plaintext per line; None: not a ciphertext
        tampered_line = blank_line = None
        for i, (p, c) in enumerate(zip(plaintexts, ciphertexts)):
            if i == 1000:
                lines.append("")
                expected.append(None)
                blank_line = len(lines)
            if i == 1500:
                lines.append(tamper(ciphertexts[7]))
                expected.append(None)
                tampered_line = len(lines)
            lines.append(c)
            expected.append(p)
        src = self.write("in.txt", lines)
        out = self.path("out.txt")

        r = run_cli(["transit", "rewrap", key, src, "-o", out, "--parallel", "4",
                     "--batch-size", "100"])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("line %d: %s" % (tampered_line, GENERIC), r.stderr)
        self.assertEqual(r.stderr.count("line "), 1, r.stderr)
        self.assertIn("2501 ciphertexts: 2500 rewrapped to version 4 (625 were at it already), "
                      "1 failed (left unchanged); 2 blank or comment lines", r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertEqual(stat.S_IMODE(os.stat(out).st_mode), 0o600)
        self.assert_no_temp_files()

        with open(out) as f:
            got = f.read()
        self.assert_no_plaintext(plaintexts, got, r.stdout, r.stderr)
        got_lines = got.split("\n")
        self.assertEqual(got_lines[-1], "")
        got_lines = got_lines[:-1]
        self.assertEqual(len(got_lines), len(lines))
        self.assertEqual(got_lines[0], lines[0])
        self.assertEqual(got_lines[blank_line - 1], "")
        self.assertEqual(got_lines[tampered_line - 1], lines[tampered_line - 1])
        rewrapped = [(g, p) for g, p in zip(got_lines, expected) if p is not None]
        self.assertEqual(len(rewrapped), 2500)
        self.assertTrue(all(g.startswith("vault:v4:") for g, _ in rewrapped))
        # Old ciphertexts (versions 1-3) got new text; the decryptions come back in order.
        self.assertEqual(decrypt_all(key, [g for g, _ in rewrapped]), [p for _, p in rewrapped])
        self.assertEqual(len(set(g for g, _ in rewrapped) & set(ciphertexts)), 0)

    def test_stdin_to_stdout(self):
        key, plaintexts, ciphertexts = make_key(versions=3, per_version=100)
        r = run_cli(["transit", "rewrap", key, "--batch-size", "7", "--parallel", "3"],
                    stdin_data="".join(c + "\n" for c in ciphertexts))
        self.assertEqual(r.returncode, 0, r.stderr)
        got = r.stdout.splitlines()
        self.assertEqual(len(got), 300)
        self.assertTrue(all(g.startswith("vault:v3:") for g in got))
        self.assertEqual(decrypt_all(key, got), plaintexts)
        self.assertIn("300 ciphertexts: 300 rewrapped to version 3", r.stderr)
        self.assert_no_plaintext(plaintexts, r.stdout, r.stderr)
        # "-" is stdin too; --progress never prints only the summary line.
        r = run_cli(["transit", "rewrap", key, "-", "--progress", "never"],
                    stdin_data=ciphertexts[0] + "\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)

    def test_derived_key_contexts_and_key_version(self):
        key = uniq("rw-derived")
        api("POST", "/v1/transit/keys/%s" % key, {"derived": True})
        ctx_a, ctx_b = b64("tenant-a"), b64("tenant-b")
        pts_a = ["pt-%s" % uuid.uuid4().hex for _ in range(30)]
        pts_b = ["pt-%s" % uuid.uuid4().hex for _ in range(30)]

        def enc(pts, ctx):
            r = api("POST", "/v1/transit/encrypt/%s" % key,
                    {"batch_input": [{"plaintext": b64(p), "context": ctx} for p in pts]})
            return [item["ciphertext"] for item in r.json["data"]["batch_results"]]

        cts_a = enc(pts_a, ctx_a)
        cts_b = enc(pts_b, ctx_b)
        api("POST", "/v1/transit/keys/%s/rotate" % key)
        api("POST", "/v1/transit/keys/%s/rotate" % key)
        # Lines of tenant a use --context; lines of tenant b carry theirs after a TAB.
        lines = []
        for a, b in zip(cts_a, cts_b):
            lines += [a, "%s\t%s" % (b, ctx_b)]
        r = run_cli(["transit", "rewrap", key, "--context", ctx_a, "--key-version", "2",
                     "--batch-size", "8"], stdin_data="".join(l + "\n" for l in lines))
        self.assertEqual(r.returncode, 0, r.stderr)
        got = r.stdout.splitlines()
        self.assertEqual(len(got), 60)
        new_a = got[0::2]
        new_b = []
        for line in got[1::2]:
            ct, ctx = line.split("\t")
            self.assertEqual(ctx, ctx_b)
            new_b.append(ct)
        self.assertTrue(all(c.startswith("vault:v2:") for c in new_a + new_b))
        self.assert_no_plaintext(pts_a + pts_b, r.stdout, r.stderr)
        for cts, pts, ctx in ((new_a, pts_a, ctx_a), (new_b, pts_b, ctx_b)):
            d = api("POST", "/v1/transit/decrypt/%s" % key,
                    {"batch_input": [{"ciphertext": c, "context": ctx} for c in cts]})
            self.assertEqual([base64.b64decode(i["plaintext"]).decode()
                              for i in d.json["data"]["batch_results"]], pts)
        # Without a context every line fails, and is kept.
        r = run_cli(["transit", "rewrap", key], stdin_data=cts_a[0] + "\n")
        self.assertEqual(r.returncode, 1)
        self.assertIn("line 1: missing 'context'", r.stderr)
        self.assertEqual(r.stdout, cts_a[0] + "\n")

    def test_advance_min_decryption_version(self):
        key, plaintexts, ciphertexts = make_key(versions=3, per_version=50)
        # A failed line: nothing is advanced.
        src = self.write("bad.txt", ciphertexts + [tamper(ciphertexts[0])])
        r = run_cli(["transit", "rewrap", key, src, "-o", self.path("bad.out"),
                     "--advance-min-decryption-version"])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("min_decryption_version not advanced: 1 line failed", r.stderr)
        self.assertEqual(key_info(key)["min_decryption_version"], 1)

        src = self.write("in.txt", ciphertexts)
        out = self.path("out.txt")
        r = run_cli(["transit", "rewrap", key, src, "-o", out, "--advance-min-decryption-version"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("min_decryption_version of key %s: 1 -> 3" % key, r.stderr)
        info = key_info(key)
        self.assertEqual(info["min_decryption_version"], 3)
        self.assertEqual(info["latest_version"], 3)
        with open(out) as f:
            got = f.read().splitlines()
        self.assertEqual(decrypt_all(key, got), plaintexts)
        # The old ciphertexts are now refused with Vault's error; the new ones still work.
        r = api("POST", "/v1/transit/decrypt/%s" % key, {"ciphertext": ciphertexts[0]}, ok=None)
        self.assertEqual(r.status, 400)
        self.assertIn(TOO_OLD, r.json["errors"][0])
        # Rewrapping them now fails per line with the same error; the output keeps them.
        r = run_cli(["transit", "rewrap", key], stdin_data=ciphertexts[0] + "\n")
        self.assertEqual(r.returncode, 1)
        self.assertIn("line 1: %s" % TOO_OLD, r.stderr)
        self.assertEqual(r.stdout, ciphertexts[0] + "\n")
        # A second advance finds nothing to do.
        r = run_cli(["transit", "rewrap", key, out, "--advance-min-decryption-version"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("min_decryption_version not advanced: it is 3 already", r.stderr)

    def test_unknown_key(self):
        src = self.write("in.txt", ["vault:v1:" + b64("x" * 40)])
        out = self.path("out.txt")
        r = run_cli(["transit", "rewrap", uniq("missing"), src, "-o", out])
        self.assertEqual(r.returncode, 1)
        self.assertIn("encryption key not found", r.stderr)
        self.assertIn("was not written", r.stderr)
        self.assertFalse(os.path.exists(out))
        self.assert_no_temp_files()

    def test_token_without_update_on_the_rewrap_path(self):
        key, plaintexts, ciphertexts = make_key(versions=2, per_version=20)
        policy = uniq("rw-pol")
        rules = {"path": {
            "transit/keys/%s" % key: {"capabilities": ["read"]},
            "transit/decrypt/%s" % key: {"capabilities": ["update"]},
            "transit/rewrap/other-key": {"capabilities": ["update"]},
        }}
        api("PUT", "/v1/sys/policies/acl/%s" % policy, {"policy": json.dumps(rules)})
        token = api("POST", "/v1/auth/token/create", {"policies": [policy]}).json["auth"]
        SECRETS.track(token["client_token"])
        src = self.write("in.txt", ciphertexts)
        out = self.path("out.txt")
        r = run_cli(["transit", "rewrap", key, src, "-o", out], token=token["client_token"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("permission denied", r.stderr)
        self.assertIn("HTTP 403", r.stderr)
        self.assertFalse(os.path.exists(out))
        self.assert_no_temp_files()
        self.assert_no_plaintext(plaintexts, r.stdout, r.stderr)

    def test_empty_input_and_usage_errors(self):
        key, _, _ = make_key(versions=1, per_version=1)
        out = self.path("out.txt")
        r = run_cli(["transit", "rewrap", key, self.write("empty.txt", []), "-o", out])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("0 ciphertexts", r.stderr)
        self.assertEqual(os.path.getsize(out), 0)
        r = run_cli(["transit", "rewrap", key, self.path("nope.txt")])
        self.assertEqual(r.returncode, 2)
        self.assertIn("cannot read", r.stderr)
        r = run_cli(["transit", "rewrap", key, "--batch-size", "0"])
        self.assertEqual(r.returncode, 2)
        r = run_cli(["transit", "rewrap", key, "--context", "not base64!"])
        self.assertEqual(r.returncode, 2)

    def test_progress_always(self):
        key, plaintexts, ciphertexts = make_key(versions=2, per_version=100)
        src = self.write("in.txt", ciphertexts)
        r = run_cli(["transit", "rewrap", key, src, "-o", self.path("out.txt"),
                     "--progress", "always", "--batch-size", "10"], text=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"\r[########################################] 200/200  100%", r.stderr)
        self.assertIn(b"200 ciphertexts: 200 rewrapped to version 2", r.stderr)


if __name__ == "__main__":
    harness.main()
