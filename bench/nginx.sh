# Sourced by the benchmarks: nginx serving files of $WORK/www on one core, the baseline a
# gateway's cached replies are compared with.
# start_nginx PORT CPU PROBE_PATH: starts it (NGINX_PID) and waits until PROBE_PATH answers.
start_nginx() {
  local port=$1 cpu=$2 probe=$3
  cat >"$WORK/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx.err;
events { worker_connections 4096; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$port;
    location / { root $WORK/www; default_type application/json; }
  }
}
NGINX
  taskset -c "$cpu" nginx -c "$WORK/nginx.conf" &
  NGINX_PID=$!
  for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port$probe" >/dev/null && return; sleep 0.1; done
  echo "nginx did not answer on port $port" >&2
  return 1
}
