#!/usr/bin/env bash
# bench/transit_vs_nginx.sh: rekey transit encrypt/decrypt against nginx and raw OpenSSL AES-GCM.
#
# Usage:
#   bench/transit_vs_nginx.sh [options] REKEY_BIN     (REKEY_BIN: a Release build of rekey)
# Options:
#   --strict            exit 1 if any target is missed (default: report FAIL, exit 0)
#   --duration SECS     wrk duration per run (default 10)
#   --warmup SECS       unreported wrk warm-up before each run (default 1; 0 = none)
#   --openssl-secs SECS seconds per block size of `openssl speed` (default 3)
#   --pin               pin the server under test to CPU 1 and wrk to CPU 0 (needs >= 2 CPUs)
#   --keep              keep the temp dir (configs, logs, wrk outputs) and print its path
#
# What it does (loopback only, every process started here is stopped on exit):
#   1. `uptime` (the load average says whether the machine was busy), then
#      `openssl speed -evp aes-256-gcm -seconds 3`: one thread's AES-256-GCM bytes/s, of which
#      the 16384-byte column is the reference (and the 64-byte column is shown for information).
#   2. nginx (Debian nginx-light) with the same config as bench/kv_vs_nginx.sh: worker_processes
#      1, daemon off, access_log off, keepalive_requests 1000000, serving a 200-byte file.
#   3. rekey server --dev on 127.0.0.1:0 (--addr-file) with a temp data dir and a root token;
#      a transit key created with POST /v1/transit/keys/bench (aes256-gcm96); one batch of 100
#      ciphertexts of the 64-byte plaintext made with curl for the decrypt runs.
#   4. wrk (/usr/bin/wrk) with identical settings: -t1 -c64 -d<duration>s --latency against
#        a. nginx:           GET /file.json (200 bytes)
#        b. encrypt single:  POST /v1/transit/encrypt/bench, one 64-byte plaintext
#                            (bench/transit_encrypt.lua)
#        c. decrypt single:  POST /v1/transit/decrypt/bench, one ciphertext
#                            (bench/transit_decrypt.lua)
#        d. encrypt batch:   batch_input of 100 x 64-byte plaintexts (BENCH_BATCH=100)
#        e. decrypt batch:   batch_input of 100 ciphertexts
#        f. for information: encrypt single of one 16 KiB plaintext, and a batch of 40 x 16 KiB
#           (what fits the default 1 MiB body limit): the payload throughput at openssl's
#           record size (no target of its own; see docs/performance.md)
#   5. A table of req/s, payload bytes/s, p50, p99 and PASS/FAIL against the targets (issue 6):
#        single encrypt req/s >= 35% of nginx req/s
#        batch encrypt payload bytes/s (req/s x 100 x 64) >= 20% of openssl's 16 KiB bytes/s
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
NGINX=/usr/sbin/nginx
WRK=/usr/bin/wrk
OPENSSL=openssl
TOKEN="bench-root-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
BATCH=100
PAYLOAD=64
# Batch of 16 KiB plaintexts: as many as fit the default 1 MiB request limit once base64'd.
BIG_BATCH=40
# base64 of the 64-byte plaintext (the same constant as bench/transit_encrypt.lua's default).
PLAINTEXT_B64=cmVrZXkgdHJhbnNpdCBiZW5jaCBwYXlsb2FkOiA2NCBieXRlcyBvZiBwbGFpbnRleHQsIGZpeGVkLi4uLi4uLg==

strict=0 duration=10 warmup=1 openssl_secs=3 pin=0 keep=0 rekey_bin=""
while [ $# -gt 0 ]; do
  case "$1" in
    --strict) strict=1 ;;
    --duration) duration=${2:?}; shift ;;
    --warmup) warmup=${2:?}; shift ;;
    --openssl-secs) openssl_secs=${2:?}; shift ;;
    --pin) pin=1 ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "transit_vs_nginx: unknown option $1" >&2; exit 2 ;;
    *) rekey_bin=$1 ;;
  esac
  shift
