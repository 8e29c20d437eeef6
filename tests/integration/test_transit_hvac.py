#!/usr/bin/python3
"""hvac 0.11.2 (Debian python3-hvac) against rekey's Vault-compatible transit engine.

Covers every `client.secrets.transit` call the issue names (create_key, read_key, list_keys,
rotate_key, update_key_configuration, encrypt_data, decrypt_data, rewrap_data,
generate_data_key, generate_hmac, sign_data, verify_signed_data, delete_key) plus trim_key,
export_key, hash_data and generate_random_bytes; 100 rotations with every old ciphertext still
decrypting (also after a restart); min_decryption_version refusal with Vault's error; tampered and
truncated ciphertexts failing with one generic error; Vault's batch 400 semantics; derived and
convergent keys; signatures checked independently with python3-cryptography.

Run:  REKEY_BIN=build/src/app/rekey /usr/bin/python3 tests/integration/test_transit_hvac.py -v
(`python3` on PATH is a pyenv without hvac; use /usr/bin/python3.)
"""

import base64
import hashlib
import hmac as hmac_mod
import os
import sys
import unittest
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

try:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding
    HAVE_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover
    HAVE_CRYPTOGRAPHY = False

SRV = None
SECRETS = SecretTracker()
GENERIC = "cipher: message authentication failed"
TOO_OLD = "ciphertext or signature version is disallowed by policy (too old)"


def setUpModule():
    global SRV
    import importlib.metadata
    print("hvac version:", importlib.metadata.version("hvac"))
    SRV = RekeyServer(name="transit").__enter__()


def tearDownModule():
    try:
        SECRETS.check(SRV, label="test_transit_hvac")
    finally:
        SRV.__exit__(None, None, None)


