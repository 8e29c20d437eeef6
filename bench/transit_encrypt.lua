-- wrk script: rekey transit encrypt of 64-byte plaintexts, single or batch.
--   POST /v1/transit/encrypt/<key>   with X-Vault-Token from $REKEY_TOKEN
--   $BENCH_BATCH = 1 (default): {"plaintext":"<base64 of 64 bytes>"}
--   $BENCH_BATCH = N > 1:       {"batch_input":[{"plaintext":...} x N]}
-- A static request (the body is built once): the server draws a fresh nonce for every
-- encryption, so repeating the plaintext costs it exactly as much as new ones would.
-- Used by bench/transit_vs_nginx.sh; run alone with:
--   REKEY_TOKEN=... BENCH_BATCH=100 wrk -t1 -c64 -d10s --latency -s bench/transit_encrypt.lua \
--     http://127.0.0.1:PORT
local token = os.getenv("REKEY_TOKEN") or "bench-root-token"
local key = os.getenv("BENCH_TRANSIT_KEY") or "bench"
local batch = tonumber(os.getenv("BENCH_BATCH") or "1")
-- base64("rekey transit bench payload: 64 bytes of plaintext, fixed......."), 64 bytes.
local plaintext = os.getenv("BENCH_PLAINTEXT_B64") or
  "cmVrZXkgdHJhbnNpdCBiZW5jaCBwYXlsb2FkOiA2NCBieXRlcyBvZiBwbGFpbnRleHQsIGZpeGVkLi4uLi4uLg=="

local body
if batch <= 1 then
  body = '{"plaintext":"' .. plaintext .. '"}'
else
  local items = {}
  for i = 1, batch do items[i] = '{"plaintext":"' .. plaintext .. '"}' end
  body = '{"batch_input":[' .. table.concat(items, ",") .. ']}'
end

wrk.method = "POST"
wrk.path = "/v1/transit/encrypt/" .. key
wrk.headers["X-Vault-Token"] = token
wrk.headers["Content-Type"] = "application/json"
wrk.body = body
