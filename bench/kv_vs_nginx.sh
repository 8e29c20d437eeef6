#!/usr/bin/env bash
# bench/kv_vs_nginx.sh: rekey KV v2 reads and writes against nginx and the raw fsync rate.
#
# Usage:
#   bench/kv_vs_nginx.sh [options] REKEY_BIN        (REKEY_BIN: a Release build of rekey)
#   bench/kv_vs_nginx.sh --nginx-only               (just the nginx baseline; no rekey needed)
# Options:
#   --strict          exit 1 if any target is missed (default: report FAIL, exit 0)
#   --duration SECS   wrk duration per run (default 10)
#   --warmup SECS     unreported wrk warm-up before each run (default 1; 0 = none)
#   --fsync-secs SECS duration of the fsync-rate probe (default 5)
#   --pin             pin the server under test to CPU 1 and wrk to CPU 0 (needs >= 2 CPUs)
#   --keep            keep the temp dir (configs, logs, data) and print its path
#   --nginx-only      skip fsync and rekey; run only the nginx baseline
#
# What it does (loopback only, every process started here is stopped on exit):
#   1. fsync rate: bench/fsync_rate.py appends 200 B + os.fsync in one thread for 5 s, in the
#      temp dir that also holds rekey's data dir (same filesystem).
#      Then, for information, bench/sqlite_commit_rate.py: raw SQLite with rekey's schema and
#      pragmas committing one KV write's records per transaction (no group commit), 5 s.
#   2. nginx (Debian nginx-light, /usr/sbin/nginx) with its own config in the temp dir:
#      worker_processes 1, daemon off, access_log off, keepalive_requests 1000000 (so nginx
#      is not slowed by reconnects), listen 127.0.0.1:<free port>, serving a 200-byte file.
#   3. rekey server --dev on 127.0.0.1:0 (--addr-file) with a temp data dir; one secret
#      seeded at secret/bench.
#   4. wrk (/usr/bin/wrk) with identical settings: -t1 -c64 -d<duration>s --latency against
#        a. nginx:     GET /file.json (200 bytes)
#        b. rekey read:  GET /v1/secret/data/bench + X-Vault-Token        (bench/kv_read.lua)
#        c. rekey write: POST /v1/secret/data/bench-w<N>, N cycling over 256 paths, so each
#           path exceeds max_versions=10 and writes prune old versions   (bench/kv_write.lua)
#        d. rekey AWS GetSecretValue of the same secret, SigV4-signed (bench/aws_get_lua.py
#           signs one request with botocore; the server verifies it on every request)
#        e. rekey read again with a file audit device enabled (fsync interval)
#   5. A table of req/s, p50, p99 and PASS/FAIL against the targets:
#        reads  >= 40% of nginx req/s, and read p99 < 5 ms
#        writes >= 3x the single-writer fsync rate (i.e. group commit works)
#        AWS GetSecretValue >= 60% of the KV read rate
#        reads with audit on >= 85% of reads without
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
NGINX=/usr/sbin/nginx
WRK=/usr/bin/wrk
TOKEN="bench-root-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
AWS_KEY=AKIAREKEYBENCH000000
AWS_SECRET="bench-aws-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"

strict=0 duration=10 warmup=1 fsync_secs=5 pin=0 keep=0 nginx_only=0 rekey_bin=""
while [ $# -gt 0 ]; do
  case "$1" in
    --strict) strict=1 ;;
    --duration) duration=${2:?}; shift ;;
    --warmup) warmup=${2:?}; shift ;;
    --fsync-secs) fsync_secs=${2:?}; shift ;;
    --pin) pin=1 ;;
    --keep) keep=1 ;;
    --nginx-only) nginx_only=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "kv_vs_nginx: unknown option $1" >&2; exit 2 ;;
    *) rekey_bin=$1 ;;
  esac
  shift
done
if [ "$nginx_only" -eq 0 ]; then
  [ -n "$rekey_bin" ] || { echo "usage: $0 [options] REKEY_BIN   (or --nginx-only)" >&2; exit 2; }
  [ -x "$rekey_bin" ] || { echo "kv_vs_nginx: $rekey_bin is not executable" >&2; exit 2; }
  rekey_bin=$(cd "$(dirname "$rekey_bin")" && pwd)/$(basename "$rekey_bin")
