#!/usr/bin/python3
"""End-to-end tests of rekey's internal CA (/v1/pki/, docs/api/pki.md) and the `pki` rotator
(docs/rotators/pki.md), through HTTP and the CLI, checked with Debian's /usr/bin/openssl and
Python's ssl module.

What is checked (issue 5):
- a root and an intermediate signed by it (generate CSR, sign-intermediate, set-signed), the
  intermediate made the default issuer; the trust bundle and CA certificate are public;
- a role per key type (ec-p256, ec-p384, rsa-2048, rsa-3072, ed25519); issue for each: the key
  matches the certificate, is of the right type, the SANs are the requested ones, `openssl verify`
  accepts the chain with only the root trusted, and a TLS handshake succeeds;
- a CSR made by `openssl req` is signed for its own key; names outside the role are refused;
- a revoked serial is in the CRL (DER and PEM, `openssl crl -text`), the CRL verifies against its
  issuer, and `openssl verify -crl_check` rejects the revoked leaf;
- a CA imported through config/ca (pem_bundle with its private key);
- the CLI: role write, issue --out (key file 0600), revoke, ca, crl;
- the `pki` rotator: manual rotations and one started by a `before_expiry` schedule on a
  1-minute certificate; every rotation has a new key, verifies with openssl and completes a TLS
  handshake with a client trusting ca_chain;
- a CA rotation: a new root added beside the old issuers, made default, the secret rotated onto
  it while certificates of the old issuer still verify with the same bundle; the old issuers
  retired (refused while their leaves are valid, then forced); clients that re-read ca_chain
  never fail a handshake with the current certificate;
- no private key (issued, rotated, exported or imported) appears in the server log, the audit
  file or an error body (harness.SecretTracker).

Run:  REKEY_BIN=build/src/app/rekey /usr/bin/python3 tests/integration/test_pki.py -v
"""

import json
import os
import re
import shutil
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import RekeyServer, SecretTracker, quote_path  # noqa: E402

OPENSSL = "/usr/bin/openssl"
RUN_TIMEOUT_S = 30.0
DOMAIN = "example.test"
KEY_TYPES = [  # role name, key_type, key_bits, openssl's algorithm text, Vault's private_key_type
    ("ec256", "ec", 256, "id-ecPublicKey", "ec"),
    ("ec384", "ec", 384, "id-ecPublicKey", "ec"),
    ("rsa2048", "rsa", 2048, "rsaEncryption", "rsa"),
    ("rsa3072", "rsa", 3072, "rsaEncryption", "rsa"),
    ("ed25519", "ed25519", 0, "ED25519", "ed25519"),
]

SRV = None
TMP = None
SECRETS = SecretTracker()
STATE = {}  # what earlier tests made: issuer ids, the root PEM, ...


def setUpModule():
    global SRV, TMP
    TMP = tempfile.mkdtemp(prefix="rekey-it-pki-")
    cfg = os.path.join(TMP, "rekey.yaml")
    with open(cfg, "w") as f:
        # Scheduled rotations start on time (no jitter, no per-target spacing).
        f.write("rotation:\n  max_jitter: 0s\n  min_target_spacing: 0s\n")
    SRV = RekeyServer(name="pki", extra_args=["--config", cfg]).__enter__()


def tearDownModule():
    try:
        if SRV is not None:
            SRV.__exit__(None, None, None)
    finally:
        if TMP and not harness.keep_tmp():
            shutil.rmtree(TMP, ignore_errors=True)


# ---- helpers ---------------------------------------------------------------------------------

def api(method, path, body=None, want=200, token="__default__"):
    r = SRV.request(method, path, body=body, token=token, timeout=60.0)
    if want is not None and r.status != want:
        raise AssertionError("%s %s: want %d, got %r" % (method, path, want, r))
    return r


def data(method, path, body=None, want=200):
    return api(method, path, body, want).json["data"]


def track_key(pem):
    """Tracks a private key PEM: its base64 body lines (each distinctive) and the whole text."""
    lines = [l for l in pem.splitlines() if l and not l.startswith("-----")]
    assert lines, "no key material in %r" % pem[:40]
    for line in lines:
        if len(line) >= 16:
            SECRETS.track(line)
    SECRETS.track("".join(lines))
    return pem


