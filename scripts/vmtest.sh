#!/usr/bin/env bash
# vmtest.sh: run corekv's QEMU VM suite (vmtest.TestVM), installing what it
# needs first: Debian's qemu-system-x86 and a Debian kernel unpacked into
# .cache/vmtest/kernel (downloaded once, then reused).
#
#   scripts/vmtest.sh [go test flags...]     boot every preset and check it
#   scripts/vmtest.sh refresh DIR            copy each guest's /sys topology
#                                            files to DIR/<fixture>/sys
#                                            (the topology/testdata layout;
#                                            use an empty DIR, then diff or
#                                            rsync -a --delete it over)
#   scripts/vmtest.sh fetch                  only install QEMU and the kernel
#
# Extra arguments go to the test binary, for example
#   scripts/vmtest.sh -vm.presets=2s-smt,4node -vm.groups=sysfs,topology
#   scripts/vmtest.sh -vm.presets=2s-smt,4node -vm.groups=numa   (NUMA placement only)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=$root/.cache/vmtest

apt_updated=
apt_update() {
	if [ -z "$apt_updated" ]; then
		apt-get update -qq
		apt_updated=1
	fi
}

install_qemu() {
	command -v qemu-system-x86_64 >/dev/null && return
	apt_update
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-system-x86 >/dev/null
}

# fetch_kernel resolves linux-image-amd64 to the real package, downloads it
# into the cache and unpacks it, unless that version is there already.
fetch_kernel() {
	apt_update
	local pkg
	pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	if [ -z "$pkg" ]; then
		echo "vmtest.sh: cannot resolve linux-image-amd64 to a kernel package" >&2
		exit 1
	fi
	if [ -f "$cache/kernel/.package" ] && [ "$(cat "$cache/kernel/.package")" = "$pkg" ]; then
		return
	fi
	mkdir -p "$cache"
	rm -rf "$cache/kernel" "$cache"/*.deb
	(cd "$cache" && apt-get download -qq -o APT::Sandbox::User=root "$pkg")
	dpkg -x "$cache/$pkg"_*.deb "$cache/kernel"
	rm -f "$cache"/*.deb
	echo "$pkg" >"$cache/kernel/.package"
}

kernel_ready() {
	compgen -G "$cache/kernel/boot/vmlinuz-*" >/dev/null
}

install_qemu
# An unpacked kernel is reused without asking apt, so runs need no index
# refresh once the cache is warm; `fetch` refreshes it on purpose.
if [ "${1:-}" = fetch ] || ! kernel_ready; then
	fetch_kernel
fi

cd "$root"
case "${1:-}" in
fetch)
	exit 0
	;;
refresh)
	out=${2:?usage: vmtest.sh refresh DIR}
	shift 2
	exec go test ./vmtest -run '^TestVM$' -count=1 -v -timeout 20m -vm \
		-vm.groups=sysfs -vm.sysfs-out="$(realpath -m "$out")" "$@"
	;;
*)
	exec go test ./vmtest -run '^TestVM$' -count=1 -v -timeout 15m -vm "$@"
	;;
esac