done
[ -n "$rekey_bin" ] || { echo "usage: $0 [options] REKEY_BIN" >&2; exit 2; }
[ -x "$rekey_bin" ] || { echo "transit_vs_nginx: $rekey_bin is not executable" >&2; exit 2; }
rekey_bin=$(cd "$(dirname "$rekey_bin")" && pwd)/$(basename "$rekey_bin")
for t in "$PY" "$NGINX" "$WRK" "$OPENSSL" curl; do
  command -v "$t" >/dev/null || { echo "transit_vs_nginx: $t not found (scripts/install-deps bench)" >&2; exit 2; }
done

. "$here/lib.sh"
bench_init transit_vs_nginx

echo "transit_vs_nginx: $(nproc) CPUs, wrk -t1 -c64 -d${duration}s --latency, nginx worker_processes 1," \
     "pinning $([ ${#server_cpu[@]} -gt 0 ] && echo 'server=CPU1 wrk=CPU0' || echo off), temp dir $tmp" >&2
uptime | tee "$tmp/uptime-start.txt" >&2

# --- 1. raw OpenSSL AES-256-GCM, one thread -------------------------------------------------
echo "== $OPENSSL speed -evp aes-256-gcm -seconds $openssl_secs" >&2
"${server_cpu[@]}" "$OPENSSL" speed -evp aes-256-gcm -seconds "$openssl_secs" 2>"$tmp/openssl.err" \
  | tee "$tmp/openssl.txt" >&2

# --- 2. nginx baseline (same config as bench/kv_vs_nginx.sh) ---------------------------------
nginx_baseline

# --- 3. rekey transit -----------------------------------------------------------------------
"${server_cpu[@]}" "$rekey_bin" server --dev --listen 127.0.0.1:0 --data-dir "$tmp/rekey-data" \
    --dev-root-token "$TOKEN" --addr-file "$tmp/rekey.addr" \
    >"$tmp/rekey.stdout" 2>"$tmp/rekey.log" &
rekey_pid=$!
for _ in $(seq 1 200); do [ -s "$tmp/rekey.addr" ] && break; kill -0 "$rekey_pid" || break; sleep 0.1; done
addr=$(tr -d ' \n' < "$tmp/rekey.addr" 2>/dev/null | sed 's#^http://##' || true)
[ -n "$addr" ] && wait_http_200 "http://$addr/v1/sys/health" || {
  echo "transit_vs_nginx: rekey did not come up" >&2; tail -30 "$tmp/rekey.log" >&2; exit 1; }
rpost() {  # path body out -> http code
  curl -s -o "$3" -w '%{http_code}' -X POST -H "X-Vault-Token: $TOKEN" \
       -H 'Content-Type: application/json' -d "$2" "http://$addr$1"
}
code=$(rpost /v1/transit/keys/bench '{"type":"aes256-gcm96"}' "$tmp/key.json")
[ "$code" = 200 ] || [ "$code" = 204 ] || {
  echo "transit_vs_nginx: creating transit key bench failed: HTTP $code $(cat "$tmp/key.json")" >&2; exit 1; }
