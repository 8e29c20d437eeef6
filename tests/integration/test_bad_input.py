#!/usr/bin/python3
"""Bad requests, sent raw with http.client so nothing normalises them.

Every case must get its expected 4xx status, Content-Type exactly application/json and
{"errors":[msg, ...]} with a non-empty msg that mentions the offending thing.  Afterwards
the server must still be healthy, a secret written beforehand must read back intact, and
none of the bad requests may have created anything.

Run:  REKEY_BIN=build/src/app/rekey /usr/bin/python3 tests/integration/test_bad_input.py -v
"""

import http.client
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import RekeyServer, SecretTracker  # noqa: E402

MIB = 1024 * 1024
JSON_CT = {"Content-Type": "application/json"}
MERGE_CT = {"Content-Type": "application/merge-patch+json"}

# Words: at least one must occur (case-insensitively) in errors[0].  None = any non-empty message.
W_JSON = ("json", "parse", "malformed", "syntax")
W_PATH = ("path",)
W_VERSION = ("version",)
W_DATA = ("data",)
W_CAS = ("cas", "check-and-set")
W_SIZE = ("large", "size", "limit", "exceed", "body")
W_DENIED = ("permission denied",)
W_METHOD = ("method", "operation", "unsupported", "not allowed")

KEEP_PATH = "keep/intact"


def case(name, method, path, body=None, status=400, words=None, headers=None, token=True):
    """status: an int or a tuple of acceptable ints."""
    return dict(name=name, method=method, path=path, body=body,
                status=status if isinstance(status, tuple) else (status,),
                words=words, headers=headers if headers is not None else
                (JSON_CT if body is not None else {}), token=token)


def valid_write(value="x"):
    return json.dumps({"data": {"k": value}})


