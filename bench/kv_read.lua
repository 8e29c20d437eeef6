-- wrk script: rekey KV v2 read of one seeded secret.
--   GET /v1/secret/data/bench   with X-Vault-Token from $REKEY_TOKEN
-- A static request (no per-request Lua), so wrk's own overhead matches the plain nginx run.
-- Used by bench/kv_vs_nginx.sh; run alone with:
--   REKEY_TOKEN=... wrk -t1 -c64 -d10s --latency -s bench/kv_read.lua http://127.0.0.1:PORT
local token = os.getenv("REKEY_TOKEN") or "bench-root-token"
local path = os.getenv("BENCH_READ_PATH") or "/v1/secret/data/bench"

wrk.method = "GET"
wrk.path = path
wrk.headers["X-Vault-Token"] = token