# One batch of ciphertexts for the decrypt runs (and a check that batch encrypt works).
batch_body=$("$PY" -c 'import sys; n=int(sys.argv[1]); p=sys.argv[2]
print("{\"batch_input\":[" + ",".join("{\"plaintext\":\"%s\"}" % p for _ in range(n)) + "]}")' \
  "$BATCH" "$PLAINTEXT_B64")
code=$(rpost /v1/transit/encrypt/bench "$batch_body" "$tmp/enc.json")
[ "$code" = 200 ] || { echo "transit_vs_nginx: batch encrypt failed: HTTP $code $(head -c 300 "$tmp/enc.json")" >&2; exit 1; }
"$PY" - "$tmp/enc.json" "$tmp/ciphertexts.txt" "$BATCH" <<'PYEOF'
import json, sys
res = json.load(open(sys.argv[1]))["data"]["batch_results"]
cts = [r["ciphertext"] for r in res if r.get("ciphertext")]
if len(cts) != int(sys.argv[3]) or not all(c.startswith("vault:v1:") for c in cts):
    sys.exit("transit_vs_nginx: unexpected batch encrypt response")
open(sys.argv[2], "w").write("\n".join(cts) + "\n")
PYEOF
# Check a decrypt round trip before measuring it.
code=$(rpost /v1/transit/decrypt/bench "{\"ciphertext\":\"$(head -1 "$tmp/ciphertexts.txt")\"}" "$tmp/dec.json")
[ "$code" = 200 ] && grep -q "\"plaintext\":\"$PLAINTEXT_B64\"" "$tmp/dec.json" || {
  echo "transit_vs_nginx: decrypt round trip failed: HTTP $code" >&2; exit 1; }

export REKEY_TOKEN=$TOKEN BENCH_TRANSIT_KEY=bench BENCH_PLAINTEXT_B64=$PLAINTEXT_B64
export BENCH_CIPHERTEXT_FILE=$tmp/ciphertexts.txt
BENCH_BATCH=1 run_wrk enc1 "http://$addr" "$here/transit_encrypt.lua"
BENCH_BATCH=1 run_wrk dec1 "http://$addr" "$here/transit_decrypt.lua"
BENCH_BATCH=$BATCH run_wrk encN "http://$addr" "$here/transit_encrypt.lua"
BENCH_BATCH=$BATCH run_wrk decN "http://$addr" "$here/transit_decrypt.lua"
big_b64=$(head -c 16384 /dev/urandom | base64 -w0)
BENCH_BATCH=1 BENCH_PLAINTEXT_B64=$big_b64 run_wrk enc16k "http://$addr" "$here/transit_encrypt.lua"
BENCH_BATCH=$BIG_BATCH BENCH_PLAINTEXT_B64=$big_b64 \
  run_wrk enc16kN "http://$addr" "$here/transit_encrypt.lua"
kill -TERM "$rekey_pid"; wait "$rekey_pid" 2>/dev/null || true; rekey_pid=""
uptime | tee "$tmp/uptime-end.txt" >&2

# --- 4. report ------------------------------------------------------------------------------
BENCH_DIR="$here" "$PY" - "$tmp" "$strict" "$duration" "$BATCH" "$PAYLOAD" "$BIG_BATCH" <<'PYEOF'
import os, re, sys

tmp, strict, duration = sys.argv[1], sys.argv[2] == "1", sys.argv[3]
batch, payload, big_batch = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
sys.path.insert(0, os.environ["BENCH_DIR"])
from wrk_output import parse_wrk  # noqa: E402


def parse(name):
    return parse_wrk(tmp, name)


def openssl_columns():
    # Last table of `openssl speed`: "type 16 bytes 64 bytes ... 16384 bytes", then a row
    # "AES-256-GCM  123.45k ..." in 1000s of bytes per second.
    text = open(os.path.join(tmp, "openssl.txt")).read()
    head = re.search(r"^type\s+(.*bytes)\s*$", text, re.M)
    row = re.search(r"^aes-256-gcm\s+(.*)$", text, re.M | re.I)
    if not head or not row:
        return {}
    sizes = [int(s) for s in re.findall(r"(\d+) bytes", head.group(1))]
    vals = [float(v) * 1000 for v in re.findall(r"([\d.]+)k", row.group(1))]
    return dict(zip(sizes, vals))

def load(name):
    try:
        m = re.search(r"load average:\s*(.*)$", open(os.path.join(tmp, name)).read())
        return m.group(1).strip() if m else "?"
    except OSError:
        return "?"

nginx, enc1, dec1, encN, decN, enc16k, enc16kN = (
    parse(n) for n in ("nginx", "enc1", "dec1", "encN", "decN", "enc16k", "enc16kN"))
ossl = openssl_columns()
rows = [("nginx GET 200 B file", nginx, 0),
        ("transit encrypt, 1 x 64 B", enc1, 1),
        ("transit decrypt, 1 x 64 B", dec1, 1),
        ("transit encrypt, batch %d x 64 B" % batch, encN, batch),
        ("transit decrypt, batch %d x 64 B" % batch, decN, batch),
        ("transit encrypt, 1 x 16 KiB (info)", enc16k, 16384 // payload),
        ("transit encrypt, %d x 16 KiB (info)" % big_batch, enc16kN, big_batch * 16384 // payload)]
print()
print("%-34s %12s %14s %9s %9s  %s" % ("wrk -t1 -c64 -d%ss" % duration, "requests/s", "payload MB/s",
                                        "p50 ms", "p99 ms", "errors"))
for label, r, n in rows:
    if r:
        errs = []
        if r["non2xx"]:
            errs.append("%d non-2xx" % r["non2xx"])
        if r["sock"]:
            errs.append("socket " + r["sock"])
        mbs = "%.2f" % (r["rps"] * n * payload / 1e6) if n else ""
        print("%-34s %12.1f %14s %9.3f %9.3f  %s" % (label, r["rps"], mbs, r["p50"], r["p99"],
                                                    ", ".join(errs) or "-"))
for size in (64, 16384):
    if size in ossl:
        print("%-34s %12s %14.2f %9s %9s  %s" % ("openssl aes-256-gcm, %d B records" % size, "",
                                                ossl[size] / 1e6, "", "", "1 thread"))
print("load average: start %s; end %s" % (load("uptime-start.txt"), load("uptime-end.txt")))

results = []
if enc1 and nginx and nginx["rps"] > 0:
    ratio = enc1["rps"] / nginx["rps"]
    results.append(("single encrypt req/s >= 35%% of nginx: %.1f%%" % (ratio * 100),
                    ratio >= 0.35 and enc1["non2xx"] == 0))
if encN and 16384 in ossl and ossl[16384] > 0:
    ratio = encN["rps"] * batch * payload / ossl[16384]
    results.append(("batch encrypt payload bytes/s >= 20%% of openssl 16 KiB: %.1f%%" % (ratio * 100),
                    ratio >= 0.20 and encN["non2xx"] == 0))
elif encN:
    results.append(("openssl speed output not parsed", False))
if dec1 and nginx and nginx["rps"] > 0:
    print("info: single decrypt req/s / nginx: %.1f%%" % (dec1["rps"] / nginx["rps"] * 100))
if decN and 16384 in ossl and ossl[16384] > 0:
    print("info: batch decrypt payload bytes/s / openssl 16 KiB: %.1f%%"
          % (decN["rps"] * batch * payload / ossl[16384] * 100))
if enc16k and 16384 in ossl and ossl[16384] > 0:
    print("info: single 16 KiB encrypt payload bytes/s / openssl 16 KiB: %.1f%%"
          % (enc16k["rps"] * 16384 / ossl[16384] * 100))
if enc16kN and 16384 in ossl and ossl[16384] > 0:
    print("info: batch %d x 16 KiB encrypt payload bytes/s / openssl 16 KiB: %.1f%%"
          % (big_batch, enc16kN["rps"] * big_batch * 16384 / ossl[16384] * 100))
if encN and 64 in ossl and ossl[64] > 0:
    print("info: batch encrypt payload bytes/s / openssl 64 B records: %.1f%%"
          % (encN["rps"] * batch * payload / ossl[64] * 100))
for r in (enc1, dec1, encN, decN, enc16k, enc16kN):
    if r and r["non2xx"]:
        print("note: non-2xx responses make that row invalid (FAIL)")
        results.append(("non-2xx responses", False))
        break
print()
for text, ok in results:
    print("%-4s %s" % ("PASS" if ok else "FAIL", text))
failed = any(not ok for _, ok in results) or not results
print("overall: %s%s" % ("FAIL" if failed else "PASS", "" if strict or not failed else " (not --strict: exit 0)"))
sys.exit(1 if (failed and strict) else 0)
PYEOF
