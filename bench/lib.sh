# Shared by the bench/*_vs_nginx.sh scripts (sourced, not run). Expects, set by the script:
#   PY WRK (tools), keep pin duration warmup (options), and $1 of bench_init: the script's name.
# Provides: tmp (a temp dir, removed on exit unless --keep), nginx_pid/rekey_pid (stopped on
# exit), server_cpu/wrk_cpu (taskset prefixes with --pin), free_port, wait_http_200, run_wrk.

bench_init() {  # script-name
  bench_name=$1
  tmp=$(mktemp -d /tmp/rekey-bench.XXXXXX)
  nginx_pid="" rekey_pid=""
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
  server_cpu=() wrk_cpu=()
  if [ "$pin" -eq 1 ]; then
    if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
      server_cpu=(taskset -c 1) wrk_cpu=(taskset -c 0)
    else
      echo "$bench_name: --pin needs 2 CPUs and taskset; running unpinned" >&2
    fi
  fi
}

# Stops every process the script started and removes the temp dir (unless --keep).
bench_cleanup() {
  local rc=$?
  for pid in $rekey_pid $nginx_pid; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  if [ "$keep" -eq 1 ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
  exit $rc
}

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_http_200() {  # url [curl args...]
  local url=$1; shift
  for _ in $(seq 1 200); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$@" "$url" || true)" = 200 ]; then return 0; fi
    sleep 0.1
  done
  return 1
}

run_wrk() {  # name url [lua script]  -> $tmp/wrk-<name>.txt
  local name=$1 url=$2 script=${3:-}
  local args=(-t1 -c64 -d"${duration}s" --latency)
  [ -n "$script" ] && args+=(-s "$script")
  if [ "$warmup" != 0 ]; then
    timeout $((warmup + 30)) "${wrk_cpu[@]}" "$WRK" -t1 -c64 -d"${warmup}s" ${script:+-s "$script"} "$url" >/dev/null
  fi
  echo "== wrk ${args[*]} $url" >&2
  timeout $((duration + 30)) "${wrk_cpu[@]}" "$WRK" "${args[@]}" "$url" | tee "$tmp/wrk-$name.txt" >&2
}