def tmpfile(name, text):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def openssl(*args, stdin=None, check=True):
    p = subprocess.run([OPENSSL] + list(args), input=stdin, capture_output=True, text=True,
                       timeout=60)
    if check and p.returncode != 0:
        raise AssertionError("openssl %s: exit %d\n%s%s"
                             % (" ".join(args), p.returncode, p.stdout, p.stderr))
    return p


def pubkey_of_cert(cert_pem):
    return openssl("x509", "-noout", "-pubkey", stdin=cert_pem).stdout


def pubkey_of_key(key_pem):
    return openssl("pkey", "-pubout", stdin=key_pem).stdout


def cert_text(cert_pem):
    return openssl("x509", "-noout", "-text", stdin=cert_pem).stdout


def sans_of(cert_pem):
    out = openssl("x509", "-noout", "-ext", "subjectAltName", stdin=cert_pem).stdout
    return sorted(re.findall(r"(?:DNS|IP Address):([^\s,]+)", out))


def serial_hex(serial):
    """"4f:0a:..." -> "4F0A..." (openssl's CRL listing)."""
    return serial.replace(":", "").replace("-", "").upper()


def verify_chain(cert_pem, chain_pems, root_pem, label, crl_pem=None):
    """`openssl verify` with only `root_pem` trusted and `chain_pems` as intermediates."""
    leaf = tmpfile("verify-leaf.pem", cert_pem)
    root = tmpfile("verify-root.pem", root_pem)
    args = ["verify", "-CAfile", root]
    inters = [p for p in chain_pems if p.strip() != root_pem.strip()]
    if inters:
        args += ["-untrusted", tmpfile("verify-inter.pem", "\n".join(inters) + "\n")]
    if crl_pem is not None:
        args += ["-crl_check", "-CRLfile", tmpfile("verify-crl.pem", crl_pem)]
    args.append(leaf)
    p = openssl(*args, check=False)
    return p.returncode == 0 and leaf + ": OK" in p.stdout, label + ": " + p.stdout + p.stderr


def roots_in(bundle_pem):
    """The self-signed certificates of a PEM bundle."""
    out = []
    for block in re.findall(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----",
                            bundle_pem, re.S):
        t = openssl("x509", "-noout", "-subject", "-issuer", "-nameopt", "RFC2253",
                    stdin=block + "\n").stdout.splitlines()
        subject = t[0].split("=", 1)[1]
        issuer = t[1].split("=", 1)[1]
        if subject == issuer:
            out.append(block + "\n")
    return out


def tls_handshake(cert_pem, key_pem, chain_pem, trust_pem, server_name):
    """A real TLS handshake on loopback: a server with the pair (and its chain), a client that
    trusts only `trust_pem` and checks `server_name`. Returns None or the error text."""
    certfile = tmpfile("tls-cert.pem", cert_pem.strip() + "\n" + chain_pem)
    keyfile = os.path.join(TMP, "tls-key.pem")
    fd = os.open(keyfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key_pem)
    try:
        sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        sctx.load_cert_chain(certfile, keyfile)
    finally:
        os.unlink(keyfile)
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.load_verify_locations(cadata=trust_pem)
    cctx.check_hostname = True
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    lsock.settimeout(10)
    server_error = []

    def serve():
        try:
            conn, _ = lsock.accept()
            with sctx.wrap_socket(conn, server_side=True) as s:
                s.sendall(b"ok")
        except Exception as e:  # noqa: BLE001 - reported to the client side
            server_error.append(repr(e))

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        with socket.create_connection(lsock.getsockname(), timeout=10) as raw:
            with cctx.wrap_socket(raw, server_hostname=server_name) as c:
                got = c.recv(2)
        t.join(10)
        if got != b"ok":
            return "no answer after the handshake (%r) %s" % (got, server_error)
        return None
    except (ssl.SSLError, OSError) as e:
        t.join(10)
        return "%r (server: %s)" % (e, server_error)
    finally:
        lsock.close()


def trust_bundle():
    r = api("GET", "/v1/pki/ca_chain", token=None)
    return r.body.decode()


def rotate(path):
    run = data("POST", "/v1/rotation/rotate/" + quote_path(path), {})
    return wait_run(path, run["id"])


