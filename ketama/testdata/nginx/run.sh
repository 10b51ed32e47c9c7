#!/usr/bin/env bash
# run.sh records which upstream server a real nginx picks with
# "hash $request_uri consistent", for ketama's compatibility tests.
#
# Usage: run.sh OUTDIR [UPSTREAM] [URIS]
#   UPSTREAM  "address weight" lines (default: upstream.txt next to this script)
#   URIS      one request URI per line (default: uris.txt next to this script)
# Writes OUTDIR/trace.csv: one "$request_uri,$upstream_addr" line per URI, in
# order. Environment: NGINX_BIN (default: nginx on PATH, else /usr/sbin/nginx).
#
# The Go tests run this script (TestContinuum_NginxLive); to regenerate the
# committed uris.txt and trace.csv, run in the module:
#   go test -run TestContinuum_NginxLive -update
#
# nginx runs in the foreground (daemon off, master_process off) from a
# private prefix in a temporary directory, listening on a random loopback
# port; it is stopped by its PID when the script exits. Upstream servers
# need not exist: proxy_next_upstream off limits every request to one
# attempt, so $upstream_addr is nginx's first choice, and max_fails=0 keeps
# a refused connection from taking a server out of the ring for later
# requests.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: run.sh OUTDIR [UPSTREAM] [URIS]}
upstream=${2:-$here/upstream.txt}
uris=${3:-$here/uris.txt}
nginx=${NGINX_BIN:-$(command -v nginx || echo /usr/sbin/nginx)}
[ -x "$nginx" ] || { echo "run.sh: nginx not found ($nginx)" >&2; exit 2; }
command -v curl >/dev/null || { echo "run.sh: curl not found" >&2; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)

tmp=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

servers=$(awk '!/^[[:space:]]*(#|$)/ { printf "        server %s weight=%s max_fails=0;\n", $1, $2 }' "$upstream")
[ -n "$servers" ] || { echo "run.sh: no servers in $upstream" >&2; exit 2; }

write_conf() {
	cat >"$tmp/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $tmp/client_body;
    proxy_temp_path $tmp/proxy;
    fastcgi_temp_path $tmp/fastcgi;
    uwsgi_temp_path $tmp/uwsgi;
    scgi_temp_path $tmp/scgi;
    log_format trace '\$request_uri,\$upstream_addr';
    upstream ketama {
        hash \$request_uri consistent;
$servers
    }
    server {
        listen 127.0.0.1:$1;
        location = /ready { return 204; }
        location / {
            access_log $tmp/trace.csv trace;
            proxy_pass http://ketama;
            proxy_next_upstream off;
            proxy_connect_timeout 1s;
            proxy_send_timeout 1s;
            proxy_read_timeout 1s;
        }
    }
}
CONF
}

# Start nginx on a random port; try another if that one is taken.
for attempt in 1 2 3 4 5 6 7 8; do
	port=$((20000 + RANDOM % 40000))
	write_conf "$port"
	: >"$tmp/error.log"
	"$nginx" -p "$tmp/" -e "$tmp/error.log" -c "$tmp/nginx.conf" &
	pid=$!
	for _ in $(seq 50); do
		if curl -fsS -o /dev/null "http://127.0.0.1:$port/ready" 2>/dev/null; then
			break 2
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	pid=
	if ! grep -q 'Address already in use' "$tmp/error.log"; then
		echo "run.sh: nginx did not start:" >&2
		cat "$tmp/error.log" >&2
		exit 1
	fi
done
[ -n "$pid" ] || { echo "run.sh: no free port for nginx" >&2; exit 1; }

# One curl process sends every URI as written (no dot-segment removal, no
# globbing), reusing its connection.
awk -v base="http://127.0.0.1:$port" 'NF { printf "url = \"%s%s\"\n", base, $0 }' "$uris" >"$tmp/curl.conf"
want=$(grep -c . "$uris")
curl --path-as-is --globoff -sS --max-time 600 -K "$tmp/curl.conf" >/dev/null

kill -TERM "$pid"
wait "$pid" 2>/dev/null || true
pid=

got=$(wc -l <"$tmp/trace.csv")
if [ "$got" -ne "$want" ]; then
	echo "run.sh: nginx logged $got requests, want $want" >&2
	exit 1
fi
cp "$tmp/trace.csv" "$out/trace.csv"
echo "run.sh: $got requests traced by $("$nginx" -v 2>&1 | sed 's/.*: //') into $out/trace.csv"
