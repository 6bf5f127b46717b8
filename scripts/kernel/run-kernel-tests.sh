#!/bin/bash
# One command for the kernel half: build (or reuse from the cache) Debian's
# linux-source-<base> without and with patches/linux-<base>/series, boot
# each under qemu TCG with a busybox+iproute2 initramfs, run
# kselftests/tcp_rcvbuf inside (tests/vm-kernel/run-kselftests.sh), run the
# same kselftests on the host kernel, and judge every log with
# scripts/kernel/ktap_verdict.py against kselftests/tcp_rcvbuf/expected.txt:
# every subtest must give its expected result, and every expected failure
# or skip its expected reason (the "# SIGNATURE" line); a crash, a timeout,
# a KTAP plan mismatch or a different reason fails the run.  The verdict
# logic is unit-tested first (tests/vm-kernel/ktap_verdict_test.py, canned
# logs).  The patched VMs also print the strict mode cost table
# (kselftests/tcp_rcvbuf/strict_cost.sh), which is not judged.
# Last line: "kernel: N passed, M failed"; exit status 0 only if M = 0.
#
# usage: scripts/kernel/run-kernel-tests.sh [--no-host] [--no-vm] [--stock]
#            [--base "6.1 6.12"] [--variants "unpatched patched"] [-j N]
# Kernel names (expected.txt): host, <base>-unpatched, <base>-patched, and
# with --stock stock-6.1-unpatched: Debian's own 6.1 cloud kernel
# (scripts/vm/fetch-kernel.sh, modules packed), the same source as
# linux-source-6.1 with Debian's config: a second "unpatched" control.
# --base defaults to every patches/linux-<base>/series in the tree.
# Env: RCVGOV_KCACHE (kernel cache, default /var/cache/rcvgov/kernel),
#      RCVGOV_KSFT_BLOG_SECS (blog pair duration per run, default 15),
#      RCVGOV_KVM_TIMEOUT (seconds per VM, default 1800),
#      RCVGOV_KSFT_COST=0 (no cost table in the patched VMs),
#      RCVGOV_KSFT_DAEMON=0 (no rcvgovd run on the patched kernels),
#      RCVGOV_BIN (rcvgovd and the pair programs, default build/bin),
#      RCVGOV_KTEST_LOGS (log directory, default /tmp/rcvgov-ktest)
# The host part runs network tests: run it under the shared lock,
# `flock /tmp/rcvgov-daemon.lock scripts/kernel/run-kernel-tests.sh --no-vm`.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
ksft=$repo/kselftests/tcp_rcvbuf
expect=$ksft/expected.txt
verdict=$here/ktap_verdict.py
do_host=1 do_vm=1 do_stock=0 jobs=$(nproc) bases="" variants="unpatched patched"
while [ $# -gt 0 ]; do
	case $1 in
	--no-host) do_host=0 ;;
	--no-vm) do_vm=0 ;;
	--stock) do_stock=1 ;;
	--base) bases=$2; shift ;;
	--variants) variants=$2; shift ;;
	-j) jobs=$2; shift ;;
	-h|--help) sed -n '2,29p' "$0"; exit 0 ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
if [ -z "$bases" ]; then
	for s in "$repo"/patches/linux-*/series; do
		[ -f "$s" ] || continue
		b=${s%/series}
		bases+="${bases:+ }${b##*/linux-}"
	done
fi

say() { echo "run-kernel-tests: $*" >&2; }
t_start=$SECONDS
work=$(mktemp -d "${TMPDIR:-/tmp}/rcvgov-ktest.XXXXXX")
logdir=${RCVGOV_KTEST_LOGS:-/tmp/rcvgov-ktest}
mkdir -p "$logdir"
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

