#!/usr/bin/env bash
# run.sh compares pingora-go's proxy with nginx and httputil.ReverseProxy on
# loopback: one origin, the three proxies in front of it, wrk (HTTP/1.1
# keep-alive) and h2load (h2c, if installed) as clients. It prints requests
# per second, p50/p99 latency and the proxy's peak RSS, each also as a ratio
# to nginx measured in the same run.
#
# Usage: tools/bench/run.sh [flags]
#   -d DURATION  measured time of each load run, wrk/h2load syntax (default 10s)
#   -w DURATION  warm-up before each measured run (default 1s; 0 skips it)
#   -c N         client connections (default 64)
#   -s "SIZES"   response body sizes in bytes (default "100 65536 1048576")
#   -m N         h2load streams per connection (default 10; -c/4 connections)
#   -r N         rounds (default 1): every run is repeated N times, the
#                proxies interleaved within each round, and the median of
#                each figure is printed (peak RSS: the largest); on a shared
#                machine -r 3 or more steadies the ratios
#   -p PORT      first of five loopback ports used (default 18080)
#   --load-cpu C CPU for the origin and the load generator (default 0)
#   --proxy-cpu C CPU for the proxy under test (default 1)
#   --no-h2      skip the HTTP/2 runs
#   --l4         compare TCP proxies instead: nginx's stream module
#                (proxy_pass, 32k buffer) and pingora-go's l4 (cmd/pingora-l4)
#                tunnel wrk's keep-alive connections to the origin; no
#                httputil, no HTTP/2. Needs nginx's stream module (Debian:
#                apt-get install -y libnginx-mod-stream)
#   -k           keep the temporary directory (raw wrk/h2load output, logs)
#
# Needs: go, taskset (util-linux), wrk and nginx; h2load (nghttp2-client) for
# the HTTP/2 runs. On Debian/Ubuntu: apt-get install -y wrk nghttp2-client nginx
# The script installs nothing. It runs every program in the foreground of
# its own process group, and on exit kills only the PIDs it started.
#
# Fairness on two cores: the origin and the load generator share one CPU,
# the proxy under test gets the other to itself (nginx: one worker process;
# the Go proxies: GOMAXPROCS follows the affinity mask, so 1). All three
# proxies stay up for the whole run but only the one under load uses CPU.
# The client side shares a core, so a proxy faster than the origin+client
# core can feed is capped by that core: ratios near 1.0 at the top may mean
# "both saturate the client core", not "equally fast". That is the usual
# case for large bodies, where wrk and the origin move every byte twice: the
# CPU% column (the proxy's CPU time over the run) then stays below 100 and
# req/CPU-s (requests per second of proxy CPU) is the figure to compare.
# Each size also has a "direct" row: wrk straight to the origin on the load
# CPU. That core runs the same wrk and origin work whatever proxy sits in
# between, so direct RPS bounds every proxy (xdirect), and direct/nginx is
# the largest ratio to nginx any proxy could show on this machine; load%
# shows how close the load CPU was to saturation.
# Small bodies load both cores: the proxy's, and the load CPU too (load%
# near 100), which then caps every proxy near the direct row. Results on a shared or virtualised
# machine vary from run to run by far more than several percent: the load
# average before the run is printed; above ~0.3 treat the figures as rough.
#
# The proxies are configured alike: upstream keep-alive with enough idle
# connections for -c, keep-alive requests unlimited, no access log, no
# compression, HTTP/1.1 to the origin, body buffers of 32-64 KiB (nginx:
# proxy_buffer_size 32k, proxy_buffers 4 32k, no temp files; httputil: 32 KiB
# transport buffers; pingora-go: its default pooled 64 KiB body buffers).
# httputil.ReverseProxy's Transport keeps 1024 idle connections.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
dur=10s warm=1s conns=64 sizes="100 65536 1048576" streams=10 port=18080 rounds=1
load_cpu=0 proxy_cpu=1 h2=1 keep=0 l4=0
while [ $# -gt 0 ]; do
	case $1 in
	-d) dur=$2; shift 2 ;;
	-w) warm=$2; shift 2 ;;
	-c) conns=$2; shift 2 ;;
	-s) sizes=$2; shift 2 ;;
	-m) streams=$2; shift 2 ;;
	-r) rounds=$2; shift 2 ;;
	-p) port=$2; shift 2 ;;
	--load-cpu) load_cpu=$2; shift 2 ;;
	--proxy-cpu) proxy_cpu=$2; shift 2 ;;
	--no-h2) h2=0; shift ;;
	--l4) l4=1 h2=0; shift ;;
	-k) keep=1; shift ;;
	-h | --help) sed -n '2,59p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown argument $1 (see -h)" >&2; exit 2 ;;
	esac