CASES = [
    # --- request bodies -------------------------------------------------------------
    case("malformed JSON", "POST", "/v1/secret/data/bad/json", '{"data": {"a": "b"', words=W_JSON),
    case("trailing garbage after JSON", "POST", "/v1/secret/data/bad/json2", '{"data":{}} xx', words=W_JSON),
    case("body not an object (array)", "POST", "/v1/secret/data/bad/arr", '[1, 2]',
         words=W_JSON + ("object", "body")),
    case("invalid UTF-8 in JSON", "POST", "/v1/secret/data/bad/utf8", b'{"data":{"k":"\xff\xfe"}}',
         words=W_JSON + ("utf",)),
    case("deeply nested JSON", "POST", "/v1/secret/data/bad/deep",
         '{"data":{"k":' + "[" * 100000 + "]" * 100000 + "}}", status=(400, 413),
         words=W_JSON + ("depth", "nest", "deep", "large")),
    case("empty body on write", "POST", "/v1/secret/data/bad/empty", "",
         words=W_DATA + ("body", "empty", "json")),
    case("data is a string", "POST", "/v1/secret/data/bad/type1", '{"data": "str"}', words=W_DATA),
    case("data is an array", "POST", "/v1/secret/data/bad/type2", '{"data": [1, 2]}', words=W_DATA),
    case("data is null", "POST", "/v1/secret/data/bad/type3", '{"data": null}', words=W_DATA),
    case("options is a string", "POST", "/v1/secret/data/bad/opt",
         '{"options": "x", "data": {"k": "v"}}', words=("options",)),
    case("options.cas is a non-numeric string", "POST", "/v1/secret/data/bad/cas1",
         '{"options": {"cas": "one"}, "data": {"k": "v"}}', words=W_CAS),
    case("options.cas is an object", "POST", "/v1/secret/data/bad/cas2",
         '{"options": {"cas": {}}, "data": {"k": "v"}}', words=W_CAS),
    case("options.cas is negative", "POST", "/v1/secret/data/bad/cas3",
         '{"options": {"cas": -1}, "data": {"k": "v"}}', words=W_CAS),
    case("versions is an object", "POST", "/v1/secret/delete/keep/intact",
         '{"versions": {"a": 1}}', words=W_VERSION),
    case("versions is a non-numeric string", "POST", "/v1/secret/destroy/keep/intact",
         '{"versions": "abc"}', words=W_VERSION),
    case("versions is an empty list", "POST", "/v1/secret/delete/keep/intact",
         '{"versions": []}', words=W_VERSION),
    case("versions missing", "POST", "/v1/secret/undelete/keep/intact", '{}', words=W_VERSION),
    case("versions has a negative number", "POST", "/v1/secret/destroy/keep/intact",
         '{"versions": [-1]}', words=W_VERSION),
    case("versions has a string element", "POST", "/v1/secret/delete/keep/intact",
         '{"versions": ["x"]}', words=W_VERSION),
    case("versions has a fraction", "POST", "/v1/secret/delete/keep/intact",
         '{"versions": [1.5]}', words=W_VERSION),
    case("metadata max_versions not a number", "POST", "/v1/secret/metadata/bad/meta1",
         '{"max_versions": "abc"}', words=("max_versions",)),
    case("metadata max_versions negative", "POST", "/v1/secret/metadata/bad/meta2",
         '{"max_versions": -3}', words=("max_versions",)),
    case("metadata delete_version_after not a duration", "POST", "/v1/secret/metadata/bad/meta3",
         '{"delete_version_after": "banana"}', words=("delete_version_after", "duration")),
    case("metadata custom_metadata not an object", "POST", "/v1/secret/metadata/bad/meta4",
         '{"custom_metadata": "x"}', words=("custom_metadata",)),
    case("config max_versions not a number", "POST", "/v1/secret/config",
         '{"max_versions": "many"}', words=("max_versions",)),
    case("PATCH with Content-Type application/json", "PATCH", "/v1/secret/data/keep/intact",
         '{"data": {"k": "v"}}', status=(400, 415), headers=JSON_CT,
         words=("content-type", "content type", "merge-patch", "media")),
    case("body over 1 MiB", "POST", "/v1/secret/data/bad/big",
         '{"data": {"k": "' + "A" * (MIB + 10) + '"}}', status=413, words=W_SIZE),
    # --- paths ----------------------------------------------------------------------
    case("'..' segment (read)", "GET", "/v1/secret/data/keep/../keep/intact", status=(400, 404), words=W_PATH),
    case("'..' segment (write)", "POST", "/v1/secret/data/bad/../escaped", valid_write(),
         status=(400, 404), words=W_PATH),
    case("'..' escaping the mount", "POST", "/v1/secret/data/../../sys/x", valid_write(),
         status=(400, 404), words=W_PATH),
    case("'%2e%2e' segment", "POST", "/v1/secret/data/bad/%2e%2e/escaped2", valid_write(),
         status=(400, 404), words=W_PATH),
    case("'%2E%2E' segment", "GET", "/v1/secret/data/keep/%2E%2E/keep/intact", status=(400, 404), words=W_PATH),
    case("'.' segment", "POST", "/v1/secret/data/bad/./dot", valid_write(), status=(400, 404), words=W_PATH),
    case("'%2e' segment", "GET", "/v1/secret/data/keep/%2e/intact", status=(400, 404), words=W_PATH),
    case("empty segment", "POST", "/v1/secret/data/bad//empty", valid_write(), status=(400, 404), words=W_PATH),
    case("trailing slash on data path (read)", "GET", "/v1/secret/data/keep/intact/", status=(400, 404), words=W_PATH),
    case("trailing slash on data path (write)", "POST", "/v1/secret/data/bad/trail/", valid_write(),
         status=(400, 404), words=W_PATH),
    case("empty secret path (write)", "POST", "/v1/secret/data/", valid_write(), status=(400, 404),
         words=W_PATH),
    case("NUL byte in path", "POST", "/v1/secret/data/bad/nul%00byte", valid_write(), status=(400, 404),
         words=W_PATH),
    # --- query parameters -------------------------------------------------------------
    case("version=abc", "GET", "/v1/secret/data/keep/intact?version=abc", words=W_VERSION),
    case("version=-1", "GET", "/v1/secret/data/keep/intact?version=-1", words=W_VERSION),
    case("version=1.5", "GET", "/v1/secret/data/keep/intact?version=1.5", words=W_VERSION),
    case("version huge", "GET", "/v1/secret/data/keep/intact?version=99999999999999999999999",
         status=(400, 404), words=None),
    case("subkeys depth=abc", "GET", "/v1/secret/subkeys/keep/intact?depth=abc", words=("depth",)),
    # --- routing ----------------------------------------------------------------------
    case("unknown endpoint under /v1/secret/", "GET", "/v1/secret/bogus/x", status=404),
    case("unknown mount", "GET", "/v1/nosuchmount/data/x", status=404),
    case("unknown top-level path", "GET", "/v2/secret/data/x", status=404),
    case("unsupported method DELETE on config", "DELETE", "/v1/secret/config", status=405, words=W_METHOD),
    case("unsupported method POST on subkeys", "POST", "/v1/secret/subkeys/keep/intact", valid_write(),
         status=405, words=W_METHOD),
    case("LIST on a data path", "LIST", "/v1/secret/data/keep", status=405, words=W_METHOD),
    case("GET ?list=true on a data path", "GET", "/v1/secret/data/keep?list=true", status=405,
         words=W_METHOD),
    case("bad list value", "GET", "/v1/secret/metadata/keep?list=maybe", status=400, words=("list",)),
    # --- auth -------------------------------------------------------------------------
    case("missing token", "GET", "/v1/secret/data/keep/intact", status=403, words=W_DENIED, token=None),
    case("missing token on write", "POST", "/v1/secret/data/bad/noauth", valid_write(), status=403,
         words=W_DENIED, token=None),
    case("bad token", "GET", "/v1/secret/data/keep/intact", status=403, words=W_DENIED,
         token="definitely-not-a-token"),
    case("empty token header", "GET", "/v1/secret/data/keep/intact", status=403, words=W_DENIED,
         token=""),
]