def uniq(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def b64(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return base64.b64encode(data).decode("ascii")


def unb64(text):
    return base64.b64decode(text.encode("ascii"))


class TransitHvac(unittest.TestCase):

    def setUp(self):
        self.c = self.mk(token=SRV.token)
        self.t = self.c.secrets.transit

    def mk(self, **kw):
        c = hvac.Client(url=SRV.url, **kw)
        self.addCleanup(c.adapter.close)
        return c

    def secret(self):
        """A distinctive plaintext the leak check looks for in logs, audit and errors."""
        return SECRETS.new("transit")

    def new_key(self, **kw):
        name = uniq(kw.pop("prefix", "k"))
        r = self.t.create_key(name=name, **kw)
        # Current Vault answers 200 with the key (older: 204); both are fine for hvac.
        self.assertTrue(isinstance(r, dict) or getattr(r, "status_code", None) == 204, r)
        return name

    def encrypt(self, name, plaintext, **kw):
        r = self.t.encrypt_data(name=name, plaintext=b64(plaintext), **kw)
        return r["data"]["ciphertext"]

    def decrypt(self, name, ciphertext, **kw):
        r = self.t.decrypt_data(name=name, ciphertext=ciphertext, **kw)
        return unb64(r["data"]["plaintext"]).decode("utf-8")

    def assertRefused(self, call, message):
        with self.assertRaises(hvac.exceptions.InvalidRequest) as cm:
            call()
        self.assertIn(message, str(cm.exception))
        return cm.exception

    # -- keys -------------------------------------------------------------------------------
    def test_create_read_list_configure_delete(self):
        name = self.new_key(exportable=True)
        r = self.t.read_key(name=name)
        d = r["data"]
        for field, want in (("name", name), ("type", "aes256-gcm96"), ("derived", False),
                            ("deletion_allowed", False), ("exportable", True),
                            ("min_decryption_version", 1), ("min_encryption_version", 0),
                            ("latest_version", 1), ("supports_encryption", True),
                            ("supports_decryption", True), ("supports_signing", False),
                            ("supports_derivation", True), ("auto_rotate_period", 0)):
            self.assertEqual(d.get(field), want, field)
        self.assertEqual(list(d["keys"]), ["1"])
        self.assertIsInstance(d["keys"]["1"], int, "symmetric keys show creation unix time")

        listed = self.t.list_keys()["data"]["keys"]
        self.assertIn(name, listed)
        self.assertEqual(listed, sorted(listed))
        raw = SRV.request("GET", "/v1/transit/keys?list=true")
        self.assertEqual(raw.status, 200)
        self.assertIn(name, raw.json["data"]["keys"])

        # Deletion needs deletion_allowed, as in Vault.
        with self.assertRaises(hvac.exceptions.InvalidRequest) as cm:
            self.t.delete_key(name=name)
        self.assertIn("deletion is not allowed", str(cm.exception))
        self.t.update_key_configuration(name=name, deletion_allowed=True)
        self.assertIs(self.t.read_key(name=name)["data"]["deletion_allowed"], True)
        r = self.t.delete_key(name=name)
        self.assertEqual(r.status_code, 204)
        with self.assertRaises(hvac.exceptions.InvalidPath):
            self.t.read_key(name=name)
        self.assertNotIn(name, self.t.list_keys()["data"]["keys"])

    def test_create_existing_key_is_unchanged_and_warns(self):
        name = self.new_key(key_type="ed25519")
        r = self.t.create_key(name=name, key_type="rsa-2048")
        self.assertEqual(r["data"]["type"], "ed25519")
        self.assertEqual(r["warnings"], ["key %s already existed" % name])

    def test_unknown_key_type_and_bad_auto_rotate_period(self):
        r = SRV.request("POST", "/v1/transit/keys/" + uniq("bad"), {"type": "des"})
        self.assertEqual((r.status, r.json), (400, {"errors": ["unknown key type des"]}))
        r = SRV.request("POST", "/v1/transit/keys/" + uniq("bad"), {"auto_rotate_period": "10m"})
        self.assertEqual(r.status, 400)
        self.assertIn("at least an hour", r.json["errors"][0])

    def test_auto_rotate_period_is_stored_and_shown_in_seconds(self):
        name = uniq("periodic")
        r = SRV.request("POST", "/v1/transit/keys/" + name, {"auto_rotate_period": "24h"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.t.read_key(name=name)["data"]["auto_rotate_period"], 86400)
        r = SRV.request("POST", "/v1/transit/keys/%s/config" % name, {"auto_rotate_period": 7200})
        self.assertEqual(r.json["data"]["auto_rotate_period"], 7200)
        r = SRV.request("POST", "/v1/transit/keys/%s/config" % name, {"auto_rotate_period": "0"})
        self.assertEqual(r.json["data"]["auto_rotate_period"], 0)

    # -- encrypt / decrypt ------------------------------------------------------------------
    def test_encrypt_decrypt_every_symmetric_type(self):
        for key_type in ("aes256-gcm96", "chacha20-poly1305", "rsa-2048"):
            name = self.new_key(key_type=key_type)
            value = self.secret()
            r = self.t.encrypt_data(name=name, plaintext=b64(value))
            ct = r["data"]["ciphertext"]
            self.assertTrue(ct.startswith("vault:v1:"), ct)
            self.assertEqual(r["data"]["key_version"], 1)
            self.assertNotIn(value, str(r))
            self.assertEqual(self.decrypt(name, ct), value)
            if key_type != "rsa-2048":  # nonce(12) ‖ ciphertext ‖ tag(16)
                self.assertEqual(len(unb64(ct[len("vault:v1:"):])), 12 + len(value) + 16)
        # aes128-gcm96 is not in hvac 0.11's allowed list: create it raw.
        name = uniq("aes128")
        self.assertEqual(SRV.request("POST", "/v1/transit/keys/" + name,
                                     {"type": "aes128-gcm96"}).status, 200)
        value = self.secret()
        self.assertEqual(self.decrypt(name, self.encrypt(name, value)), value)

    def test_encrypt_creates_a_missing_key(self):
        name = uniq("upsert")
        value = self.secret()
        ct = self.encrypt(name, value)
        self.assertEqual(self.t.read_key(name=name)["data"]["type"], "aes256-gcm96")
        self.assertEqual(self.decrypt(name, ct), value)

    def test_100_rotations_every_old_ciphertext_decrypts(self):
        name = self.new_key()
        made = []
        for i in range(101):
            value = self.secret()
            ct = self.encrypt(name, value)
            self.assertTrue(ct.startswith("vault:v%d:" % (i + 1)), ct)
            made.append((ct, value))
            if i < 100:
                self.t.rotate_key(name=name)
        d = self.t.read_key(name=name)["data"]
        self.assertEqual(d["latest_version"], 101)
        self.assertEqual(len(d["keys"]), 101)
        for ct, value in made:
            self.assertEqual(self.decrypt(name, ct), value)
        # The same in one batch.
        r = self.t.decrypt_data(name=name, ciphertext=None,
                                batch_input=[{"ciphertext": ct} for ct, _ in made])
        self.assertEqual([unb64(x["plaintext"]).decode() for x in r["data"]["batch_results"]],
                         [v for _, v in made])
        # Rewrap moves every ciphertext to v101 and never returns plaintext.
        for ct, value in made[:10]:
            r = self.t.rewrap_data(name=name, ciphertext=ct)
            self.assertEqual(set(r["data"]), {"ciphertext", "key_version"})
            self.assertTrue(r["data"]["ciphertext"].startswith("vault:v101:"))
            self.assertEqual(r["data"]["key_version"], 101)
            self.assertNotIn(b64(value), str(r))
            self.assertEqual(self.decrypt(name, r["data"]["ciphertext"]), value)
        r = self.t.rewrap_data(name=name, ciphertext=None,
                               batch_input=[{"ciphertext": ct} for ct, _ in made])
        results = r["data"]["batch_results"]
        self.assertTrue(all(x["ciphertext"].startswith("vault:v101:") for x in results))
        self.assertTrue(all("plaintext" not in x for x in results))
        # They survive a restart: the keys are in the store, not only in memory.
        SRV.restart()
        c = self.mk(token=SRV.token)
        for ct, value in made[::10]:
            r = c.secrets.transit.decrypt_data(name=name, ciphertext=ct)
            self.assertEqual(unb64(r["data"]["plaintext"]).decode(), value)
        self.c = c
        self.t = c.secrets.transit

    def test_min_decryption_version_refuses_older_ciphertexts(self):
        name = self.new_key()
        old = self.encrypt(name, self.secret())
        self.t.rotate_key(name=name)
        self.t.rotate_key(name=name)
        fresh_value = self.secret()
        fresh = self.encrypt(name, fresh_value)
        self.t.update_key_configuration(name=name, min_decryption_version=3)
        self.assertEqual(self.t.read_key(name=name)["data"]["min_decryption_version"], 3)
        e = self.assertRefused(lambda: self.t.decrypt_data(name=name, ciphertext=old), TOO_OLD)
        self.assertEqual(e.errors, [TOO_OLD])
        self.assertRefused(lambda: self.t.rewrap_data(name=name, ciphertext=old), TOO_OLD)
        self.assertEqual(self.decrypt(name, fresh), fresh_value)
        # Vault's config errors.
        self.assertRefused(
            lambda: self.t.update_key_configuration(name=name, min_decryption_version=9),
            "cannot set min decryption version of 9, latest key version is 3")
        # Lowering it again makes the old ciphertext readable (versions are kept until trimmed).
        self.t.update_key_configuration(name=name, min_decryption_version=1)
        self.assertTrue(self.decrypt(name, old).startswith("transit-"))

    def test_tampered_and_truncated_ciphertexts_fail_with_one_generic_error(self):
        name = self.new_key()
        self.t.rotate_key(name=name)
        ct = self.encrypt(name, self.secret(), key_version=2)
        body = unb64(ct[len("vault:v2:"):])
        bad = []
        for i in range(len(body)):  # every byte flipped
            t = bytearray(body)
            t[i] ^= 0x01
            bad.append("vault:v2:" + b64(bytes(t)))
        for n in range(0, len(body)):  # every truncation of the raw bytes
            bad.append("vault:v2:" + b64(body[:n]))
        bad += [ct[:n] for n in range(1, len(ct), 7)]  # truncated text
        bad += ["vault:v1:" + ct[len("vault:v2:"):],   # other version's key
                "vault:v99:" + ct[len("vault:v2:"):],  # version never made
                ct + "AAAA", ct.replace("vault:", "vaulx:"), "garbage"]
        errors = set()
        for b in bad:
            with self.assertRaises(hvac.exceptions.InvalidRequest) as cm:
                self.t.decrypt_data(name=name, ciphertext=b)
            errors.add(tuple(cm.exception.errors))
        self.assertEqual(errors, {(GENERIC,)}, "every bad ciphertext must give the same error")

    def test_batch_semantics(self):
        name = self.new_key()
        # Not tracked by the leak check: a 400 batch answer carries the plaintexts of the items
        # that did decrypt, by design (Vault's batch semantics).
        values = ["batch-value-%d-%s" % (i, uuid.uuid4().hex) for i in range(3)]
        r = self.t.encrypt_data(name=name, plaintext=None,
                                batch_input=[{"plaintext": b64(v), "reference": "ref-%d" % i}
                                             for i, v in enumerate(values)])
        results = r["data"]["batch_results"]
        self.assertEqual([x["reference"] for x in results], ["ref-0", "ref-1", "ref-2"])
        self.assertTrue(all(x["key_version"] == 1 for x in results))
        cts = [x["ciphertext"] for x in results]
        # One bad item: the whole response is 400 with every item's result (Vault's rule);
        # hvac raises InvalidRequest for it.
        batch = [{"ciphertext": cts[0]}, {"ciphertext": "vault:v1:AAAA"}, {"ciphertext": cts[2]}]
        with self.assertRaises(hvac.exceptions.InvalidRequest):
            self.t.decrypt_data(name=name, ciphertext=None, batch_input=batch)
        raw = SRV.request("POST", "/v1/transit/decrypt/" + name, {"batch_input": batch})
        self.assertEqual(raw.status, 400)
        self.assertNotIn("errors", raw.json)
        out = raw.json["data"]["batch_results"]
        self.assertEqual(unb64(out[0]["plaintext"]).decode(), values[0])
        self.assertEqual(out[1]["error"], GENERIC)
        self.assertEqual(unb64(out[2]["plaintext"]).decode(), values[2])
        # partial_failure_response_code overrides the status when some items succeeded.
        raw = SRV.request("POST", "/v1/transit/decrypt/" + name,
                          {"batch_input": batch, "partial_failure_response_code": 207})
        self.assertEqual(raw.status, 207)
        # Whole-request errors.
        self.assertRefused(lambda: self.t.encrypt_data(name=name, plaintext=None, batch_input=[]),
                           "missing batch input to process")
        self.assertRefused(
            lambda: self.t.encrypt_data(name=name, plaintext=None,
                                        batch_input=[{"plaintext": "", "context": b64("a")},
                                                     {"plaintext": ""}]),
            "context should be set either in all the request blocks or in none")

    def test_derived_keys_need_the_right_context(self):
        name = self.new_key(derived=True)
        self.assertIs(self.t.read_key(name=name)["data"]["derived"], True)
        self.assertEqual(self.t.read_key(name=name)["data"]["kdf"], "hkdf_sha256")
        value = self.secret()
        ct = self.encrypt(name, value, context=b64("tenant-a"))
        self.assertEqual(self.decrypt(name, ct, context=b64("tenant-a")), value)
        self.assertRefused(lambda: self.t.decrypt_data(name=name, ciphertext=ct,
                                                       context=b64("tenant-b")), GENERIC)
        self.assertRefused(lambda: self.t.decrypt_data(name=name, ciphertext=ct),
                           "missing 'context' for key derivation")
        # Vault's KDF: HKDF-SHA256(key, no salt, info=context), checked with the exported key.
        name2 = self.new_key(derived=True, exportable=True)
        ct2 = self.encrypt(name2, value, context=b64("ctx"))
        key = unb64(self.t.export_key(name=name2, key_type="encryption-key")["data"]["keys"]["1"])
        prk = hmac_mod.new(b"\x00" * 32, key, hashlib.sha256).digest()
        derived = hmac_mod.new(prk, b"ctx" + b"\x01", hashlib.sha256).digest()
        if HAVE_CRYPTOGRAPHY:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM
            raw = unb64(ct2[len("vault:v1:"):])
            self.assertEqual(AESGCM(derived).decrypt(raw[:12], raw[12:], None).decode(), value)

    def test_convergent_encryption_is_deterministic(self):
        name = self.new_key(derived=True, convergent_encryption=True)
        value = self.secret()
        a = self.encrypt(name, value, context=b64("c1"))
        self.assertEqual(self.encrypt(name, value, context=b64("c1")), a)
        self.assertNotEqual(self.encrypt(name, value, context=b64("c2")), a)
        self.assertEqual(self.decrypt(name, a, context=b64("c1")), value)
        self.assertEqual(self.t.read_key(name=name)["data"]["convergent_encryption_version"], 3)

    # -- datakey, hmac, sign/verify ---------------------------------------------------------
    def test_generate_data_key(self):
        name = self.new_key()
        r = self.t.generate_data_key(name=name, key_type="plaintext", bits=512)
        plain = unb64(r["data"]["plaintext"])
        self.assertEqual(len(plain), 64)
        self.assertEqual(r["data"]["key_version"], 1)
        back = self.t.decrypt_data(name=name, ciphertext=r["data"]["ciphertext"])
        self.assertEqual(unb64(back["data"]["plaintext"]), plain)
        r = self.t.generate_data_key(name=name, key_type="wrapped")
        self.assertNotIn("plaintext", r["data"])
        self.assertTrue(r["data"]["ciphertext"].startswith("vault:v1:"))
        back = self.t.decrypt_data(name=name, ciphertext=r["data"]["ciphertext"])
        self.assertEqual(len(unb64(back["data"]["plaintext"])), 32)

    def test_generate_hmac_and_verify(self):
        name = self.new_key(exportable=True)
        data = b64("message to authenticate")
        for algorithm in ("sha2-224", "sha2-256", "sha2-384", "sha2-512"):
            r = self.t.generate_hmac(name=name, hash_input=data, algorithm=algorithm)
            mac = r["data"]["hmac"]
            self.assertTrue(mac.startswith("vault:v1:"))
            v = self.t.verify_signed_data(name=name, hash_input=data, hmac=mac,
                                          hash_algorithm=algorithm)
            self.assertIs(v["data"]["valid"], True, algorithm)
            v = self.t.verify_signed_data(name=name, hash_input=b64("other"), hmac=mac,
                                          hash_algorithm=algorithm)
            self.assertIs(v["data"]["valid"], False, algorithm)
        # The MAC is HMAC-SHA256 under the exported HMAC key.
        hkey = unb64(self.t.export_key(name=name, key_type="hmac-key")["data"]["keys"]["1"])
        mac = self.t.generate_hmac(name=name, hash_input=data)["data"]["hmac"]
        want = hmac_mod.new(hkey, unb64(data), hashlib.sha256).digest()
        self.assertEqual(mac, "vault:v1:" + b64(want))
        self.t.rotate_key(name=name)
        mac2 = self.t.generate_hmac(name=name, hash_input=data)["data"]["hmac"]
        self.assertTrue(mac2.startswith("vault:v2:"))

    def check_signature(self, key_type, public_pem_or_b64, message, sig, **kw):
        """Verifies a transit signature with python3-cryptography (no rekey code involved)."""
        if not HAVE_CRYPTOGRAPHY:
            return
        raw = sig.split(":", 2)[2]
        if key_type == "ed25519":
            pub = ed25519.Ed25519PublicKey.from_public_bytes(unb64(public_pem_or_b64))
            pub.verify(unb64(raw), message)
            return
        pub = serialization.load_pem_public_key(public_pem_or_b64.encode())
        if key_type.startswith("ecdsa"):
            pub.verify(unb64(raw), message, ec.ECDSA(hashes.SHA256()))
        elif kw.get("pkcs1v15"):
            pub.verify(unb64(raw), message, padding.PKCS1v15(), hashes.SHA256())
        else:
            pub.verify(unb64(raw), message,
                       padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                   salt_length=padding.PSS.AUTO), hashes.SHA256())

    def test_sign_and_verify_every_signing_type(self):
        message = b"sign me " + uuid.uuid4().hex.encode()
        for key_type in ("ed25519", "ecdsa-p256", "rsa-2048", "rsa-3072", "rsa-4096"):
            name = self.new_key(key_type=key_type)
            key = self.t.read_key(name=name)["data"]
            self.assertIs(key["supports_signing"], True)
            public = key["keys"]["1"]["public_key"]
            r = self.t.sign_data(name=name, hash_input=b64(message))
            sig = r["data"]["signature"]
            self.assertTrue(sig.startswith("vault:v1:"), sig)
            self.check_signature(key_type, public, message, sig)
            v = self.t.verify_signed_data(name=name, hash_input=b64(message), signature=sig)
            self.assertIs(v["data"]["valid"], True, key_type)
            v = self.t.verify_signed_data(name=name, hash_input=b64(message + b"!"),
                                          signature=sig)
            self.assertIs(v["data"]["valid"], False, key_type)
            raw = bytearray(unb64(sig.split(":", 2)[2]))
            raw[len(raw) // 2] ^= 0x40
            v = self.t.verify_signed_data(name=name, hash_input=b64(message),
                                          signature="vault:v1:" + b64(bytes(raw)))
            self.assertIs(v["data"]["valid"], False, key_type)
            if key_type.startswith("rsa"):
                r = self.t.sign_data(name=name, hash_input=b64(message),
                                     signature_algorithm="pkcs1v15", hash_algorithm="sha2-256")
                self.check_signature(key_type, public, message, r["data"]["signature"],
                                     pkcs1v15=True)
                v = self.t.verify_signed_data(name=name, hash_input=b64(message),
                                              signature=r["data"]["signature"],
                                              signature_algorithm="pkcs1v15")
                self.assertIs(v["data"]["valid"], True)
            if key_type == "ecdsa-p256":
                r = self.t.sign_data(name=name, hash_input=b64(message),
                                     marshaling_algorithm="jws")
                jws = r["data"]["signature"]
                self.assertEqual(len(base64.urlsafe_b64decode(jws.split(":", 2)[2] + "==")), 64)
                v = self.t.verify_signed_data(name=name, hash_input=b64(message), signature=jws,
                                              marshaling_algorithm="jws")
                self.assertIs(v["data"]["valid"], True)
                digest = hashlib.sha256(message).digest()
                r = self.t.sign_data(name=name, hash_input=b64(digest), prehashed=True)
                self.check_signature(key_type, public, message, r["data"]["signature"])

    def test_signatures_after_rotation_and_min_decryption_version(self):
        name = self.new_key(key_type="ed25519")
        old = self.t.sign_data(name=name, hash_input=b64("m"))["data"]["signature"]
        self.t.rotate_key(name=name)
        new = self.t.sign_data(name=name, hash_input=b64("m"))["data"]["signature"]
        self.assertTrue(new.startswith("vault:v2:"))
        for s in (old, new):
            v = self.t.verify_signed_data(name=name, hash_input=b64("m"), signature=s)
            self.assertIs(v["data"]["valid"], True)
        self.t.update_key_configuration(name=name, min_decryption_version=2)
        self.assertRefused(lambda: self.t.verify_signed_data(name=name, hash_input=b64("m"),
                                                             signature=old), TOO_OLD)

    # -- trim, export, hash, random ---------------------------------------------------------
    def test_trim_key(self):
        name = self.new_key()
        old = self.encrypt(name, self.secret())
        for _ in range(3):
            self.t.rotate_key(name=name)
        self.assertRefused(lambda: self.t.trim_key(name=name, min_version=2),
                           "minimum encryption version is not set")
        self.t.update_key_configuration(name=name, min_decryption_version=3,
                                        min_encryption_version=4)
        r = self.t.trim_key(name=name, min_version=3)
        self.assertEqual(r["data"]["min_available_version"], 3)
        self.assertEqual(sorted(r["data"]["keys"], key=int), ["3", "4"])
        self.assertRefused(lambda: self.t.decrypt_data(name=name, ciphertext=old), TOO_OLD)

    def test_export_key(self):
        name = self.new_key(exportable=True)
        self.t.rotate_key(name=name)
        r = self.t.export_key(name=name, key_type="encryption-key")
        self.assertEqual(r["data"]["name"], name)
        self.assertEqual(sorted(r["data"]["keys"]), ["1", "2"])
        self.assertEqual(len(unb64(r["data"]["keys"]["2"])), 32)
        r = self.t.export_key(name=name, key_type="encryption-key", version="latest")
        self.assertEqual(list(r["data"]["keys"]), ["2"])
        # Keys are not exportable unless created so.
        plain = self.new_key()
        self.assertRefused(lambda: self.t.export_key(name=plain, key_type="encryption-key"),
                           "not exportable")
        ec_name = self.new_key(key_type="ecdsa-p256", exportable=True)
        r = self.t.export_key(name=ec_name, key_type="signing-key")
        self.assertIn("BEGIN EC PRIVATE KEY", r["data"]["keys"]["1"])

    def test_hash_and_random(self):
        r = self.t.hash_data(hash_input=b64("abc"), algorithm="sha2-256")
        self.assertEqual(r["data"]["sum"], hashlib.sha256(b"abc").hexdigest())
        r = self.t.hash_data(hash_input=b64("abc"), algorithm="sha2-512", output_format="base64")
        self.assertEqual(r["data"]["sum"], b64(hashlib.sha512(b"abc").digest()))
        r = self.t.generate_random_bytes(n_bytes=40)
        self.assertEqual(len(unb64(r["data"]["random_bytes"])), 40)

    # -- authorization ----------------------------------------------------------------------
    def test_encrypt_needs_create_to_make_a_key_and_update_to_use_one(self):
        existing = self.new_key()
        self.c.sys.create_or_update_policy(
            name="transit-user",
            policy={"path": {"transit/encrypt/*": {"capabilities": ["update"]},
                             "transit/decrypt/*": {"capabilities": ["update"]}}})
        tok = self.c.create_token(policies=["transit-user"], no_default_policy=True,
                                  ttl="10m")["auth"]["client_token"]
        user = self.mk(token=tok)
        value = self.secret()
        ct = user.secrets.transit.encrypt_data(name=existing, plaintext=b64(value))
        back = user.secrets.transit.decrypt_data(name=existing,
                                                 ciphertext=ct["data"]["ciphertext"])
        self.assertEqual(unb64(back["data"]["plaintext"]).decode(), value)
        with self.assertRaises(hvac.exceptions.Forbidden):
            user.secrets.transit.encrypt_data(name=uniq("nope"), plaintext=b64("x"))
        with self.assertRaises(hvac.exceptions.Forbidden):
            user.secrets.transit.rotate_key(name=existing)
        with self.assertRaises(hvac.exceptions.Forbidden):
            user.secrets.transit.read_key(name=existing)


if __name__ == "__main__":
    harness.main()
