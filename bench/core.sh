#!/usr/bin/env bash
# Benchmarks of the gateway core (issue: gateway core), each next to its physical limit measured
# in the same run: nginx serving the same bytes, raw OpenSSH over a multiplexed connection.
# usage: bench/core.sh [SECONDS]   (the site must be up: site/site up; run as root)
# Prints a Markdown report on stdout; docs/benchmarks.md keeps the latest one.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
DURATION=${1:-10}
WORK=$(mktemp -d /tmp/portico-bench.XXXXXX)
chmod 755 "$WORK"  # nginx's workers read the served file as an unprivileged user
trap 'kill $(jobs -p) 2>/dev/null || true; [ -n "${NGINX_PID:-}" ] && kill "$NGINX_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
. "$(dirname "$0")/nginx.sh"

command -v wrk >/dev/null || { echo "bench: wrk is missing (scripts/install-deps)" >&2; exit 1; }
[ -f var/site/site.json ] || { echo "bench: the site is not up (site/site up)" >&2; exit 1; }
cmake --build build -j"$(nproc)" --target portico >/dev/null

PORT=18080; NGINX_PORT=18081
SERVER_CPU=0; CLIENT_CPU=1   # the server gets one core, the load generator the other
site/gateway-config "$WORK/portico.yaml" "$PORT" >/dev/null
sed -i 's/^  api_root: \//  api_root: \/\n  threads: 1/' "$WORK/portico.yaml"
sed -i 's/^  level: info/  level: warn/' "$WORK/portico.yaml"
# Limits no benchmark meets (benchlib.HIGH_RATE_LIMITS): the buckets are charged, never empty.
printf 'rate_limits:\n  per_address: {rate: 1000000000, burst: 1000000000}\n  per_user: {rate: 1000000000, burst: 1000000000}\n' >>"$WORK/portico.yaml"

start_portico() {
  taskset -c "$SERVER_CPU" build/portico --config "$WORK/portico.yaml" >"$WORK/portico.log" 2>&1 &
  PORTICO_PID=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/status/liveness/" >/dev/null && return; sleep 0.1; done
  echo "bench: portico did not start" >&2; cat "$WORK/portico.log" >&2; exit 1
}
token() {
  jq -r --arg u "$1" '"grant_type=client_credentials&client_id=\(.users[$u].client_id)&client_secret=\(.users[$u].client_secret)"' var/site/site.json |
    curl -fs -d @- "$(jq -r .oidc.token_url var/site/site.json)" | jq -r .access_token
}
wrk_run() {  # wrk_run CONNECTIONS URL [HEADER]: prints "rps p50 p99 errors"
  local out
  out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$1" -d"${DURATION}s" --latency ${3:+-H "$3"} "$2")
  echo "$out" >>"$WORK/wrk.log"
  local rps p50 p99 non2xx sockerr
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); non2xx=${non2xx:-0}
  sockerr=$(awk -F'[ ,]+' '/Socket errors/ {print $4+$6+$8+$10}' <<<"$out"); sockerr=${sockerr:-0}
  echo "$rps $p50 $p99 $((non2xx + sockerr))"
}

start_portico
ALICE=$(token alice)
AUTH="Authorization: Bearer $ALICE"
sleep 2  # let the first health round finish, so /status/systems carries it

# ---- 1. GET /status/systems vs nginx serving the same bytes on one core
curl -fs -H "$AUTH" "http://127.0.0.1:$PORT/status/systems" >"$WORK/systems.json"
mkdir -p "$WORK/www/status" && cp "$WORK/systems.json" "$WORK/www/status/systems"
start_nginx "$NGINX_PORT" "$SERVER_CPU" /status/systems

echo "## Gateway core: $(date -u +%Y-%m-%dT%H:%MZ), ${DURATION}s per run, server pinned to 1 core, wrk on the other"
echo
echo "### GET /status/systems ($(wc -c <"$WORK/systems.json") bytes) vs nginx serving the same bytes"
echo
echo "| connections | server | req/s | p50 | p99 | errors |"
echo "|---|---|---|---|---|---|"
for c in 64 512; do
  read -r rps p50 p99 err < <(wrk_run "$c" "http://127.0.0.1:$PORT/status/systems" "$AUTH")
  echo "| $c | portico | $rps | $p50 | $p99 | $err |"
  read -r rps p50 p99 err < <(wrk_run "$c" "http://127.0.0.1:$NGINX_PORT/status/systems")
  echo "| $c | nginx | $rps | $p50 | $p99 | $err |"
done
kill "$NGINX_PID"; NGINX_PID=