def wait_run(path, run_id, timeout=RUN_TIMEOUT_S):
    deadline = time.monotonic() + timeout
    while True:
        r = api("GET", "/v1/rotation/runs/%s?run_id=%s" % (quote_path(path), run_id))
        run = r.json["data"]["runs"][0]
        if run["outcome"] is not None:
            if run["outcome"] != "succeeded":
                raise AssertionError("run %s of %s: %s" % (run_id, path, json.dumps(run)[:3000]))
            return run
        if time.monotonic() > deadline:
            raise AssertionError("run %s of %s still %s after %.0fs"
                                 % (run_id, path, run["phase"], timeout))
        time.sleep(0.1)


def current_value(path):
    return api("GET", "/v1/secret/data/" + quote_path(path)).json["data"]["data"]


def rk(*args, check=True):
    env = dict(os.environ, REKEY_ADDR=SRV.url, REKEY_TOKEN=SRV.token)
    p = subprocess.run([SRV.binary] + list(args), capture_output=True, text=True, env=env,
                       timeout=60)
    if check and p.returncode != 0:
        raise AssertionError("rekey %s: exit %d\nstdout: %s\nstderr: %s"
                             % (" ".join(args), p.returncode, p.stdout[-2000:], p.stderr[-2000:]))
    return p


# ---- tests (in name order: each builds on the previous ones) ----------------------------------