npass=0 nfail=0
# judge KERNEL LOG [--vm]: ktap_verdict.py's lines, its counts added up
judge() {
	local k=$1 log=$2 out p f
	shift 2
	out=$(python3 "$verdict" --expect "$expect" --kernel "$k" "$@" "$log")
	printf '%s\n' "$out" | grep -v '^verdict '
	p=$(sed -n 's/^verdict .*: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' <<<"$out")
	f=$(sed -n 's/^verdict .*: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' <<<"$out")
	if [ -z "$p" ]; then
		echo "  FAIL $k: ktap_verdict.py failed"
		nfail=$((nfail + 1))
		return
	fi
	npass=$((npass + p)) nfail=$((nfail + f))
}
# the figures worth reading in a log
figures() { # name log
	grep -a -E '^# (clamp: rcvbuf|tcp_shrink_window=[0-9]: rcvbuf max|after the ACK|filled:|[a-z0-9]+_shrink[12] (receiver|sender):|recv_resume_to_end_ms)' \
		"$2" | sed "s/^#/    [$1]/"
	sed -n '/^KSFT-COST-BEGIN/,/^KSFT-COST-END/p' "$2" | sed "s/^/    [$1] /"
}

# --- the verdict logic itself, on canned logs ------------------------------
if python3 "$repo/tests/vm-kernel/ktap_verdict_test.py" > "$work/selftest.log" 2>&1; then
	npass=$((npass + 1))
	echo "  PASS ktap_verdict.py unit tests ($(tail -n 1 "$work/selftest.log"))"
else
	nfail=$((nfail + 1))
	echo "  FAIL ktap_verdict.py unit tests:"
	sed 's/^/    /' "$work/selftest.log"
fi

# --- the helpers (TEST_GEN_FILES), static so they run in the initramfs -------
bin=$work/bin
if ! make -s -C "$ksft" OUTPUT="$bin" LDFLAGS=-static all > "$work/gcc.log" 2>&1; then
	cat "$work/gcc.log" >&2
	say "cannot build the kselftest helpers"
	echo "kernel: $npass passed, $((nfail + 1)) failed"
	exit 1
fi

# --- host kernel -------------------------------------------------------------
if [ $do_host = 1 ]; then
	hlog=$logdir/host.log
	say "host kernel $(uname -r): running kselftests (log $hlog)"
	RCVGOV_KSFT_BIN=$bin RCVGOV_KSFT_BLOG_SECS=${RCVGOV_KSFT_BLOG_SECS:-15} \
		bash "$repo/tests/vm-kernel/run-kselftests.sh" "$ksft" > "$hlog" 2>&1
	echo "host kernel $(uname -r):"
	judge host "$hlog"
	figures host "$hlog"
fi