done

missing=()
for tool in go taskset wrk nginx; do
	command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "run.sh: missing ${missing[*]}; on Debian/Ubuntu: apt-get install -y wrk nghttp2-client nginx (taskset: util-linux)" >&2
	exit 1
fi
if [ $h2 = 1 ] && ! command -v h2load >/dev/null; then
	echo "run.sh: h2load not found, skipping HTTP/2 (apt-get install -y nghttp2-client)" >&2
	h2=0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pingora-bench.XXXXXX")
pids=()
cleanup() {
	local pid
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		local alive=0
		for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.2
	done
	for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
	if [ $keep = 1 ]; then echo "run.sh: output kept in $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "building the benchmark programs" >&2
stream_module=/usr/lib/nginx/modules/ngx_stream_module.so
if [ $l4 = 1 ] && ! nginx -V 2>&1 | grep -q -- '--with-stream ' && [ ! -f "$stream_module" ]; then
	echo "run.sh: --l4 needs nginx's stream module (Debian: apt-get install -y libnginx-mod-stream)" >&2
	exit 1
fi
(cd "$here" && GOWORK=off go build -o "$tmp/bin/" ./cmd/origin ./cmd/pingora-proxy ./cmd/httputil-proxy ./cmd/pingora-l4)

# wait_port PORT: until something accepts on 127.0.0.1:PORT (at most 10 s).
wait_port() {
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "run.sh: nothing listens on 127.0.0.1:$1 (logs in $tmp)" >&2
	keep=1
	exit 1
}

p_origin=$port p_nginx=$((port + 1)) p_nginx_h2=$((port + 2)) p_httputil=$((port + 3)) p_pingora=$((port + 4))
p_nginx_l4=$((port + 5)) p_l4=$((port + 6))
upstream=127.0.0.1:$p_origin

taskset -c "$load_cpu" "$tmp/bin/origin" -addr "$upstream" >"$tmp/origin.log" 2>&1 &
pids+=($!)
wait_port "$p_origin"

mkdir -p "$tmp/nginx/logs"
user=
if [ "$(id -u)" = 0 ]; then user="user $(id -un);"; fi
load=
stream=
if [ $l4 = 1 ]; then
	if [ -f "$stream_module" ]; then load="load_module $stream_module;"; fi
	stream="stream { upstream origin_tcp { server $upstream; } server { listen 127.0.0.1:$p_nginx_l4; proxy_pass origin_tcp; proxy_buffer_size 32k; } }"
fi
cat >"$tmp/nginx/nginx.conf" <<EOF
$load
$user
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $tmp/nginx/client_body;
	proxy_temp_path $tmp/nginx/proxy;
	fastcgi_temp_path $tmp/nginx/fastcgi;
	uwsgi_temp_path $tmp/nginx/uwsgi;
	scgi_temp_path $tmp/nginx/scgi;
	keepalive_requests 1000000;
	keepalive_timeout 60s;
	upstream origin {
		server $upstream;
		keepalive 256;
		keepalive_requests 1000000;
	}
	server {
		listen 127.0.0.1:$p_nginx;
		listen 127.0.0.1:$p_nginx_h2 http2;
		location / {
			proxy_pass http://origin;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_buffer_size 32k;
			proxy_buffers 4 32k;
			proxy_max_temp_file_size 0;
		}
	}
}
$stream
EOF
taskset -c "$proxy_cpu" nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/logs/error.log" \
	-g 'daemon off;' >"$tmp/nginx.log" 2>&1 &
pids+=($!)
nginx_master=$!
taskset -c "$proxy_cpu" "$tmp/bin/httputil-proxy" -addr "127.0.0.1:$p_httputil" -upstream "$upstream" >"$tmp/httputil.log" 2>&1 &
pids+=($!)
pid_httputil=$!
taskset -c "$proxy_cpu" "$tmp/bin/pingora-proxy" -addr "127.0.0.1:$p_pingora" -upstream "$upstream" >"$tmp/pingora.log" 2>&1 &
pids+=($!)
pid_pingora=$!
ports=("$p_nginx" "$p_nginx_h2" "$p_httputil" "$p_pingora")
if [ $l4 = 1 ]; then
	taskset -c "$proxy_cpu" "$tmp/bin/pingora-l4" -addr "127.0.0.1:$p_l4" -upstream "$upstream" >"$tmp/pingora-l4.log" 2>&1 &
	pids+=($!)
	pid_l4=$!
	ports+=("$p_nginx_l4" "$p_l4")