# ---- 2. userinfo vs raw OpenSSH on a multiplexed (ControlMaster) connection
SSH_PORT=$(jq -r .ssh.port var/site/site.json)
ssh-keygen -q -t ed25519 -N '' -f "$WORK/key"
ssh-keygen -q -s "$(jq -r .ssh.ca_key var/site/site.json)" -I bench -n alice -V +1h "$WORK/key.pub"
printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cut -d' ' -f1,2 "$(jq -r .ssh.host_public_key var/site/site.json)")" >"$WORK/known_hosts"
SSH=(ssh -p "$SSH_PORT" -i "$WORK/key" -o IdentitiesOnly=yes -o UserKnownHostsFile="$WORK/known_hosts"
     -o ControlPath="$WORK/ctl" -o BatchMode=yes alice@127.0.0.1)
ssh -p "$SSH_PORT" -i "$WORK/key" -o IdentitiesOnly=yes -o UserKnownHostsFile="$WORK/known_hosts" \
  -o ControlMaster=yes -o ControlPath="$WORK/ctl" -o ControlPersist=600 -fN alice@127.0.0.1
# The raw side runs `id` (what userinfo ran on the cluster before identity was cached).
REMOTE="env LC_ALL=C id"

raw_latency() {  # p50 of N sequential runs, in ms
  /usr/bin/python3 - "$@" <<'PY'
import statistics, subprocess, sys, time
argv, n = sys.argv[1:], 50
samples = []
for _ in range(n):
    t = time.perf_counter(); subprocess.run(argv, stdout=subprocess.DEVNULL, check=True); samples.append(time.perf_counter() - t)
print(f"{statistics.median(samples)*1000:.1f}ms")
PY
}
raw_throughput() {  # requests/s of CONC parallel loops for DURATION seconds
  local conc=$1 end=$((SECONDS + DURATION)) i
  for i in $(seq "$conc"); do
    ( n=0; while [ $SECONDS -lt $end ]; do "${SSH[@]}" "$REMOTE" </dev/null >/dev/null 2>&1 && n=$((n+1)); done; echo "$n" >"$WORK/raw.$i" ) &
  done
  wait
  cat "$WORK"/raw.* | awk -v d="$DURATION" '{s+=$1} END {printf "%.1f", s/d}'
  rm -f "$WORK"/raw.*
}

echo
echo "### GET /status/{system}/userinfo vs raw OpenSSH running the same commands over ControlMaster"
echo
echo "| measure | portico | raw OpenSSH |"
echo "|---|---|---|"
read -r rps p50 p99 err < <(wrk_run 1 "http://127.0.0.1:$PORT/status/hpc/userinfo" "$AUTH")
echo "| p50 latency, 1 client | $p50 | $(raw_latency "${SSH[@]}" "$REMOTE") |"
read -r rps p50 p99 err < <(wrk_run 100 "http://127.0.0.1:$PORT/status/hpc/userinfo" "$AUTH")
echo "| req/s, 100 concurrent clients | $rps (errors: $err) | $(raw_throughput 100) |"

# ---- 3. 500 concurrent clients on userinfo, memory
LONG=${LONG_DURATION:-60}
DURATION_SAVED=$DURATION; DURATION=$LONG
read -r rps p50 p99 err < <(wrk_run 500 "http://127.0.0.1:$PORT/status/hpc/userinfo" "$AUTH")
DURATION=$DURATION_SAVED
RSS=$(awk '/VmHWM/ {printf "%.1f MB", $2/1024}' "/proc/$PORTICO_PID/status")
echo
echo "### 500 concurrent clients on userinfo for ${LONG}s"
echo
echo "| req/s | p50 | p99 | errors | peak resident memory |"
echo "|---|---|---|---|---|"
echo "| $rps | $p50 | $p99 | $err | $RSS |"

# ---- 4. first request of a new user: certificate signing + SSH handshake
kill "$PORTICO_PID"; wait "$PORTICO_PID" 2>/dev/null || true
start_portico
BOB=$(token bob)
# partitions: one quick command (scontrol) after the access check (`id -Gn`), so the first
# request's extra time is the certificate and the SSH handshake, not a slow command.
URL="http://127.0.0.1:$PORT/status/hpc/partitions"
FIRST=$(curl -fs -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $BOB" "$URL")
NEXT=$(curl -fs -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $BOB" "$URL")
echo
echo "### First request of a new user (bob, fresh gateway, GET /status/hpc/partitions)"
echo
echo "| first request (certificate + handshake + commands) | second request (pooled) | difference |"
echo "|---|---|---|"
awk -v a="$FIRST" -v b="$NEXT" 'BEGIN {printf "| %.1f ms | %.1f ms | %.1f ms |\n", a*1000, b*1000, (a-b)*1000}'
ssh -o ControlPath="$WORK/ctl" -O exit alice@127.0.0.1 2>/dev/null || true
