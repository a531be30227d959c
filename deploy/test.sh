#!/usr/bin/env bash
# Proves deploy/nginx/corekv.conf on real test hosts: corekv nodes in network
# namespaces of their own, joined to this one by veth pairs, with nginx in
# front hashing keys consistently.
#   1. 3 nodes: 10,000 keys stored through nginx are all read back, and each
#      lives on exactly one node (about a third each).
#   2. One node stops: exactly the keys it held miss; every other key is
#      still served, with its value.
#   3. A fourth node joins: about a quarter of the keys move to it, and no
#      key moves between the old nodes.
# Everything it makes (namespaces, veths, processes, files) it removes on
# exit, also on failure. It needs root (CAP_NET_ADMIN), ip (iproute2), nginx
# and curl, and skips with a message where namespaces cannot be made.
#   deploy/test.sh              run it (builds corekv with go build)
#   COREKV_BIN=path deploy/test.sh   use a built binary
#   KEYS=2000 deploy/test.sh    fewer keys
#   deploy/test.sh bench        after step 1, load the 80/20 mix through nginx
#                               and then one node directly (go run ./bench), and stop
set -euo pipefail
cd "$(dirname "$0")/.."

keys=${KEYS:-10000}
limit=${TEST_TIMEOUT:-300} # seconds for the whole test
tag=ckv$$                  # names of what this run creates
subnet=10.213              # node i is $subnet.i.2, its veth peer here $subnet.i.1
work=$(mktemp -d)
pids=()

log() { printf '== %s\n' "$*"; }
fail() {
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -s "$work/nginx.pid" ]; then kill "$(cat "$work/nginx.pid")" 2>/dev/null || true; fi
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for i in 1 2 3 4; do
		ip link del "${tag}h$i" 2>/dev/null || true
		ip netns del "$tag-$i" 2>/dev/null || true
	done
	if [ $rc -ne 0 ] && [ -f "$work/error.log" ]; then
		echo "-- nginx error.log (tail)"
		tail -n 20 "$work/error.log"
	fi
	rm -rf "$work"
	exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# A watchdog bounds the whole run.
# (sleep in the background and wait, so that the TERM the cleanup sends ends
# it at once.)
(
	trap 'kill $s 2>/dev/null; exit 0' TERM
	sleep "$limit" &
	s=$!
	wait $s
	echo "FAIL: deploy test took more than ${limit}s" >&2
	kill -TERM $$ 2>/dev/null
) &
pids+=("$!")

for tool in ip nginx curl; do
	command -v "$tool" >/dev/null || fail "$tool is not installed (apt-get install iproute2 nginx-light curl)"
done
if ! err=$(ip netns add "$tag-probe" 2>&1); then
	echo "SKIP: deploy test: cannot create network namespaces here: $err"
	exit 0
fi
ip netns del "$tag-probe"

# free_port prints a TCP port nothing on loopback listens on.
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 20000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || {
			echo "$p"
			return
		}
	done
}

bin=${COREKV_BIN:-}
if [ -z "$bin" ]; then
	log "go build corekv"
	go build -o "$work/corekv" .
	bin=$work/corekv
fi

# host i: namespace $tag-i, reachable here at $subnet.i.2.
make_host() {
	local i=$1 ns="$tag-$1"
	ip netns add "$ns"
	ip link add "${tag}h$i" type veth peer name eth0 netns "$ns"
	ip addr add "$subnet.$i.1/24" dev "${tag}h$i"
	ip link set "${tag}h$i" up
	ip -n "$ns" addr add "$subnet.$i.2/24" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$ns" link set lo up
}

# start_node i: a fresh corekv (empty store) on host i, ready when this returns.
start_node() {
	local i=$1
	ip netns exec "$tag-$i" "$bin" --host "$subnet.$i.2" --port 3000 --shards 1 \
		>"$work/node$i.log" 2>&1 &
	nodepid[$i]=$!
	pids+=("$!")
	for _ in $(seq 100); do
		curl -sf -o /dev/null "http://$subnet.$i.2:3000/" && return
		sleep 0.1
	done
	cat "$work/node$i.log" >&2
	fail "node $i did not start"
}

stop_node() {
	kill "${nodepid[$1]}"
	wait "${nodepid[$1]}" 2>/dev/null || true
}

