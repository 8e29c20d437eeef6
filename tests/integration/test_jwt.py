#!/usr/bin/python3
"""End-to-end tests of JWT signing keysets and the `jwt` rotator (issue 6 item 3).

The Done-when of the issue: "a verifier that caches the JWKS for its TTL validates tokens signed
before, during and after 20 rotations with 0 failures; a token signed by a removed key fails."

The verifier here is an ordinary relying party built on PyJWT (python3-jwt 2.6, Debian's): it
fetches /.well-known/jwks/<name>.json without a token, keeps it for the response's
Cache-Control max-age (revalidating with If-None-Match), and NEVER refetches on an unknown kid
(many libraries do, which would hide a key that signs before verifiers can have it). A client
mints tokens continuously through POST /v1/jwt/sign while 20 rotations run back to back through
the rotation engine; every token is verified right after it is minted and again shortly before
it expires, so tokens signed before a rotation are checked after it.

Timings are scaled down so the test runs in about a minute and a half: JWKS cache TTL 1 s,
pre-publication 2 s, token lifetime 3 s, grace 3 s.

Also checked: each algorithm (RS256, ES256, EdDSA) interoperates with PyJWT through the JWKS;
the JWKS is served with Cache-Control and an ETag (304 on If-None-Match); removed keys leave the
JWKS and their tokens fail; no token or claim value reaches the server log or the audit file.

Run:  REKEY_BIN=build/src/app/rekey /usr/bin/python3 tests/integration/test_jwt.py -v
"""

import heapq
import json
import os
import queue
import re
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import RekeyServer, SecretTracker, http_request, quote_path  # noqa: E402

import jwt as pyjwt  # noqa: E402  (python3-jwt)

KEYSET = "zd"
SECRET_PATH = "jwt/zd"
JWKS_CACHE_TTL_S = 1
PREPUBLISH_S = 2
MAX_TOKEN_TTL_S = 3
GRACE = "3s"
ROTATIONS = 20
MINT_INTERVAL_S = 0.05
RECHECK_BEFORE_EXP_S = 0.6  # re-verify each token this long before it expires
RUN_TIMEOUT_S = 30.0

SRV = None
SECRETS = SecretTracker()


def setUpModule():
    global SRV
    SRV = RekeyServer(name="jwt").__enter__()


def tearDownModule():
    try:
        SECRETS.check(SRV, label="test_jwt")
    finally:
        SRV.__exit__(None, None, None)


def api(method, path, body=None, expect=200, token="__default__"):
    r = SRV.request(method, path, body, token=token)
    if expect is not None:
        assert r.status == expect, "%s %s -> %r" % (method, path, r)
    return r


def data(r):
    return r.json["data"]


def create_keyset(name, alg, **extra):
    body = {"alg": alg, "jwks_cache_ttl": "%ds" % JWKS_CACHE_TTL_S,
            "max_token_ttl": "%ds" % MAX_TOKEN_TTL_S, "prepublish": "%ds" % PREPUBLISH_S}
    body.update(extra)
    return data(api("POST", "/v1/jwt/keys/" + name, body))


def sign(name, claims, ttl="%ds" % MAX_TOKEN_TTL_S):
    return data(api("POST", "/v1/jwt/sign/" + name, {"claims": claims, "ttl": ttl}))


def server_verify(name, token):
    return data(api("POST", "/v1/jwt/verify/" + name, {"token": token}))


def get_run(path, run_id):
    r = api("GET", "/v1/rotation/runs/%s?run_id=%s" % (quote_path(path), run_id))
    return data(r)["runs"][0]


def wait_done(path, run_id, timeout=RUN_TIMEOUT_S):
    deadline = time.monotonic() + timeout
    run = None
    while time.monotonic() < deadline:
        run = get_run(path, run_id)
        if run["phase"] == "done":
            return run
        time.sleep(0.05)
    raise AssertionError("run %s not done within %.0fs: %r" % (run_id, timeout, run))


def kid_of(token):
    return pyjwt.get_unverified_header(token)["kid"]


class Failure(Exception):
    pass