# --- VMs -----------------------------------------------------------------------
run_vm() { # base variant log
	local b=$1 v=$2 log=$3 img kdir krel initrd rc=0 t0=$SECONDS cost=0 bz mods=()
	if [ "$v" = stock ]; then
		# Debian's cloud kernel: its modules are packed and loaded at boot
		kdir=$("$repo/scripts/vm/fetch-kernel.sh") || { say "fetch-kernel.sh failed"; return 1; }
		bz=$kdir/vmlinuz
		mods=(-m tun -m sch_tbf)
	else
		img=$("$here/build-kernel.sh" --base "$b" "$v" -j "$jobs") || { say "$b-$v kernel build failed"; return 1; }
		img=$(dirname "$img")
		bz=$img/bzImage
		krel=$(cat "$img/kernel-release")
		# make-initramfs.sh wants a kernel dir; ours has no modules (all =y)
		kdir=$work/kdir-$b-$v
		mkdir -p "$kdir/lib/modules/$krel/kernel" "$kdir/boot"
		echo "$krel" > "$kdir/kernel-release"
		echo "$(cat "$img/source-version") $v" > "$kdir/package"
		cp "$img/.config" "$kdir/boot/config-$krel"
		printf 'kernel/drivers/net/veth.ko\nkernel/net/sched/sch_netem.ko\n' \
			> "$kdir/lib/modules/$krel/modules.builtin"
	fi
	[ "$v" = patched ] && [ "${RCVGOV_KSFT_COST:-1}" = 1 ] && cost=1
	initrd=$work/initrd-$b-$v.cpio.gz
	local files=(-f "$ksft:/test/tcp_rcvbuf") f
	for f in "$bin"/*; do files+=(-f "$f:/test/tcp_rcvbuf/$(basename "$f")"); done
	"$repo/scripts/vm/make-initramfs.sh" -k "$kdir" -o "$initrd" "${mods[@]}" \
		-r "$repo/tests/vm-kernel/run-kselftests.sh" "${files[@]}" \
		-e RCVGOV_KSFT_NO_SKIP=1 -e RCVGOV_KSFT_GLOBAL_SYSCTL=1 -e RCVGOV_KSFT_COST=$cost \
		-e "RCVGOV_KSFT_BLOG_SECS=${RCVGOV_KSFT_BLOG_SECS:-15}" >&2 ||
		{ say "make-initramfs.sh failed"; return 1; }
	local tmo=${RCVGOV_KVM_TIMEOUT:-1800}
	say "$b-$v kernel $(cat "$kdir/kernel-release"): booting under qemu TCG (log $log)"
	timeout -k 5 "$tmo" qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp 1 \
		-nographic -no-reboot -nic none \
		-kernel "$bz" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 quiet rcvgov.timeout=$((tmo - 30))" \
		</dev/null 2>&1 | sed -u -e $'s/\r$//; s/\x1b\\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g' > "$log" || rc=$?
	say "$b-$v VM finished in $((SECONDS - t0)) s (qemu rc $rc)"
	[ "$v" = patched ] && [ "${RCVGOV_KSFT_DAEMON:-1}" = 1 ] && daemon_case "$b-$v" "$kdir" "$bz"
	return 0
}

# daemon_case NAME KDIR BZIMAGE: rcvgovd end to end on a patched kernel
# (BTF, tcp:tcp_rcvbuf_prune): tests/vm/observer_fexit.sh, expecting the
# clamp hook on the tracepoint and the reader's inflation events from it.
# Our kernels have no function tracer, so fexit on tcp_try_coalesce is
# refused (EBUSY) and coalesce is expected on its fallback.
daemon_case() {
	local name=$1 kdir=$2 bz=$3 bin=${RCVGOV_BIN:-$repo/build/bin} t0=$SECONDS
	local log=$logdir/vm-$name-rcvgovd.log p
	ln -sf "$bz" "$kdir/vmlinuz"
	local bins=()
	for p in "$bin/rcvgovd" "$bin/rcvgovctl" "$bin/rcvgov-sender" "$bin/rcvgov-reader" \
		"$(command -v jq)" "$(command -v chrt)" "$(command -v pkill)"; do
		bins+=(--bin "$p")
	done
	if "$repo/scripts/vm/run-vm.sh" --kernel-dir "$kdir" --quiet --timeout 600 \
		--log "$log.console" "${bins[@]}" \
		--env RCVGOV_VM_EXPECT_COALESCE=tp_btf/tcp_probe \
		--env RCVGOV_VM_EXPECT_CLAMP=tp_btf/tcp_rcvbuf_prune \
		--env RCVGOV_VM_EXPECT_INFLATION=tp_btf/tcp_rcvbuf_prune \
		--env RCVGOV_VM_EXPECT_STRICT=1 \
		--run "$repo/tests/vm/observer_fexit.sh" > "$log" 2>&1; then
		echo "  PASS rcvgovd on $name: clamp hook and inflation events on tp_btf/tcp_rcvbuf_prune, strict rung at 2 ($((SECONDS - t0)) s)"
		npass=$((npass + 1))
	else
		echo "  FAIL rcvgovd on $name ($((SECONDS - t0)) s), log $log, console $log.console"
		grep -a -E '^(FAIL|kernel|attempt)' "$log.console" | tail -n 8 | sed 's/^/    /'
		nfail=$((nfail + 1))
	fi
}

vm_case() { # base variant name
	local log=$logdir/vm-$3.log
	if run_vm "$1" "$2" "$log"; then
		echo "$3 kernel ($(grep -a -m1 '^KSFT-KERNEL' "$log" | cut -d' ' -f2-)):"
		judge "$3" "$log" --vm
		figures "$3" "$log"
	else
		nfail=$((nfail + 1))
		echo "  FAIL $3 kernel could not be built or booted"
	fi
}
if [ $do_vm = 1 ]; then
	[ $do_stock = 0 ] || vm_case 6.1 stock stock-6.1-unpatched
	for b in $bases; do
		for v in $variants; do vm_case "$b" "$v" "$b-$v"; done
	done
fi

say "total $((SECONDS - t_start)) s"
echo "kernel: $npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