fi
for t in "$PY" "$NGINX" "$WRK" curl; do
  command -v "$t" >/dev/null || { echo "kv_vs_nginx: $t not found (scripts/install-deps bench)" >&2; exit 2; }
done

. "$here/lib.sh"
bench_init kv_vs_nginx

echo "kv_vs_nginx: $(nproc) CPUs, wrk -t1 -c64 -d${duration}s --latency, nginx worker_processes 1," \
     "pinning $([ ${#server_cpu[@]} -gt 0 ] && echo 'server=CPU1 wrk=CPU0' || echo off), temp dir $tmp" >&2

# --- 1. fsync rate on the data dir's filesystem ---------------------------------------------
fsync_rate=""
sqlite_rate=""
if [ "$nginx_only" -eq 0 ]; then
  mkdir -p "$tmp/fsync"
  "$PY" "$here/fsync_rate.py" --dir "$tmp/fsync" --seconds "$fsync_secs" --size 200 | tee "$tmp/fsync.txt" >&2
  fsync_rate=$(sed -n 's/^FSYNC_PER_SEC=//p' "$tmp/fsync.txt")
  # Informational: raw SQLite, one KV write's records per transaction, same filesystem.
  "$PY" "$here/sqlite_commit_rate.py" --dir "$tmp/fsync" --seconds "$fsync_secs" \
    | tee "$tmp/sqlite.txt" >&2
  sqlite_rate=$(sed -n 's/^SQLITE_COMMITS_PER_SEC=//p' "$tmp/sqlite.txt")
fi

# --- 2. nginx baseline ---------------------------------------------------------------------
nginx_baseline

# --- 3. rekey -------------------------------------------------------------------------------
if [ "$nginx_only" -eq 0 ]; then
  "${server_cpu[@]}" "$rekey_bin" server --dev --listen 127.0.0.1:0 --data-dir "$tmp/rekey-data" \
      --dev-root-token "$TOKEN" --addr-file "$tmp/rekey.addr" --dev-aws-key "$AWS_KEY:$AWS_SECRET" \
      >"$tmp/rekey.stdout" 2>"$tmp/rekey.log" &
  rekey_pid=$!
  for _ in $(seq 1 200); do [ -s "$tmp/rekey.addr" ] && break; kill -0 "$rekey_pid" || break; sleep 0.1; done
  addr=$(tr -d ' \n' < "$tmp/rekey.addr" 2>/dev/null | sed 's#^http://##' || true)
  [ -n "$addr" ] && wait_http_200 "http://$addr/v1/sys/health" || {
    echo "kv_vs_nginx: rekey did not come up" >&2; tail -30 "$tmp/rekey.log" >&2; exit 1; }
  code=$(curl -s -o "$tmp/seed.json" -w '%{http_code}' -X POST -H "X-Vault-Token: $TOKEN" \
         -H 'Content-Type: application/json' \
         -d '{"data":{"username":"bench","password":"bench-secret-0123456789abcdef0123456789"}}' \
         "http://$addr/v1/secret/data/bench")
  [ "$code" = 200 ] || { echo "kv_vs_nginx: seeding secret/bench failed: HTTP $code $(cat "$tmp/seed.json")" >&2; exit 1; }
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Vault-Token: $TOKEN" "http://$addr/v1/secret/data/bench")
  [ "$code" = 200 ] || { echo "kv_vs_nginx: reading secret/bench failed: HTTP $code" >&2; exit 1; }
  export REKEY_TOKEN=$TOKEN BENCH_WRITE_PATHS=256
  run_wrk read "http://$addr" "$here/kv_read.lua"
  run_wrk write "http://$addr" "$here/kv_write.lua"
  "$PY" "$here/aws_get_lua.py" "http://$addr" "$AWS_KEY" "$AWS_SECRET" bench "$tmp/aws_get.lua"
  run_wrk aws_get "http://$addr" "$tmp/aws_get.lua"
  # The same reads with an audit file device enabled (every request and response recorded,
  # fsync at most once a second): the cost of auditing, measured in the same run.
  code=$(curl -s -o "$tmp/audit.json" -w '%{http_code}' -X PUT -H "X-Vault-Token: $TOKEN" \
         -H 'Content-Type: application/json' \
         -d "{\"type\":\"file\",\"options\":{\"file_path\":\"$tmp/audit.log\",\"fsync\":\"interval\"}}" \
         "http://$addr/v1/sys/audit/bench")
  [ "$code" = 204 ] || { echo "kv_vs_nginx: enabling the audit device failed: HTTP $code $(cat "$tmp/audit.json")" >&2; exit 1; }
  run_wrk read_audited "http://$addr" "$here/kv_read.lua"
  echo "kv_vs_nginx: audit file $(wc -l < "$tmp/audit.log") lines" >&2
  kill -TERM "$rekey_pid"; wait "$rekey_pid" 2>/dev/null || true; rekey_pid=""
