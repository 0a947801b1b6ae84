#!/usr/bin/env bash
# Benchmarks of the IRI Facility API's public reads (issue 10), next to nginx serving the same
# bytes in the same run: GET /api/v1/status/resources, /status/incidents?limit=100 with 10,000
# events in the store, and /facility, 100 connections, server pinned to one core.
# usage: bench/iri.sh [SECONDS]   (the site must be up: site/site up; run as root)
# Prints a Markdown report on stdout; docs/benchmarks.md keeps the latest one.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
DURATION=${1:-10}
WORK=$(mktemp -d /tmp/portico-bench-iri.XXXXXX)
chmod 755 "$WORK"  # nginx's workers read the served files as an unprivileged user
trap 'kill $(jobs -p) 2>/dev/null || true; [ -n "${NGINX_PID:-}" ] && kill "$NGINX_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
. "$(dirname "$0")/nginx.sh"

command -v wrk >/dev/null || { echo "bench: wrk is missing (scripts/install-deps)" >&2; exit 1; }
command -v nginx >/dev/null || { echo "bench: nginx is missing (scripts/install-deps)" >&2; exit 1; }
[ -f var/site/site.json ] || { echo "bench: the site is not up (site/site up)" >&2; exit 1; }
cmake --build build -j"$(nproc)" --target portico >/dev/null

PORT=18090; NGINX_PORT=18091
SERVER_CPU=0; CLIENT_CPU=1   # the server gets one core, the load generator the other
CONNECTIONS=100
site/gateway-config "$WORK/portico.yaml" "$PORT" >/dev/null
sed -i 's/^  api_root: \//  api_root: \/\n  threads: 1/' "$WORK/portico.yaml"
sed -i 's/^  level: info/  level: warn/' "$WORK/portico.yaml"
# Limits no benchmark meets (benchlib.HIGH_RATE_LIMITS): the buckets are charged, never empty.
printf 'rate_limits:\n  per_address: {rate: 1000000000, burst: 1000000000}\n  per_user: {rate: 1000000000, burst: 1000000000}\n' >>"$WORK/portico.yaml"

taskset -c "$SERVER_CPU" build/portico --config "$WORK/portico.yaml" >"$WORK/portico.log" 2>&1 &
PORTICO_PID=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/api/v1/facility" >/dev/null && break; sleep 0.1; done
BASE="http://127.0.0.1:$PORT/api/v1"

# 10,000 events: 1,000 past maintenance windows on 5 resources each (an event per resource at
# the start and at the end of each), declared by the operator alice through the admin endpoint.
EVENTS=$(/usr/bin/python3 - "$BASE" <<'PY'
import datetime, json, pathlib, sys
import requests
base = sys.argv[1]
site = json.loads(pathlib.Path("var/site/site.json").read_text())
u = site["users"]["alice"]
token = requests.post(site["oidc"]["token_url"], data={"grant_type": "client_credentials", "client_id": u["client_id"],
                                                       "client_secret": u["client_secret"]}, timeout=10).json()["access_token"]
names = ["hpc", "hpc scheduler", "hpc:/home", "hpc:/scratch", "s3 staging"]
t0 = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=60)
s = requests.Session()
s.headers["Authorization"] = f"Bearer {token}"
for i in range(1000):
    start = t0 + datetime.timedelta(hours=i)
    body = {"name": f"window {i}", "description": "benchmark data", "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end": (start + datetime.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ"), "resource_ids": names}
    r = s.post(base + "/admin/incidents", json=body, timeout=30)
    assert r.status_code == 201, r.text
count, offset = 0, 0
while True:
    page = s.get(base + "/status/events", params={"limit": 1000, "offset": offset}, timeout=30).json()
    count += len(page)
    offset += 1000
    if len(page) < 1000:
        break
print(f"{count:,}")
PY
)

wrk_run() {  # wrk_run URL: prints "rps p50 p90 p99 errors"
  local out
  out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$1")
  echo "$out" >>"$WORK/wrk.log"
  local rps p50 p90 p99 non2xx sockerr
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p90=$(awk '$1=="90%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); non2xx=${non2xx:-0}
  sockerr=$(awk -F'[ ,]+' '/Socket errors/ {print $4+$6+$8+$10}' <<<"$out"); sockerr=${sockerr:-0}
  echo "$rps $p50 $p90 $p99 $((non2xx + sockerr))"
}
rss() { awk '/VmRSS/ {printf "%.1f MB", $2/1024}' "/proc/$PORTICO_PID/status"; }

# The same bytes for nginx, under the same paths.
PATHS=("status/resources" "status/incidents?limit=100" "facility")
mkdir -p "$WORK/www/api/v1/status"
for p in "${PATHS[@]}"; do curl -fs "$BASE/$p" >"$WORK/www/api/v1/${p%%\?*}"; done
start_nginx "$NGINX_PORT" "$SERVER_CPU" /api/v1/facility

RSS_BEFORE=$(rss)
echo "## IRI Facility API, public reads: $(date -u +%Y-%m-%dT%H:%MZ), ${DURATION}s per run, $CONNECTIONS connections, server pinned to 1 core, wrk on the other"
echo
echo "The store holds $EVENTS events (1,000 past maintenance windows on 5 resources each)."
echo
echo "| request | bytes | server | req/s | p50 | p90 | p99 | errors |"
echo "|---|---|---|---|---|---|---|---|"
for p in "${PATHS[@]}"; do
  bytes=$(wc -c <"$WORK/www/api/v1/${p%%\?*}")
  read -r rps p50 p90 p99 err < <(wrk_run "$BASE/$p")
  echo "| GET /api/v1/$p | $bytes | portico | $rps | $p50 | $p90 | $p99 | $err |"
  read -r rps p50 p90 p99 err < <(wrk_run "http://127.0.0.1:$NGINX_PORT/api/v1/$p")
  echo "| GET /api/v1/$p | $bytes | nginx | $rps | $p50 | $p90 | $p99 | $err |"
done
RSS_AFTER=$(rss)
echo
echo "Portico's resident memory: $RSS_BEFORE before the runs, $RSS_AFTER after them."