class CachingVerifier:
    """A relying party: the JWKS is cached for its max-age and revalidated with its ETag; an
    unknown kid is a failure (no refetch)."""

    def __init__(self, addr, name):
        self.addr = addr
        self.path = "/.well-known/jwks/%s.json" % name
        self.lock = threading.Lock()
        self.keys = {}           # kid -> PyJWK
        self.expires = 0.0       # monotonic time the cached copy goes stale
        self.etag = None
        self.fetches = 0
        self.not_modified = 0
        self.first_seen = {}     # kid -> wall time it first appeared in a fetched JWKS
        self.max_ages = set()

    def _refresh_if_stale(self):
        with self.lock:
            if time.monotonic() < self.expires:
                return
            headers = {"If-None-Match": self.etag} if self.etag else None
            r = http_request(self.addr, "GET", self.path, headers=headers)
            received = time.monotonic()
            self.fetches += 1
            cache_control = r.header("cache-control") or ""
            m = re.fullmatch(r"public, max-age=(\d+)", cache_control)
            if m is None:
                raise Failure("JWKS Cache-Control is %r" % cache_control)
            max_age = int(m.group(1))
            self.max_ages.add(max_age)
            if r.status == 304:
                self.not_modified += 1
            elif r.status == 200:
                doc = json.loads(r.body)
                keys = {}
                for k in doc["keys"]:
                    keys[k["kid"]] = pyjwt.PyJWK.from_dict(k)
                    self.first_seen.setdefault(k["kid"], time.time())
                self.keys = keys
                self.etag = r.header("etag")
            else:
                raise Failure("JWKS fetch -> %d %r" % (r.status, r.body[:200]))
            self.expires = received + max_age

    def verify(self, token):
        self._refresh_if_stale()
        header = pyjwt.get_unverified_header(token)
        with self.lock:
            key = self.keys.get(header.get("kid"))
        if key is None:
            raise Failure("kid %s is not in the cached JWKS" % header.get("kid"))
        return pyjwt.decode(token, key=key.key, algorithms=[header["alg"]],
                            options={"require": ["exp", "iat"]})