# write_nginx N: nginx.conf with the shipped corekv.conf (this run's listen
# ports) and a nodes.conf, in the shipped one's form, for nodes 1..N.
write_nginx() {
	local n=$1 i
	sed -e "s/listen 8080;/listen 127.0.0.1:$port;/" \
		-e "s/listen 8082 http2;/listen 127.0.0.1:$h2port http2;/" \
		deploy/nginx/corekv.conf >"$work/corekv.conf"
	grep -q "127.0.0.1:$port;" "$work/corekv.conf" || fail "deploy/nginx/corekv.conf no longer has 'listen 8080;'"
	{
		echo 'upstream corekv {'
		echo '	hash $corekv_key consistent;'
		for ((i = 1; i <= n; i++)); do
			echo "	server $subnet.$i.2:3000 max_fails=1 fail_timeout=10s;"
		done
		echo '	keepalive 64;'
		echo '}'
		echo 'map $corekv_node $corekv_node_addr {'
		for ((i = 1; i <= n; i++)); do
			echo "	$i $subnet.$i.2:3000;"
		done
		echo '	default "";'
		echo '}'
	} >"$work/nodes.conf"
	# The shipped nodes.conf must be what this generates for 3 nodes.
	if [ "$n" -eq 3 ]; then
		diff <(directives deploy/nginx/nodes.conf) <(directives "$work/nodes.conf") >&2 ||
			fail "deploy/nginx/nodes.conf differs from the 3-node configuration this test runs"
	fi
	cat >"$work/nginx.conf" <<EOF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $work/tmp/body;
	proxy_temp_path $work/tmp/proxy;
	fastcgi_temp_path $work/tmp/fastcgi;
	uwsgi_temp_path $work/tmp/uwsgi;
	scgi_temp_path $work/tmp/scgi;
	include $work/nodes.conf;
	include $work/corekv.conf;
}
EOF
}

# directives FILE: the ring's directives of a nodes.conf, comments and
# spacing left out.
directives() {
	sed -e 's/#.*//' -e 's/[[:space:]]\+/ /g' -e 's/^ //' -e 's/ $//' "$1" | grep -v '^$'
}

start_nginx() {
	mkdir -p "$work/tmp"
	chmod 777 "$work/tmp"
	nginx -t -q -p "$work" -c "$work/nginx.conf" || fail "nginx -t rejected the configuration"
	nginx -p "$work" -c "$work/nginx.conf"
	for _ in $(seq 50); do
		curl -sf -o /dev/null "http://127.0.0.1:$port/" && return
		sleep 0.1
	done
	fail "nginx did not start"
}

# reload_nginx N: the upstream now lists nodes 1..N; waits until the new
# workers answer (the old ones finish what they hold).
reload_nginx() {
	write_nginx "$1"
	nginx -p "$work" -c "$work/nginx.conf" -s reload 2>>"$work/error.log"
	sleep 1
}

# requests METHOD BASE: one curl process for every key, keep-alive, printing
# "key<TAB>status<TAB>body" per key (bodies are one line: values have no
# newline, corekv's error bodies end with one).
requests() {
	local method=$1 base=$2 i
	for ((i = 0; i < keys; i++)); do
		printf 'url = "%s/k%d"\n' "$base" "$i"
		case $method in
		POST) printf 'data-binary = "value-of-k%d"\n' "$i" ;;
		HEAD) printf 'head\n' ;;
		esac
		printf 'silent\nwrite-out = "\\t%%{http_code}\\tk%d\\n"\n' "$i"
		if ((i + 1 < keys)); then printf 'next\n'; fi
	done >"$work/curl.cfg"
	timeout 120 curl -K "$work/curl.cfg" |
		awk -F'\t' 'NF >= 3 { print $3 "\t" $2 "\t" $1 }'
}

# holders: "key<TAB>node" for every key each running node in 1..$1 holds, asked directly.
holders() {
	local n=$1 i
	for ((i = 1; i <= n; i++)); do
		[ -n "${stopped[$i]:-}" ] && continue
		requests HEAD "http://$subnet.$i.2:3000/get" | awk -v node="$i" -F'\t' '$2 == 200 { print $1 "\t" node }'
	done | sort
}

# count_status STATUS FILE: lines of FILE with that status.
count_status() { awk -F'\t' -v s="$1" '$2 == s' "$2" | wc -l; }

# within LO HI N TOTAL: N/TOTAL is in [LO%, HI%].
within() { [ $(($3 * 100)) -ge $(($1 * $4)) ] && [ $(($3 * 100)) -le $(($2 * $4)) ]; }

declare -a nodepid stopped
port=$(free_port)
h2port=$(free_port)
log "3 hosts in network namespaces $tag-{1,2,3}, nginx on 127.0.0.1:$port (h2c :$h2port)"
for i in 1 2 3; do
	make_host "$i"
	start_node "$i"
done
write_nginx 3
start_nginx