fi

# --- 4. report ------------------------------------------------------------------------------
BENCH_DIR="$here" "$PY" - "$tmp" "${fsync_rate:-}" "$strict" "$duration" "${sqlite_rate:-}" <<'PYEOF'
import os, re, sys

tmp, fsync_rate, strict, duration = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4]
sqlite_rate = sys.argv[5] if len(sys.argv) > 5 else ""
sys.path.insert(0, os.environ["BENCH_DIR"])
from wrk_output import parse_wrk  # noqa: E402


def parse(name):
    return parse_wrk(tmp, name)


rows = [("nginx GET 200 B file", parse("nginx")),
        ("rekey KV v2 read", parse("read")),
        ("rekey KV v2 write (256 paths)", parse("write")),
        ("rekey KV v2 read, audit on", parse("read_audited")),
        ("rekey AWS GetSecretValue (SigV4)", parse("aws_get"))]
print()
print("%-32s %12s %10s %10s  %s" % ("wrk -t1 -c64 -d%ss" % duration, "requests/s", "p50 ms", "p99 ms", "errors"))
for label, r in rows:
    if r:
        errs = []
        if r["non2xx"]:
            errs.append("%d non-2xx" % r["non2xx"])
        if r["sock"]:
            errs.append("socket " + r["sock"])
        print("%-32s %12.1f %10.3f %10.3f  %s" % (label, r["rps"], r["p50"], r["p99"], ", ".join(errs) or "-"))
if fsync_rate:
    print("%-32s %12.1f %10s %10s  %s" % ("fsync, 1 writer, 200 B appends", float(fsync_rate), "", "", "fsyncs/s"))
if sqlite_rate:
    print("%-32s %12.1f %10s %10s  %s" % ("raw SQLite, 1 write per commit", float(sqlite_rate), "", "", "commits/s"))

nginx, read, write, audited, aws_get = (r for _, r in rows)
results = []
if read and nginx and nginx["rps"] > 0:
    ratio = read["rps"] / nginx["rps"]
    results.append(("read req/s >= 40%% of nginx: %.1f%%" % (ratio * 100), ratio >= 0.40 and read["non2xx"] == 0))
    results.append(("read p99 < 5 ms: %.3f ms" % read["p99"], read["p99"] < 5.0))
if write and fsync_rate and float(fsync_rate) > 0:
    ratio = write["rps"] / float(fsync_rate)
    results.append(("write req/s >= 3x fsync rate: %.2fx" % ratio, ratio >= 3.0 and write["non2xx"] == 0))
if write and sqlite_rate and float(sqlite_rate) > 0:
    print("info: write req/s / raw SQLite single-write commit rate: %.2fx" % (write["rps"] / float(sqlite_rate)))
if audited and read and read["rps"] > 0:
    ratio = audited["rps"] / read["rps"]
    results.append(("read req/s with audit >= 85%% of without: %.1f%%" % (ratio * 100),
                    ratio >= 0.85 and audited["non2xx"] == 0))
if aws_get and read and read["rps"] > 0:
    ratio = aws_get["rps"] / read["rps"]
    results.append(("AWS GetSecretValue req/s >= 60%% of KV read: %.1f%%" % (ratio * 100),
                    ratio >= 0.60 and aws_get["non2xx"] == 0))
    if nginx and nginx["rps"] > 0:
        print("info: AWS GetSecretValue req/s / nginx: %.1f%%" % (aws_get["rps"] / nginx["rps"] * 100))
for r in (read, write, audited, aws_get):
    if r and r["non2xx"]:
        print("note: non-2xx responses make that row invalid (FAIL)")
print()
for text, ok in results:
    print("%-4s %s" % ("PASS" if ok else "FAIL", text))
failed = any(not ok for _, ok in results)
if not results:
    print("(nginx only: no targets to check)")
print("overall: %s%s" % ("FAIL" if failed else "PASS", "" if strict or not failed else " (not --strict: exit 0)"))
sys.exit(1 if (failed and strict) else 0)
PYEOF
