#!/usr/bin/env bash
# Installs the Debian packages rcvgov needs, in three sets:
#
#   build    compile the BPF objects and the programs (make, make run)
#   runtime  run the programs on a server: the shared libraries they link
#            (a server that installs the .deb gets these from its Depends)
#   test     everything `make test` needs beyond those: GoogleTest, the
#            sanitizer runtime, netns tools, qemu and kernel sources for the
#            VM and kernel tests, Prometheus, packaging tools, ...
#
#   scripts/deps.sh [build|runtime|test|all]...   (default: all)
#   scripts/deps.sh --list SET...                  print the packages, install nothing
#
# Idempotent: packages already present are left alone, so the make targets
# call it on every run at the cost of one dpkg query.
set -euo pipefail

BUILD_PKGS=(
	make g++ clang llvm pkg-config
	libbpf-dev bpftool libelf-dev zlib1g-dev
	libmnl-dev libsystemd-dev
	nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev libtomlplusplus-dev
	prometheus-cpp-dev # /metrics (userspace/metrics/)
	xz-utils           # bpf/vmlinux/vmlinux.h.xz when the host has no BTF
	gzip               # make install: the man pages
)

RUNTIME_PKGS=(
	libbpf1 libelf1 zlib1g libmnl0 libsystemd0
	libtomlplusplus3 libspdlog1.10 libfmt9
	libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0
)

TEST_PKGS=(
	libgtest-dev libgmock-dev libbenchmark-dev
	libclang-rt-14-dev clang-format clang-tidy bear
	iproute2 procps ethtool socat pv netcat-openbsd
	iperf3 # bench/p2-throughput.sh (P2/P3)
	qemu-system-x86 busybox-static cpio
	python3 jq util-linux
	linux-source-6.1 linux-source-6.12 bc flex bison libssl-dev libc6-dev
	dwarves # pahole: BTF for the kernels built for the VM tests
	systemd # systemd-analyze verify/security: tests/integration/systemd_unit.sh
	prometheus          # promtool: tests/deploy/check.sh (deploy/ rules)
	python3-matplotlib  # scripts/plot/rcvgov-plot.py, tests/plot/
	# tests/package/check.sh: the .deb, its lint, the man pages, completion
	dpkg-dev debhelper lintian groff man-db bash-completion git
)

list=0
if [ "${1:-}" = --list ]; then
	list=1
	shift
fi
PKGS=()
for set in "${@:-all}"; do
	case $set in
	build) PKGS+=("${BUILD_PKGS[@]}") ;;
	runtime) PKGS+=("${RUNTIME_PKGS[@]}") ;;
	test) PKGS+=("${TEST_PKGS[@]}") ;;
	all) PKGS+=("${BUILD_PKGS[@]}" "${RUNTIME_PKGS[@]}" "${TEST_PKGS[@]}") ;;
	*)
		echo "usage: $0 [--list] [build|runtime|test|all]..." >&2
		exit 2
		;;
	esac
done
if [ "$list" -eq 1 ]; then
	printf '%s\n' "${PKGS[@]}"
	exit 0
fi

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
	echo "deps: need root to apt-get install the packages above (run: sudo $0 $*)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