fi
for p in "${ports[@]}"; do wait_port "$p"; done
# The nginx process that proxies is the worker, the master's only child.
pid_nginx=$(pgrep -P "$nginx_master" | head -n1)
[ -n "$pid_nginx" ] || { echo "run.sh: no nginx worker (logs in $tmp)" >&2; keep=1; exit 1; }

proxies=(nginx httputil pingora)
declare -A pid_of=([nginx]=$pid_nginx [httputil]=$pid_httputil [pingora]=$pid_pingora)
declare -A h1_port=([nginx]=$p_nginx [httputil]=$p_httputil [pingora]=$p_pingora)
declare -A h2_port=([nginx]=$p_nginx_h2 [httputil]=$p_httputil [pingora]=$p_pingora)
if [ $l4 = 1 ]; then
	# TCP tunnels: "nginx" is its stream proxy, "pingora" the l4 one.
	proxies=(nginx pingora)
	pid_of[pingora]=$pid_l4
	h1_port=([nginx]=$p_nginx_l4 [pingora]=$p_l4)
fi

# cpu_ticks PID: user+system CPU time of PID so far, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
clk_tck=$(getconf CLK_TCK)
now() { date +%s.%N; }
# cpu_pct TICKS SECONDS: CPU use in percent of one CPU.
cpu_pct() { awk -v t="$1" -v s="$2" -v hz="$clk_tck" 'BEGIN { printf "%.0f", 100 * t / hz / s }'; }

# cpu_busy C: busy and total jiffies of CPU C so far ("busy total"),
# softirq and steal included in busy.
cpu_busy() { awk -v c="cpu$1" '$1 == c { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat; }
# busy_pct "B0 T0" "B1 T1": percent busy between two cpu_busy readings.
busy_pct() { awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " "); t = y[2] - x[2]; if (t <= 0) print 0; else printf "%.0f", 100 * (y[1] - x[1]) / t }'; }

# Peak RSS is per measured run: writing 5 to clear_refs resets VmHWM.
reset_peak() { echo 5 >"/proc/$1/clear_refs" 2>/dev/null || true; }
peak_mib() { awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

# to_ms VALUE: a wrk duration (417.00us, 1.13ms, 2.01s) in milliseconds.
to_ms() {
	awk -v v="$1" 'BEGIN {
		n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
		if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
		printf "%.3f", n }'
}

case $rounds in '' | *[!0-9]* | 0) echo "run.sh: -r needs a positive count" >&2; exit 2 ;; esac

