#!/usr/bin/env bash
# Installs every Debian package rcvgov needs to build, test and run its VM
# tests. Idempotent: packages already present are left alone, so the make
# targets can call it on every run at the cost of one dpkg query.
set -euo pipefail

PKGS=(
	make g++ clang llvm pkg-config
	libclang-rt-14-dev clang-format clang-tidy bear
	libbpf-dev bpftool libelf-dev zlib1g-dev
	libmnl-dev libsystemd-dev
	libgtest-dev libgmock-dev libbenchmark-dev
	nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev libtomlplusplus-dev
	iproute2 procps ethtool socat pv netcat-openbsd
	iperf3 # bench/p2-throughput.sh (P2/P3)
	qemu-system-x86 busybox-static cpio gzip xz-utils
	python3 jq util-linux
	linux-source-6.1 bc flex bison libssl-dev libc6-dev
	systemd # systemd-analyze verify/security: tests/integration/systemd_unit.sh
)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -eq 0 ]; then
	exit 0
fi

echo "deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: need root to apt-get install the packages above (run: sudo $0)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
