-- wrk script: rekey transit decrypt of ciphertexts of 64-byte plaintexts, single or batch.
--   POST /v1/transit/decrypt/<key>   with X-Vault-Token from $REKEY_TOKEN
--   $BENCH_CIPHERTEXT_FILE: ciphertexts made beforehand ("vault:v1:..."), one per line
--   $BENCH_BATCH = 1 (default): {"ciphertext":"<first line>"}
--   $BENCH_BATCH = N > 1:       {"batch_input":[{"ciphertext":...} x N]}, cycling the lines
-- A static request (the body is built once), as in bench/transit_encrypt.lua.
-- Used by bench/transit_vs_nginx.sh; run alone with:
--   REKEY_TOKEN=... BENCH_CIPHERTEXT_FILE=ct.txt BENCH_BATCH=100 \
--     wrk -t1 -c64 -d10s --latency -s bench/transit_decrypt.lua http://127.0.0.1:PORT
local token = os.getenv("REKEY_TOKEN") or "bench-root-token"
local key = os.getenv("BENCH_TRANSIT_KEY") or "bench"
local batch = tonumber(os.getenv("BENCH_BATCH") or "1")
local path = os.getenv("BENCH_CIPHERTEXT_FILE")
assert(path, "BENCH_CIPHERTEXT_FILE is not set")

local cts = {}
for line in io.lines(path) do
  if line ~= "" then cts[#cts + 1] = line end
end
assert(#cts > 0, "no ciphertexts in " .. path)

local body
if batch <= 1 then
  body = '{"ciphertext":"' .. cts[1] .. '"}'
else
  local items = {}
  for i = 1, batch do items[i] = '{"ciphertext":"' .. cts[(i - 1) % #cts + 1] .. '"}' end
  body = '{"batch_input":[' .. table.concat(items, ",") .. ']}'
end

wrk.method = "POST"
wrk.path = "/v1/transit/decrypt/" .. key
wrk.headers["X-Vault-Token"] = token
wrk.headers["Content-Type"] = "application/json"
wrk.body = body