class PkiTest(unittest.TestCase):

    def test_01_root_and_intermediate(self):
        # No CA yet: a clear error, no token needed to learn it.
        self.assertEqual(api("GET", "/v1/pki/ca/pem", want=None, token=None).status, 400)
        root = data("POST", "/v1/pki/root/generate/internal",
                    {"common_name": "rekey IT Root", "key_type": "ec", "key_bits": 384,
                     "issuer_name": "root-1", "ttl": "87600h"})
        self.assertNotIn("private_key", root)
        STATE["root_pem"] = root["certificate"] + "\n"
        STATE["root_id"] = root["issuer_id"]
        self.assertIn("Signature Algorithm: ecdsa-with-SHA384", cert_text(root["certificate"]))

        csr = data("POST", "/v1/pki/intermediate/generate/internal",
                   {"common_name": "rekey IT Intermediate", "key_type": "rsa"})
        self.assertNotIn("private_key", csr)
        openssl("req", "-noout", "-verify", stdin=csr["csr"])
        signed = data("POST", "/v1/pki/root/sign-intermediate",
                      {"csr": csr["csr"], "ttl": "43800h", "issuer_ref": "root-1"})
        self.assertIn("CA:TRUE", cert_text(signed["certificate"]))
        ok, why = verify_chain(signed["certificate"], [], STATE["root_pem"], "intermediate")
        self.assertTrue(ok, why)
        inter = data("POST", "/v1/pki/intermediate/set-signed",
                     {"certificate": signed["certificate"], "issuer_name": "int-1"})
        STATE["int_id"] = inter["imported_issuers"][0]
        STATE["int_pem"] = signed["certificate"] + "\n"

        # The intermediate signs from now on.
        self.assertEqual(data("POST", "/v1/pki/config/issuers", {"default": "int-1"})["default"],
                         STATE["int_id"])
        listed = api("LIST", "/v1/pki/issuers").json["data"]
        self.assertEqual(sorted(listed["keys"]), sorted([STATE["root_id"], STATE["int_id"]]))
        self.assertTrue(listed["key_info"][STATE["int_id"]]["is_default"])
        # Public: the CA certificate (PEM, DER) and the trust bundle.
        pem = api("GET", "/v1/pki/ca/pem", token=None)
        self.assertEqual(pem.header("content-type"), "application/pem-file")
        self.assertEqual(pem.body.decode().strip(), signed["certificate"].strip())
        der = api("GET", "/v1/pki/ca", token=None)
        self.assertEqual(der.header("content-type"), "application/pkix-cert")
        der_path = os.path.join(TMP, "ca.der")
        with open(der_path, "wb") as f:
            f.write(der.body)
        self.assertEqual(openssl("x509", "-inform", "DER", "-in", der_path).stdout.strip(),
                         signed["certificate"].strip())
        bundle = trust_bundle()
        self.assertIn(signed["certificate"].strip(), bundle)
        self.assertIn(root["certificate"].strip(), bundle)
        # Authenticated routes are not public.
        self.assertEqual(api("LIST", "/v1/pki/issuers", want=None, token=None).status, 403)

    def test_02_issue_every_key_type(self):
        bundle = trust_bundle()
        for name, key_type, bits, algo, vault_type in KEY_TYPES:
            with self.subTest(key_type=name):
                role = {"allowed_domains": [DOMAIN], "allow_subdomains": True,
                        "key_type": key_type, "max_ttl": "720h"}
                if bits:
                    role["key_bits"] = bits
                data("POST", "/v1/pki/roles/" + name, role)
                issued = data("POST", "/v1/pki/issue/" + name,
                              {"common_name": "svc.%s" % DOMAIN,
                               "alt_names": "alt.%s" % DOMAIN, "ip_sans": "127.0.0.1",
                               "ttl": "24h"})
                key = track_key(issued["private_key"])
                self.assertEqual(issued["private_key_type"], vault_type)
                cert = issued["certificate"]
                self.assertIn("Public Key Algorithm: " + algo, cert_text(cert))
                if bits:
                    self.assertIn("(%d bit" % bits, cert_text(cert))
                self.assertEqual(pubkey_of_cert(cert), pubkey_of_key(key))
                self.assertEqual(sans_of(cert), sorted(["svc." + DOMAIN, "alt." + DOMAIN,
                                                        "127.0.0.1"]))
                self.assertEqual(issued["issuing_ca"].strip(), STATE["int_pem"].strip())
                ok, why = verify_chain(cert, issued["ca_chain"], STATE["root_pem"], name)
                self.assertTrue(ok, why)
                self.assertLessEqual(abs(issued["expiration"] - (time.time() + 24 * 3600)), 120)
                err = tls_handshake(cert, key, "\n".join(issued["ca_chain"]) + "\n", bundle,
                                    "alt." + DOMAIN)
                self.assertIsNone(err, name)
        # Names outside the role are refused, each named.
        r = api("POST", "/v1/pki/issue/ec256",
                {"common_name": "db.evil.test", "alt_names": "x.other.test"}, want=400)
        self.assertIn("db.evil.test", r.json["errors"][0])
        self.assertIn("x.other.test", r.json["errors"][0])

    def test_03_sign_csr_from_openssl(self):
        key = os.path.join(TMP, "csr.key")
        csr = os.path.join(TMP, "req.csr")
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", key, "-subj", "/CN=csr.%s" % DOMAIN,
                "-addext", "subjectAltName=DNS:csr.%s,DNS:csr2.%s" % (DOMAIN, DOMAIN),
                "-out", csr)
        with open(key) as f:
            key_pem = track_key(f.read())
        with open(csr) as f:
            csr_pem = f.read()
        signed = data("POST", "/v1/pki/sign/ec256", {"csr": csr_pem, "ttl": "1h"})
        self.assertNotIn("private_key", signed)
        self.assertEqual(pubkey_of_cert(signed["certificate"]), pubkey_of_key(key_pem))
        self.assertEqual(sans_of(signed["certificate"]), ["csr.%s" % DOMAIN, "csr2.%s" % DOMAIN])
        ok, why = verify_chain(signed["certificate"], signed["ca_chain"], STATE["root_pem"], "csr")
        self.assertTrue(ok, why)
        # A CSR of another key type than the role's is refused.
        rsa_csr = openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout",
                          os.path.join(TMP, "rsa.key"), "-subj", "/CN=r.%s" % DOMAIN).stdout
        api("POST", "/v1/pki/sign/ec256", {"csr": rsa_csr}, want=400)

    def test_04_revoke_and_crl(self):
        issued = data("POST", "/v1/pki/issue/ec256", {"common_name": "gone.%s" % DOMAIN})
        track_key(issued["private_key"])
        keep = data("POST", "/v1/pki/issue/ec256", {"common_name": "kept.%s" % DOMAIN})
        track_key(keep["private_key"])
        serial = issued["serial_number"]
        revoked = data("POST", "/v1/pki/revoke", {"serial_number": serial})
        self.assertEqual(revoked["state"], "revoked")
        self.assertGreater(revoked["revocation_time"], 0)
        entry = api("GET", "/v1/pki/cert/" + serial, token=None).json["data"]
        self.assertEqual(entry["revocation_time"], revoked["revocation_time"])

        crl_pem = api("GET", "/v1/pki/crl/pem", token=None).body.decode()
        listing = openssl("crl", "-noout", "-text", stdin=crl_pem).stdout
        self.assertIn("Serial Number: " + serial_hex(serial), listing)
        self.assertNotIn(serial_hex(keep["serial_number"]), listing)
        # The CRL is the default issuer's and verifies against it.
        p = openssl("crl", "-noout", "-CAfile", tmpfile("crl-ca.pem", STATE["int_pem"]),
                    stdin=crl_pem)
        self.assertIn("verify OK", p.stdout + p.stderr)
        der = api("GET", "/v1/pki/crl", token=None)
        self.assertEqual(der.header("content-type"), "application/pkix-crl")
        der_path = os.path.join(TMP, "crl.der")
        with open(der_path, "wb") as f:
            f.write(der.body)
        self.assertIn("Serial Number: " + serial_hex(serial),
                      openssl("crl", "-inform", "DER", "-in", der_path, "-noout", "-text").stdout)
        # openssl verify with the CRL: the revoked leaf fails, the other passes.
        ok, why = verify_chain(issued["certificate"], issued["ca_chain"], STATE["root_pem"],
                               "revoked", crl_pem=crl_pem)
        self.assertFalse(ok, why)
        self.assertIn("revoked", why)
        ok, why = verify_chain(keep["certificate"], keep["ca_chain"], STATE["root_pem"], "kept",
                               crl_pem=crl_pem)
        self.assertTrue(ok, why)
        # Unknown serials: 400 on revoke (as Vault), 404 on read.
        api("POST", "/v1/pki/revoke", {"serial_number": "01:02:03"}, want=400)
        api("GET", "/v1/pki/cert/01:02:03", want=404, token=None)
        self.assertTrue(data("GET", "/v1/pki/crl/rotate")["success"])
        listed = api("LIST", "/v1/pki/certs").json["data"]["keys"]
        self.assertIn(serial.replace(":", "-"), listed)

    def test_05_import_ca_with_config_ca(self):
        key = os.path.join(TMP, "imported.key")
        cert = os.path.join(TMP, "imported.crt")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", key, "-out", cert, "-days", "30", "-subj", "/CN=rekey IT Imported",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        with open(key) as f:
            key_pem = track_key(f.read())
        with open(cert) as f:
            cert_pem = f.read()
        imported = data("POST", "/v1/pki/config/ca",
                        {"pem_bundle": key_pem + cert_pem, "issuer_name": "imported"})
        STATE["imported_id"] = imported["issuer_id"]
        issuer = data("GET", "/v1/pki/issuer/imported")
        self.assertEqual(issuer["certificate"].strip(), cert_pem.strip())
        self.assertFalse(issuer["is_default"])
        # A bad bundle is refused without echoing it.
        bad = "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n" % SECRETS.new("bad")
        r = api("POST", "/v1/pki/config/ca", {"pem_bundle": bad}, want=400)
        self.assertNotIn("bad-", r.body.decode())
        # Not the default: the imported CA signs only when named.
        data("POST", "/v1/pki/roles/imported", {"allowed_domains": DOMAIN,
                                                "allow_subdomains": True, "key_type": "ec",
                                                "issuer_ref": "imported"})
        leaf = data("POST", "/v1/pki/issue/imported", {"common_name": "imp.%s" % DOMAIN})
        track_key(leaf["private_key"])
        ok, why = verify_chain(leaf["certificate"], leaf["ca_chain"], cert_pem, "imported")
        self.assertTrue(ok, why)
        # Retire it so that later bundles hold only what the CA rotation test expects.
        api("POST", "/v1/pki/issuer/imported/retire", {"force": True})

    def test_06_cli(self):
        rk("pki", "role", "write", "cli", "allowed_domains=" + DOMAIN, "allow_subdomains=true",
           "key_type=ec", "max_ttl=48h")
        self.assertIn("cli", rk("pki", "role", "list").stdout.split())
        self.assertIn("allowed_domains", rk("pki", "role", "read", "cli").stdout)
        prefix = os.path.join(TMP, "cli-leaf")
        out = rk("pki", "issue", "cli", "cli.%s" % DOMAIN, "--alt-names",
                 "a.%s,b.%s" % (DOMAIN, DOMAIN), "--ttl", "2h", "--out", prefix).stdout
        self.assertIn("cli-leaf.key (0600)", out)
        self.assertEqual(stat.S_IMODE(os.stat(prefix + ".key").st_mode), 0o600)
        with open(prefix + ".key") as f:
            key_pem = track_key(f.read())
        self.assertNotIn(key_pem.splitlines()[1], out)
        with open(prefix + ".crt") as f:
            cert_pem = f.read()
        with open(prefix + ".chain.pem") as f:
            chain_pem = f.read()
        self.assertEqual(pubkey_of_cert(cert_pem), pubkey_of_key(key_pem))
        self.assertEqual(sans_of(cert_pem), sorted(["cli." + DOMAIN, "a." + DOMAIN,
                                                    "b." + DOMAIN]))
        ok, why = verify_chain(cert_pem, [chain_pem], STATE["root_pem"], "cli")
        self.assertTrue(ok, why)
        # The trust bundle and the CRL, as PEM on stdout.
        self.assertEqual(rk("pki", "ca").stdout.strip(), trust_bundle().strip())
        serial = openssl("x509", "-noout", "-serial", stdin=cert_pem).stdout.split("=")[1].strip()
        rk("pki", "revoke", serial)
        listing = openssl("crl", "-noout", "-text", stdin=rk("pki", "crl").stdout).stdout
        self.assertIn("Serial Number: " + serial.upper(), listing)
        # A refused issue fails with the server's message.
        p = rk("pki", "issue", "cli", "nope.other.test", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("nope.other.test", p.stderr)
        self.assertIn("int-1", rk("pki", "issuers").stdout)

    def check_rotated_value(self, path, seen_keys, label):
        v = current_value(path)
        key = track_key(v["private_key"])
        pub = pubkey_of_key(key)
        self.assertNotIn(pub, seen_keys, "%s: the rotation reused a key" % label)
        seen_keys.append(pub)
        self.assertEqual(pubkey_of_cert(v["certificate"]), pub)
        bundle = trust_bundle()
        roots = roots_in(bundle)
        chain = re.findall(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----",
                           v["chain"], re.S)
        ok = False
        why = ""
        for root in roots:
            ok, why = verify_chain(v["certificate"], [c + "\n" for c in chain], root, label)
            if ok:
                break
        self.assertTrue(ok, why)
        err = tls_handshake(v["certificate"], key, v["chain"], bundle, "web.%s" % DOMAIN)
        self.assertIsNone(err, label)
        return v

    def test_07_rotator_manual_rotations(self):
        data("POST", "/v1/pki/roles/web", {"allowed_domains": DOMAIN, "allow_subdomains": True,
                                           "key_type": "ec", "max_ttl": "720h"})
        api("PUT", "/v1/rotation/config/tls/web",
            {"rotator": "pki",
             "params": {"role": "web", "common_name": "web.%s" % DOMAIN,
                        "alt_names": ["www.%s" % DOMAIN], "ip_sans": ["127.0.0.1"],
                        "ttl": "24h"},
             "schedule": "before_expiry(1h)", "grace": "1s"}, want=204)
        seen = []
        serials = []
        for i in range(3):
            run = rotate("tls/web")
            self.assertEqual(run["outcome"], "succeeded")
            v = self.check_rotated_value("tls/web", seen, "manual rotation %d" % (i + 1))
            serials.append(v["serial_number"])
            self.assertEqual(sans_of(v["certificate"]),
                             sorted(["web." + DOMAIN, "www." + DOMAIN, "127.0.0.1"]))
            self.assertEqual(v["issuing_ca"].strip(), STATE["int_pem"].strip())
        self.assertEqual(len(set(serials)), 3)
        # Old certificates are not revoked (revoke_on_retire is off): the CA still has them.
        for s in serials:
            self.assertEqual(api("GET", "/v1/pki/cert/" + s, token=None).json["data"]
                             ["revocation_time"], 0)
        status = api("GET", "/v1/rotation/status").json["data"]
        self.assertIn("tls/web", json.dumps(status))

    def test_08_rotator_before_expiry_schedule(self):
        # A 1-minute certificate rotated 40 s before it expires: the scheduler starts a run about
        # 20 s after each issue. revoke_on_retire revokes the replaced one.
        api("PUT", "/v1/rotation/config/tls/short",
            {"rotator": "pki",
             "params": {"role": "web", "common_name": "web.%s" % DOMAIN, "ttl": "1m",
                        "revoke_on_retire": True},
             "schedule": "before_expiry(40s)", "grace": "1s"}, want=204)
        seen = []
        first = rotate("tls/short")
        v1 = self.check_rotated_value("tls/short", seen, "first")
        deadline = time.monotonic() + 75
        scheduled = None
        while time.monotonic() < deadline and scheduled is None:
            r = api("GET", "/v1/rotation/runs/tls/short", want=None)
            runs = r.json["data"]["runs"] if r.status == 200 else []
            for run in runs:
                if run["trigger"] == "schedule" and run["id"] != first["id"]:
                    scheduled = run
            time.sleep(0.5)
        self.assertIsNotNone(scheduled, "no scheduled rotation within 75 s")
        run = wait_run("tls/short", scheduled["id"])
        # The run ends after its grace period, when the previous serial is revoked.
        v2 = self.check_rotated_value("tls/short", seen, "scheduled")
        self.assertNotEqual(v1["serial_number"], v2["serial_number"])
        self.assertGreater(run["old_version"], 0)
        entry = api("GET", "/v1/pki/cert/" + v1["serial_number"], token=None).json["data"]
        self.assertGreater(entry["revocation_time"], 0, "revoke_on_retire")
        # Stop the schedule (retry while a run is in progress).
        for _ in range(100):
            if api("DELETE", "/v1/rotation/config/tls/short", want=None).status == 204:
                break
            time.sleep(0.2)

    def test_09_ca_rotation(self):
        path = "tls/web"
        seen = [pubkey_of_key(current_value(path)["private_key"])]
        old = current_value(path)  # issued by int-1
        # 1. The new issuer is added beside the old ones; not the default yet.
        new_root = data("POST", "/v1/pki/root/generate/internal",
                        {"common_name": "rekey IT Root 2", "key_type": "ec",
                         "issuer_name": "root-2", "ttl": "87600h"})
        self.assertFalse(data("GET", "/v1/pki/issuer/root-2")["is_default"])
        bundle = trust_bundle()
        self.assertIn(new_root["certificate"].strip(), bundle)
        self.assertIn(STATE["int_pem"].strip(), bundle)
        # Clients that re-read the bundle keep accepting the current certificate.
        self.assertIsNone(tls_handshake(old["certificate"], old["private_key"], old["chain"],
                                        bundle, "web.%s" % DOMAIN))
        # 2. The new issuer becomes the default; the next rotation issues from it.
        data("POST", "/v1/pki/config/issuers", {"default": "root-2"})
        self.assertEqual(api("GET", "/v1/pki/ca/pem", token=None).body.decode().strip(),
                         new_root["certificate"].strip())
        rotate(path)
        new = self.check_rotated_value(path, seen, "after the CA rotation")
        self.assertEqual(new["issuing_ca"].strip(), new_root["certificate"].strip())
        ok, why = verify_chain(new["certificate"], [], new_root["certificate"] + "\n", "new")
        self.assertTrue(ok, why)
        # During the overlap, one bundle accepts both the old and the new certificate.
        bundle = trust_bundle()
        self.assertIsNone(tls_handshake(old["certificate"], old["private_key"], old["chain"],
                                        bundle, "web.%s" % DOMAIN))
        self.assertIsNone(tls_handshake(new["certificate"], new["private_key"], new["chain"],
                                        bundle, "web.%s" % DOMAIN))
        # 3. The old issuers retire: refused while their leaves are valid, unless forced.
        data("POST", "/v1/pki/roles/old", {"allowed_domains": DOMAIN, "allow_subdomains": True,
                                           "key_type": "ec", "issuer_ref": "int-1"})
        int1 = data("GET", "/v1/pki/issuer/int-1")
        self.assertIsNotNone(int1["last_leaf_not_after"])
        api("POST", "/v1/pki/issuer/int-1/retire", {}, want=400)
        api("POST", "/v1/pki/issuer/root-2/retire", {"force": True}, want=400)  # the default
        self.assertTrue(data("POST", "/v1/pki/issuer/int-1/retire", {"force": True})["retired"])
        self.assertTrue(data("POST", "/v1/pki/issuer/root-1/retire", {"force": True})["retired"])
        bundle = trust_bundle()
        self.assertNotIn(STATE["int_pem"].strip(), bundle)
        self.assertNotIn(STATE["root_pem"].strip(), bundle)
        self.assertEqual(roots_in(bundle), [new_root["certificate"].strip() + "\n"])
        # Clients that re-read the bundle never fail with the current certificate; the
        # certificate of the retired issuer is no longer trusted (the check can fail).
        self.assertIsNone(tls_handshake(new["certificate"], new["private_key"], new["chain"],
                                        bundle, "web.%s" % DOMAIN))
        self.assertIsNotNone(tls_handshake(old["certificate"], old["private_key"], old["chain"],
                                           bundle, "web.%s" % DOMAIN))
        # The retired intermediate no longer signs; its last CRL is still served.
        api("POST", "/v1/pki/issue/old", {"common_name": "x.%s" % DOMAIN}, want=400)
        api("GET", "/v1/pki/issuer/int-1/crl/pem", token=None)
        rotate(path)
        self.check_rotated_value(path, seen, "after retiring the old issuers")

    def test_10_tidy(self):
        result = data("POST", "/v1/pki/tidy", {"safety_buffer": "72h"})
        self.assertEqual(result["certificates_deleted"], 0)

    def test_11_hvac(self):
        """hvac 0.11.2's secrets.pki methods, unchanged, against rekey."""
        try:
            import hvac
            import hvac.exceptions
        except ImportError:
            self.skipTest("hvac is not importable: run with /usr/bin/python3 (python3-hvac)")
        client = hvac.Client(url=SRV.url, token=SRV.token)
        self.addCleanup(client.adapter.close)
        pki = client.secrets.pki
        fields = {"allowed_domains": DOMAIN, "allow_subdomains": True, "key_type": "ec"}
        written = pki.create_or_update_role("hvac", extra_params=dict(fields))
        self.assertIsNone(written.get("warnings"))  # hvac's "name" field is not a warning
        role = pki.read_role("hvac")["data"]
        self.assertEqual(role["allowed_domains"], [DOMAIN])
        # A write replaces the whole role (as in Vault): what is not given is the default.
        pki.create_or_update_role("hvac", extra_params={"key_type": "ec"})
        self.assertEqual(pki.read_role("hvac")["data"]["allowed_domains"], [])
        pki.create_or_update_role("hvac", extra_params=dict(fields))
        self.assertIn("hvac", pki.list_roles()["data"]["keys"])
        issued = pki.generate_certificate("hvac", "h.%s" % DOMAIN,
                                          extra_params={"alt_names": "h2.%s" % DOMAIN})["data"]
        track_key(issued["private_key"])
        ca_pem = pki.read_ca_certificate()
        self.assertEqual(issued["issuing_ca"].strip(), ca_pem.strip())
        chain = pki.read_ca_certificate_chain()
        self.assertIn(ca_pem.strip(), chain)
        read = pki.read_certificate(issued["serial_number"])["data"]
        self.assertEqual(read["certificate"], issued["certificate"])
        self.assertIn(issued["serial_number"].replace(":", "-"),
                      pki.list_certificates()["data"]["keys"])
        csr = openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                      "-nodes", "-keyout", os.path.join(TMP, "hvac.key"),
                      "-subj", "/CN=s.%s" % DOMAIN).stdout
        with open(os.path.join(TMP, "hvac.key")) as f:
            track_key(f.read())
        signed = pki.sign_certificate("hvac", csr, "s.%s" % DOMAIN)["data"]
        ok, why = verify_chain(signed["certificate"], [], ca_pem, "hvac sign")
        self.assertTrue(ok, why)
        revoked = pki.revoke_certificate(issued["serial_number"])["data"]
        self.assertGreater(revoked["revocation_time"], 0)
        pki.rotate_crl()
        listing = openssl("crl", "-noout", "-text", stdin=pki.read_crl()).stdout
        self.assertIn(serial_hex(issued["serial_number"]), listing)
        pki.tidy(extra_params={"safety_buffer": "72h"})
        with self.assertRaises(hvac.exceptions.InvalidRequest):
            pki.generate_certificate("hvac", "x.other.test")
        pki.delete_role("hvac")
        self.assertNotIn("hvac", pki.list_roles()["data"]["keys"])

    def test_99_no_private_key_in_logs_or_audit(self):
        audit = SRV.read_audit()
        self.assertIn(b"pki/issue/ec256", audit)
        self.assertIn(b"pki/config/ca", audit)
        SECRETS.check(SRV, label="pki")


if __name__ == "__main__":
    harness.main()