class Traffic:
    """Mints a token every MINT_INTERVAL_S and verifies each one at once and again shortly
    before it expires, recording every failure."""

    def __init__(self, verifier):
        self.verifier = verifier
        self.stop = threading.Event()
        self.minted = queue.Queue()
        self.failures = []
        self.verified = 0
        self.rechecked = 0
        self.tokens = []          # (wall time minted, kid, token)
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._mint, daemon=True),
                        threading.Thread(target=self._verify, daemon=True)]

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)
        return False

    def fail(self, what):
        with self.lock:
            self.failures.append("%.3f %s" % (time.time(), what))

    def _mint(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            try:
                r = SRV.request("POST", "/v1/jwt/sign/" + KEYSET,
                                {"claims": {"sub": "zd-client", "n": n},
                                 "ttl": "%ds" % MAX_TOKEN_TTL_S})
                if r.status != 200:
                    self.fail("sign -> %d %r" % (r.status, r.body[:200]))
                else:
                    d = r.json["data"]
                    with self.lock:
                        self.tokens.append((time.time(), d["kid"], d["token"]))
                    self.minted.put((d["token"], d["expires_at"]))
            except OSError as e:
                self.fail("sign: %s" % e)
            self.stop.wait(MINT_INTERVAL_S)

    def _check(self, token, recheck):
        try:
            claims = self.verifier.verify(token)
            if claims.get("sub") != "zd-client":
                raise Failure("claims %r" % claims)
            with self.lock:
                self.verified += 1
                self.rechecked += recheck
        except (Failure, pyjwt.PyJWTError, OSError, ValueError, KeyError) as e:
            self.fail("%s kid %s: %s: %s" % ("recheck" if recheck else "check",
                                            kid_of(token), type(e).__name__, e))

    def _verify(self):
        later = []  # heap of (wall time to recheck, seq, token)
        seq = 0
        while True:
            now = time.time()
            while later and later[0][0] <= now:
                _, _, token = heapq.heappop(later)
                self._check(token, True)
            if self.stop.is_set() and self.minted.empty() and not later:
                return
            wait = 0.05 if not later else max(0.0, min(0.05, later[0][0] - time.time()))
            try:
                token, exp = self.minted.get(timeout=wait)
            except queue.Empty:
                continue
            self._check(token, False)
            seq += 1
            heapq.heappush(later, (exp - RECHECK_BEFORE_EXP_S, seq, token))


class JwtZeroDowntimeTest(unittest.TestCase):
    def test_caching_verifier_sees_no_failure_through_20_rotations(self):
        created = create_keyset(KEYSET, "ES256")
        self.assertTrue(created["created"])
        kid0 = created["active_kid"]
        # The secret the rotation config sits on starts with the keyset's public state, so the
        # first rotation's revoke removes the first key as well.
        api("POST", "/v1/secret/data/" + SECRET_PATH,
            {"data": {"name": KEYSET, "active_kid": kid0}})
        api("PUT", "/v1/rotation/config/" + SECRET_PATH,
            {"rotator": "jwt", "params": {"keyset": KEYSET}, "grace": GRACE}, expect=204)

        verifier = CachingVerifier(SRV.addr, KEYSET)
        first_token = None
        runs = []
        started_at = time.monotonic()
        with Traffic(verifier) as traffic:
            time.sleep(1.5)  # tokens signed before the first rotation
            with traffic.lock:
                first_token = traffic.tokens[0][2]
            SECRETS.track(first_token)
            for i in range(ROTATIONS):
                started = data(api("POST", "/v1/rotation/rotate/" + SECRET_PATH, {}))
                run = wait_done(SECRET_PATH, started["id"])
                self.assertEqual(run["outcome"], "succeeded", run)
                self.assertEqual([s["step"] for s in run["steps"]],
                                 ["create", "set", "test", "finish", "revoke"], run)
                value = data(api("GET", "/v1/secret/data/" + SECRET_PATH))["data"]
                self.assertEqual(value["name"], KEYSET)
                self.assertIn(value["active_kid"], value["published_kids"])
                runs.append((run, value))
            time.sleep(MAX_TOKEN_TTL_S + 1.0)  # tokens signed after the last rotation
        elapsed = time.monotonic() - started_at

        signers = []
        for _, kid, _ in traffic.tokens:
            if not signers or signers[-1] != kid:
                signers.append(kid)
        print("\njwt zero-downtime: %d rotations in %.1fs; %d tokens minted, %d verifications "
              "(%d re-checks near expiry), %d JWKS fetches (%d answered 304), %d signing keys, "
              "%d failures" % (ROTATIONS, elapsed, len(traffic.tokens), traffic.verified,
                               traffic.rechecked, verifier.fetches, verifier.not_modified,
                               len(set(signers)), len(traffic.failures)))
        self.assertEqual(traffic.failures, [], "verification failures")
        self.assertEqual(verifier.max_ages, {JWKS_CACHE_TTL_S})
        # Every rotation's key signed, in order, each one after the one before it.
        self.assertEqual(signers[0], kid0)
        self.assertEqual(signers[1:], [v["active_kid"] for _, v in runs])
        self.assertEqual(len(set(signers)), ROTATIONS + 1)
        self.assertGreater(traffic.rechecked, 500)
        # Each key was in a fetched JWKS at least a cache lifetime before it signed its first
        # token (the pre-publication period at work, seen from the verifier).
        first_signed = {}
        for t, kid, _ in traffic.tokens:
            first_signed.setdefault(kid, t)
        gaps = [first_signed[k] - verifier.first_seen[k] for k in signers[1:]]
        print("jwt zero-downtime: a key was in the verifier's JWKS %.2fs to %.2fs before its "
              "first token" % (min(gaps), max(gaps)))
        self.assertGreaterEqual(min(gaps), JWKS_CACHE_TTL_S - 0.3)

        # Old keys left the JWKS; a token signed by a removed key fails, for the server's
        # verifier and for a relying party with a fresh JWKS.
        r = http_request(SRV.addr, "GET", "/.well-known/jwks/%s.json" % KEYSET)
        jwks_kids = [k["kid"] for k in json.loads(r.body)["keys"]]
        self.assertNotIn(kid0, jwks_kids)
        self.assertLessEqual(len(jwks_kids), 2, jwks_kids)
        self.assertEqual(jwks_kids[-1], signers[-1])
        answer = server_verify(KEYSET, first_token)
        self.assertFalse(answer["valid"])
        self.assertIn("unknown kid", answer["error"])
        fresh = CachingVerifier(SRV.addr, KEYSET)
        with self.assertRaisesRegex(Failure, "not in the cached JWKS"):
            fresh.verify(first_token)

        keyset = data(api("GET", "/v1/jwt/keys/" + KEYSET))
        statuses = {k["kid"]: k["status"] for k in keyset["keys"]}
        self.assertEqual(statuses[signers[-1]], "active")
        self.assertEqual(statuses.get(kid0, "removed"), "removed")
        self.assertEqual(sum(1 for s in statuses.values() if s == "active"), 1)


class JwtInteropTest(unittest.TestCase):
    def test_each_algorithm_verifies_with_pyjwt_through_the_jwks(self):
        for alg in ("RS256", "ES256", "EdDSA"):
            name = "interop-" + alg.lower()
            create_keyset(name, alg, issuer="https://rekey.test")
            claim = SECRETS.new("claim")
            signed = sign(name, {"sub": "bob", "aud": "api", "secret_claim": claim})
            SECRETS.track(signed["token"])
            header = pyjwt.get_unverified_header(signed["token"])
            self.assertEqual(header, {"alg": alg, "kid": signed["kid"], "typ": "JWT"})
            jwks = json.loads(http_request(SRV.addr, "GET",
                                           "/.well-known/jwks/%s.json" % name).body)
            (jwk,) = jwks["keys"]
            self.assertEqual((jwk["alg"], jwk["use"], jwk["kid"]), (alg, "sig", signed["kid"]))
            self.assertNotIn("d", jwk)
            key = pyjwt.PyJWK.from_dict(jwk).key
            claims = pyjwt.decode(signed["token"], key=key, algorithms=[alg], audience="api",
                                  issuer="https://rekey.test")
            self.assertEqual(claims["secret_claim"], claim)
            self.assertEqual(claims["exp"] - claims["iat"], MAX_TOKEN_TTL_S)
            # A token PyJWT signs with another key under the same kid is refused by rekey.
            other = pyjwt.encode({"sub": "mallory", "exp": int(time.time()) + 60},
                                 _other_key(alg), algorithm=alg,
                                 headers={"kid": signed["kid"]})
            answer = server_verify(name, other)
            self.assertFalse(answer["valid"], alg)
            self.assertIn("signature", answer["error"])

    def test_jwks_cache_headers_etag_and_public_access(self):
        create_keyset("headers", "ES256")
        r = http_request(SRV.addr, "GET", "/.well-known/jwks/headers.json")  # no token
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("cache-control"), "public, max-age=%d" % JWKS_CACHE_TTL_S)
        self.assertTrue(r.header("content-type").startswith("application/json"))
        etag = r.header("etag")
        self.assertRegex(etag, r'^"[0-9a-f]{32}"$')
        again = http_request(SRV.addr, "GET", "/.well-known/jwks/headers.json",
                             headers={"If-None-Match": etag})
        self.assertEqual(again.status, 304)
        self.assertEqual(again.body, b"")
        head = http_request(SRV.addr, "HEAD", "/.well-known/jwks/headers.json")
        self.assertEqual(head.status, 200)
        self.assertEqual(http_request(SRV.addr, "GET", "/.well-known/jwks/missing.json").status,
                         404)
        # Everything else needs a token.
        self.assertEqual(SRV.request("POST", "/v1/jwt/sign/headers", {}, token=None).status, 403)
        self.assertEqual(SRV.request("GET", "/v1/jwt/keys/headers", token=None).status, 403)


def _other_key(alg):
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    return ed25519.Ed25519PrivateKey.generate()


if __name__ == "__main__":
    harness.main()