log "1. store $keys keys through nginx, read them back"
requests POST "http://127.0.0.1:$port/store" >"$work/store1"
[ "$(count_status 200 "$work/store1")" -eq "$keys" ] || fail "stores through nginx: $(cut -f2 "$work/store1" | sort | uniq -c | tr '\n' ' ')"
requests GET "http://127.0.0.1:$port/get" >"$work/read1"
bad=$(awk -F'\t' '$2 != 200 || $3 != "value-of-" $1' "$work/read1" | wc -l)
[ "$bad" -eq 0 ] || fail "$bad of $keys keys not read back through nginx"
holders 3 >"$work/held3"
[ "$(wc -l <"$work/held3")" -eq "$keys" ] || fail "$(wc -l <"$work/held3") copies on the nodes for $keys keys: each key must live on exactly one node"
[ "$(cut -f1 "$work/held3" | sort -u | wc -l)" -eq "$keys" ] || fail "a key is stored on two nodes"
for i in 1 2 3; do
	n=$(awk -F'\t' -v i="$i" '$2 == i' "$work/held3" | wc -l)
	echo "   node $i holds $n keys"
	within 20 47 "$n" "$keys" || fail "node $i holds $n of $keys keys: the ring is not spreading them"
done
curl -sf --http2-prior-knowledge "http://127.0.0.1:$h2port/get/k1" | grep -qx 'value-of-k1' || fail "h2c through nginx did not return k1"
curl -sf "http://127.0.0.1:$port/node/2/stats" | grep -q '"shards"' || fail "/node/2/stats did not reach node 2"

if [ "${1:-}" = bench ]; then
	for target in "http://127.0.0.1:$port" "http://$subnet.1.2:3000"; do
		log "bench --target $target"
		go run ./bench --target "$target" --repeat 3 --rates none --duration 2s --out "$work/bench" 2>&1 |
			tail -n 25
	done
	exit 0
fi

log "2. stop node 2: only its keys miss"
stop_node 2
stopped[2]=1
requests GET "http://127.0.0.1:$port/get" >"$work/read2"
awk -F'\t' '$2 == 2 { print $1 }' "$work/held3" | sort >"$work/lost.want"
awk -F'\t' '$2 != 200 { print $1 }' "$work/read2" | sort >"$work/lost.got"
diff -q "$work/lost.want" "$work/lost.got" >/dev/null || fail "with node 2 down, $(wc -l <"$work/lost.got") keys missed; node 2 held $(wc -l <"$work/lost.want") (they must be the same keys)"
bad=$(awk -F'\t' '$2 == 200 && $3 != "value-of-" $1' "$work/read2" | wc -l)
[ "$bad" -eq 0 ] || fail "$bad keys served with a wrong value after node 2 stopped"
echo "   $(wc -l <"$work/lost.got") keys missed (all node 2's); $(count_status 200 "$work/read2") still served; misses answered $(awk -F'\t' '$2 != 200 { print $2 }' "$work/read2" | sort | uniq -c | tr -s ' ' | tr '\n' ' ')"

log "3. node 2 back (empty), then a fourth node: about a quarter of the keys move"
start_node 2
stopped[2]=
reload_nginx 3
requests POST "http://127.0.0.1:$port/store" >/dev/null
holders 3 >"$work/before"
[ "$(cut -f1 "$work/before" | sort -u | wc -l)" -eq "$keys" ] || fail "after refilling, not every key is on a node"
make_host 4
start_node 4
reload_nginx 4
requests GET "http://127.0.0.1:$port/get" >"$work/read4"
moved=$(awk -F'\t' '$2 != 200' "$work/read4" | wc -l)
echo "   $moved of $keys keys moved to node 4"
within 15 35 "$moved" "$keys" || fail "$moved of $keys keys moved when a fourth node joined (want about a quarter)"
requests POST "http://127.0.0.1:$port/store" >/dev/null
# Where each key's newest copy went: node 4 holds exactly the moved keys,
# and every other key was written again on the node that held it before.
holders 4 | awk -F'\t' '$2 == 4 { print $1 }' | sort >"$work/on4"
awk -F'\t' '$2 != 200 { print $1 }' "$work/read4" | sort >"$work/moved"
diff -q "$work/on4" "$work/moved" >/dev/null || fail "node 4 holds $(wc -l <"$work/on4") keys, but $moved keys moved: they must be the same"
bad=$(awk -F'\t' '$2 == 200 && $3 != "value-of-" $1' "$work/read4" | wc -l)
[ "$bad" -eq 0 ] || fail "$bad keys that did not move were served with a wrong value"

echo "deploy test: 3 passed, 0 failed"