def send_raw(addr, method, path, body, headers, timeout=30.0):
    """Send a request byte-for-byte as given; tolerate the server closing early (413)."""
    host, port = addr.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        if isinstance(body, str):
            body = body.encode("utf-8")
        for k, v in headers.items():
            conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        send_error = None
        if body:
            try:
                for i in range(0, len(body), 64 * 1024):
                    conn.send(body[i:i + 64 * 1024])
            except (BrokenPipeError, ConnectionResetError) as e:
                send_error = e  # the server may answer and close before reading it all
        try:
            resp = conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError) as e:
            raise AssertionError("no response (send error: %r, read error: %r)" % (send_error, e))
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


class BadInput(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.secrets = SecretTracker()
        cls.srv = RekeyServer(name="badinput").__enter__()
        cls.keep_value = cls.secrets.new()
        r = cls.srv.request("POST", "/v1/secret/data/" + KEEP_PATH, {"data": {"k": cls.keep_value}})
        assert r.status == 200, "seed write failed: %r" % r
        cls.config_before = cls.srv.request("GET", "/v1/secret/config").json

    @classmethod
    def tearDownClass(cls):
        try:
            cls.secrets.check(cls.srv, label="test_bad_input")
        finally:
            cls.srv.__exit__(None, None, None)

    def test_1_bad_requests(self):
        failures = 0
        print()
        for c in CASES:
            with self.subTest(c["name"]):
                headers = dict(c["headers"])
                if c["token"] is True:
                    headers["X-Vault-Token"] = self.srv.token
                elif c["token"] is not None:
                    headers["X-Vault-Token"] = c["token"]
                try:
                    status, hdrs, body = send_raw(self.srv.addr, c["method"], c["path"],
                                                  c["body"], headers)
                except AssertionError as e:
                    print("  FAIL %-45s %s %s: %s" % (c["name"], c["method"], c["path"][:60], e))
                    failures += 1
                    raise
                try:
                    msg = self.check_error(c, status, hdrs, body)
                    print("  ok   %-45s %s %s -> %d %r" % (c["name"], c["method"], c["path"][:60],
                                                          status, msg[:70]))
                except AssertionError:
                    failures += 1
                    print("  FAIL %-45s %s %s -> %d %r" % (c["name"], c["method"], c["path"][:60],
                                                          status, body[:120]))
                    raise
                self.assertTrue(self.srv.alive(), "server died after case %r\n%s"
                                % (c["name"], self.srv.log_tail()))
        print("%d cases, %d failed" % (len(CASES), failures))

    def check_error(self, c, status, hdrs, body):
        self.assertIn(status, c["status"], "status %d, want one of %s; body %r"
                      % (status, c["status"], body[:200]))
        self.assertEqual(hdrs.get("content-type"), "application/json",
                         "error Content-Type must be exactly application/json")
        self.assertTrue(hdrs.get("x-request-id"), "no X-Request-Id")
        try:
            doc = json.loads(body)
        except ValueError:
            self.fail("error body is not JSON: %r" % body[:200])
        self.assertIsInstance(doc, dict)
        self.assertIsInstance(doc.get("errors"), list, "no errors list: %r" % doc)
        self.assertTrue(doc["errors"] and isinstance(doc["errors"][0], str) and doc["errors"][0].strip(),
                        "errors[0] must be a non-empty message: %r" % doc)
        msg = doc["errors"][0]
        if c["words"]:
            self.assertTrue(any(w.lower() in msg.lower() for w in c["words"]),
                            "errors[0]=%r should mention one of %s" % (msg, c["words"]))
        if status == 403:
            self.assertEqual(doc, {"errors": ["permission denied"]})
        return msg

    def test_2_still_alive_and_intact(self):
        r = self.srv.request("GET", "/v1/sys/health", token=None)
        self.assertEqual(r.status, 200, "health after bad input: %r" % r)
        r = self.srv.request("GET", "/v1/secret/data/" + KEEP_PATH)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["data"]["data"], {"k": self.keep_value})
        m = self.srv.request("GET", "/v1/secret/metadata/" + KEEP_PATH).json["data"]
        self.assertEqual(m["current_version"], 1, "no bad request may create a version")
        self.assertEqual(list(m["versions"]), ["1"])
        self.assertEqual(m["versions"]["1"]["deletion_time"], "", "bad delete must not delete")
        self.assertIs(m["versions"]["1"]["destroyed"], False, "bad destroy must not destroy")
        self.assertEqual(m["max_versions"], 0)
        r = self.srv.request("LIST", "/v1/secret/metadata/")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["data"]["keys"], ["keep/"],
                         "bad requests must not create anything (e.g. via '..' or '//')")
        cfg = self.srv.request("GET", "/v1/secret/config").json["data"]
        self.assertEqual(cfg, self.config_before["data"], "bad config write must not change the config")


if __name__ == "__main__":
    harness.main()
