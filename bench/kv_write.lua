-- wrk script: rekey KV v2 writes.
--   POST /v1/secret/data/bench-w<N>   with X-Vault-Token from $REKEY_TOKEN
-- N cycles through $BENCH_WRITE_PATHS paths (default 256): each path soon holds more than the
-- default max_versions (10) versions, so nearly every write also prunes the oldest version,
-- as a long-lived secret that is rotated often would.  Every body is unique (~140 bytes).
-- Used by bench/kv_vs_nginx.sh; run alone with:
--   REKEY_TOKEN=... wrk -t1 -c64 -d10s --latency -s bench/kv_write.lua http://127.0.0.1:PORT
local token = os.getenv("REKEY_TOKEN") or "bench-root-token"
local npaths = tonumber(os.getenv("BENCH_WRITE_PATHS") or "256")
local headers = {["X-Vault-Token"] = token, ["Content-Type"] = "application/json"}
local n = 0
local pad = string.rep("p", 64)

request = function()
  n = n + 1
  local path = "/v1/secret/data/bench-w" .. (n % npaths)
  local body = string.format('{"data":{"password":"bench-%010d-%s","user":"bench","n":%d}}', n, pad, n)
  return wrk.format("POST", path, headers, body)
end