# Per-round figures are kept under "key/round"; median and maximum reduce
# them to one figure per key after the last round.
declare -A rps p50 p99 rss errs cpu lcpu direct
declare -A h2rps h2mean h2rss h2err h2cpu
total=$(($(wc -w <<<"$sizes") * (${#proxies[@]} + 1)))
[ $h2 = 1 ] && total=$((total + 3))
total=$((total * rounds))
run=0
for round in $(seq "$rounds"); do
	for size in $sizes; do
		# The ceiling of this topology: wrk straight to the origin, both on
		# the load CPU. Through any proxy that core still runs wrk and the
		# origin and makes the same four socket calls per request, so no
		# proxy can serve more requests per second than this.
		run=$((run + 1))
		echo "[$run/$total] wrk origin direct body=$size round=$round" >&2
		if [ "$warm" != 0 ]; then taskset -c "$load_cpu" wrk -t1 -c"$conns" -d"$warm" "http://$upstream/$size" >/dev/null; fi
		out=$tmp/wrk-direct-$size-$round.txt
		taskset -c "$load_cpu" wrk -t1 -c"$conns" -d"$dur" "http://$upstream/$size" >"$out"
		direct[$size/$round]=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
		for px in "${proxies[@]}"; do
			run=$((run + 1))
			url=http://127.0.0.1:${h1_port[$px]}/$size
			echo "[$run/$total] wrk $px body=$size round=$round" >&2
			if [ "$warm" != 0 ]; then taskset -c "$load_cpu" wrk -t1 -c"$conns" -d"$warm" "$url" >/dev/null; fi
			reset_peak "${pid_of[$px]}"
			out=$tmp/wrk-$px-$size-$round.txt
			t0=$(cpu_ticks "${pid_of[$px]}") w0=$(now) l0=$(cpu_busy "$load_cpu")
			taskset -c "$load_cpu" wrk -t1 -c"$conns" -d"$dur" --latency "$url" >"$out"
			k=$px/$size/$round
			lcpu[$k]=$(busy_pct "$l0" "$(cpu_busy "$load_cpu")")
			cpu[$k]=$(cpu_pct $(($(cpu_ticks "${pid_of[$px]}") - t0)) "$(awk -v a="$w0" -v b="$(now)" 'BEGIN { print b - a }')")
			rps[$k]=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
			p50[$k]=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
			p99[$k]=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
			rss[$k]=$(peak_mib "${pid_of[$px]}")
			e=$(awk '/Socket errors|Non-2xx/ { printf "%s%s", sep, $0; sep = "; " }' "$out")
			if [ -n "$e" ]; then errs[$px/$size]="${errs[$px/$size]:+${errs[$px/$size]}; }round $round: $e"; fi
		done
	done

	if [ $h2 = 1 ]; then
		h2conns=$(((conns + 3) / 4))
		for px in "${proxies[@]}"; do
			run=$((run + 1))
			size=${sizes%% *}
			url=http://127.0.0.1:${h2_port[$px]}/$size
			echo "[$run/$total] h2load $px body=$size round=$round" >&2
			reset_peak "${pid_of[$px]}"
			t0=$(cpu_ticks "${pid_of[$px]}") w0=$(now)
			out=$tmp/h2load-$px-$size-$round.txt
			wopt=()
			if [ "$warm" != 0 ]; then wopt=(--warm-up-time="$warm"); fi
			taskset -c "$load_cpu" h2load -t1 -c"$h2conns" -m"$streams" -D"$dur" "${wopt[@]}" "$url" >"$out"
			k=$px/$round
			h2cpu[$k]=$(cpu_pct $(($(cpu_ticks "${pid_of[$px]}") - t0)) "$(awk -v a="$w0" -v b="$(now)" 'BEGIN { print b - a }')")
			h2rps[$k]=$(awk '/^finished in/ { for (i = 1; i <= NF; i++) if ($(i + 1) == "req/s,") print $i }' "$out")
			h2mean[$k]=$(to_ms "$(awk '/^time for request:/ { print $6 }' "$out")")
			h2rss[$k]=$(peak_mib "${pid_of[$px]}")
			e=$(awk '/^requests:/ { if ($10 + $12 + $14 > 0) print $0 }' "$out")
			if [ -n "$e" ]; then h2err[$px]="${h2err[$px]:+${h2err[$px]}; }round $round: $e"; fi
		done
	fi
done

# median ARRAY KEY: the median of ARRAY[KEY/1..rounds] (the lower middle
# one for an even count).
median() {
	local -n arr=$1
	local r vals=()
	for r in $(seq "$rounds"); do vals+=("${arr[$2/$r]}"); done
	printf '%s\n' "${vals[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
# maximum ARRAY KEY: the largest of ARRAY[KEY/1..rounds].
maximum() {
	local -n arr=$1
	local r
	for r in $(seq "$rounds"); do echo "${arr[$2/$r]}"; done | sort -g | tail -n1
}
for size in $sizes; do
	for px in "${proxies[@]}"; do
		k=$px/$size
		rps[$k]=$(median rps "$k") p50[$k]=$(median p50 "$k") p99[$k]=$(median p99 "$k")
		cpu[$k]=$(median cpu "$k") rss[$k]=$(maximum rss "$k") lcpu[$k]=$(median lcpu "$k")
	done
	direct[$size]=$(median direct "$size")
done
if [ $h2 = 1 ]; then
	for px in "${proxies[@]}"; do
		h2rps[$px]=$(median h2rps "$px") h2mean[$px]=$(median h2mean "$px")
		h2cpu[$px]=$(median h2cpu "$px") h2rss[$px]=$(maximum h2rss "$px")
	done
fi

# ratio A B: A/B with two decimals, "-" if B is missing or zero.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }

# per_cpu RPS CPU%: requests per second of CPU time, "-" if CPU% is 0.
per_cpu() { awk -v r="$1" -v c="$2" 'BEGIN { if (c + 0 == 0) print "-"; else printf "%.0f", r * 100 / c }'; }

echo
echo "load average before the run: $load_before (2 CPUs; above ~0.3 other work competes and figures are noisy)"
if [ $l4 = 1 ]; then
	echo "TCP proxies (--l4): nginx = nginx's stream module, pingora = pingora-go's l4; each tunnels wrk's connections to the origin"
fi
echo "HTTP/1.1 keep-alive: wrk -t1 -c$conns -d$dur, origin+wrk on CPU $load_cpu, proxy on CPU $proxy_cpu"
if [ "$rounds" -gt 1 ]; then echo "medians of $rounds interleaved rounds (RSS: the largest)"; fi
echo "ratios are proxy/nginx (RPS: higher is better; latency and RSS: lower is better); RSS is the peak during the run"
echo "CPU% is the proxy's CPU time over the run (100 = one CPU); req/CPU-s = RPS / CPU share, less sensitive to other load"
echo "load% is how busy the load CPU was (wrk + origin, softirq included): near 100 the client side caps RPS"
echo "xdirect is RPS over wrk straight to the origin on the load CPU, the most any proxy can reach here"
printf '%-8s %-9s %8s %7s %7s %9s %7s %9s %7s %8s %7s %9s %5s %10s %7s %5s\n' \
	body proxy RPS xnginx xdirect p50_ms xnginx p99_ms xnginx RSS_MiB xnginx xhttputil CPU% req/CPU-s xnginx load%
for size in $sizes; do
	printf '%-8s %-9s %8.0f %7s %7s\n' "$size" direct "${direct[$size]}" "$(ratio "${direct[$size]}" "${rps[nginx/$size]}")" 1.00
	for px in "${proxies[@]}"; do
		k=$px/$size n=nginx/$size
		eff=$(per_cpu "${rps[$k]}" "${cpu[$k]}") neff=$(per_cpu "${rps[$n]}" "${cpu[$n]}")
		printf '%-8s %-9s %8.0f %7s %7s %9s %7s %9s %7s %8s %7s %9s %5s %10s %7s %5s\n' "$size" "$px" "${rps[$k]}" \
			"$(ratio "${rps[$k]}" "${rps[$n]}")" "$(ratio "${rps[$k]}" "${direct[$size]}")" "${p50[$k]}" "$(ratio "${p50[$k]}" "${p50[$n]}")" \
			"${p99[$k]}" "$(ratio "${p99[$k]}" "${p99[$n]}")" "${rss[$k]}" "$(ratio "${rss[$k]}" "${rss[$n]}")" \
			"$(ratio "${rps[$k]}" "${rps[httputil/$size]:-}")" "${cpu[$k]}" "$eff" "$(ratio "$eff" "$neff")" "${lcpu[$k]}"
	done
done
for k in "${!errs[@]}"; do
	if [ -n "${errs[$k]}" ]; then echo "warning: $k: ${errs[$k]}"; fi
done

if [ $h2 = 1 ]; then
	echo
	echo "HTTP/2 cleartext (h2c, prior knowledge): h2load -t1 -c$h2conns -m$streams -D $dur, body ${sizes%% *} B"
	echo "(h2load gives no percentiles: mean request time)"
	printf '%-9s %8s %7s %9s %7s %8s %7s %9s %5s %10s %7s\n' proxy RPS xnginx mean_ms xnginx RSS_MiB xnginx xhttputil CPU% req/CPU-s xnginx
	for px in "${proxies[@]}"; do
		eff=$(per_cpu "${h2rps[$px]}" "${h2cpu[$px]}") neff=$(per_cpu "${h2rps[nginx]}" "${h2cpu[nginx]}")
		printf '%-9s %8.0f %7s %9s %7s %8s %7s %9s %5s %10s %7s\n' "$px" "${h2rps[$px]}" \
			"$(ratio "${h2rps[$px]}" "${h2rps[nginx]}")" "${h2mean[$px]}" "$(ratio "${h2mean[$px]}" "${h2mean[nginx]}")" \
			"${h2rss[$px]}" "$(ratio "${h2rss[$px]}" "${h2rss[nginx]}")" "$(ratio "${h2rps[$px]}" "${h2rps[httputil]}")" \
			"${h2cpu[$px]}" "$eff" "$(ratio "$eff" "$neff")"
	done
	for px in "${proxies[@]}"; do
		if [ -n "${h2err[$px]:-}" ]; then echo "warning: h2 $px: ${h2err[$px]}"; fi
	done
fi
exit 0
