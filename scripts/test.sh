#!/usr/bin/env bash
# Runs all of corekv's tests on a fresh Debian machine, as root: installs
# what they need (curl, nginx and iproute2 for deploy/test.sh, memcached and
# Redis for bench/peers, Prometheus, h2load and h2spec; QEMU and a Debian
# kernel for the VM suite), then vets and tests every package (also under
# -race), runs a bounded fuzz pass, the nginx deployment test in network
# namespaces, the Kubernetes manifest check and the multi-socket VM suite.
#   scripts/test.sh           everything
#   SKIP_VM=1 scripts/test.sh everything but the VM suite
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {
	local missing=()
	for pkg in "$@"; do
		dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
	done
	if ((${#missing[@]})); then
		echo "== installing ${missing[*]}"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
	fi
}
apt_install curl util-linux nginx iproute2 memcached redis-server
# prometheus (with promtool), for soak.TestPrometheus: the real server scrapes corekv.
apt_install prometheus
# h2load, for shard.TestH2Load (the loop engine's h2c under many streams).
apt_install nghttp2-client

echo "== go mod download"
go mod download

# h2spec, the HTTP/2 conformance suite conformance.TestH2spec runs against
# corekv (the test skips without it). Pinned: the test's expected failures
# are h2spec's case numbers in this version (its dependencies, having no
# go.mod, resolve to their latest). Into $(go env GOPATH)/bin, where the
# test looks when it is not on PATH.
echo "== go install h2spec"
GOBIN="$(go env GOPATH)/bin" go install github.com/summerwind/h2spec/cmd/h2spec@v2.2.1+incompatible

echo "== gofmt, go vet (linux and darwin)"
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
	echo "gofmt would change: $unformatted"
	exit 1
fi
go vet ./...
GOOS=darwin go vet ./...

echo "== go test"
go test -count=1 ./...

echo "== go test -race (every package)"
go test -count=1 -race ./...

# A bounded fuzz pass over every fuzz target, found by name in the tests of
# each package of the module (go test above replays each corpus in
# testdata/fuzz). The parsers of HTTP requests (HTTP/2's FuzzConn included)
# fuzz for FUZZTIME_HTTP, the others for FUZZTIME: FUZZTIME=5m
# FUZZTIME_HTTP=5m scripts/test.sh fuzzes longer.
# -fuzzminimizetime bounds the minimizing of each new input: with the
# default (60 s), a worker still minimizing when the fuzz time ends made go
# test fail with "context deadline exceeded" though nothing was found.
fuzztime=${FUZZTIME:-5s}
fuzztime_http=${FUZZTIME_HTTP:-30s}
for dir in $(go list -f '{{.Dir}}' ./...); do
	for target in $(grep -hso '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go | cut -d' ' -f2); do
		case $target in
		FuzzParseDifferential | FuzzParseHead | FuzzAppendKey | FuzzConn) t=$fuzztime_http ;;
		*) t=$fuzztime ;;
		esac
		echo "== fuzz $dir $target for $t"
		go test -run '^$' -fuzz "^$target\$" -fuzztime "$t" -fuzzminimizetime 1s "$dir"
	done
done

echo "== deploy: nginx consistent hashing over corekv nodes in network namespaces"
bash deploy/test.sh
echo "== deploy: Kubernetes manifests (deploy/kubernetes/check, a module of its own)"
(cd deploy/kubernetes/check && go test -count=1 ./...)

echo "== VM suite"
[ -n "${SKIP_VM:-}" ] || bash scripts/vmtest.sh
