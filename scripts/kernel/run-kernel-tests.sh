#!/bin/bash
# One command for the kernel half: build (or reuse from the cache) Debian's
# linux-source-6.1 without and with patches/linux-6.1/series, boot each
# under qemu TCG with a busybox+iproute2 initramfs, run kselftests/tcp_rcvbuf
# inside, run the same kselftests on the host kernel, and compare every
# subtest with kselftests/tcp_rcvbuf/expected.txt:
#   patched   every subtest passes
#   unpatched the "fails before" subtests fail, the baselines pass
#   host      pass or skip; "fixfail" subtests may fail (host lacks the fix)
# and check every test's exit status: it must be a kselftest one (0 pass,
# 1 fail, 4 skip) and agree with its KTAP lines; a VM must report rc=0 (it
# ran every test to the end). A bad exit status is one more failure.
# Last line: "kernel: N passed, M failed"; exit status 0 only if M = 0.
#
# usage: scripts/kernel/run-kernel-tests.sh [--no-host] [--no-vm] [-j N]
# Env: RCVGOV_KCACHE (kernel cache, default /var/cache/rcvgov/kernel),
#      RCVGOV_KSFT_BLOG_SECS (blog pair duration per run, default 15),
#      RCVGOV_KVM_TIMEOUT (seconds per VM, default 900)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
ksft=$repo/kselftests/tcp_rcvbuf
expect=$ksft/expected.txt
do_host=1 do_vm=1 jobs=$(nproc)
while [ $# -gt 0 ]; do
	case $1 in
	--no-host) do_host=0 ;;
	--no-vm) do_vm=0 ;;
	-j) jobs=$2; shift ;;
	-h|--help) sed -n '2,17p' "$0"; exit 0 ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

say() { echo "run-kernel-tests: $*" >&2; }
t_start=$SECONDS
work=$(mktemp -d "${TMPDIR:-/tmp}/rcvgov-ktest.XXXXXX")
logdir=${RCVGOV_KTEST_LOGS:-/tmp/rcvgov-ktest}
mkdir -p "$logdir"
qpid=""
cleanup() {
	[ -n "$qpid" ] && kill "$qpid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

npass=0 nfail=0
check() { # kernel subtest got want
	local k=$1 st=$2 got=$3 want=$4 verdict
	case "$want/$got" in
	ok/ok|fail/fail) verdict=PASS ;;
	fixfail/ok|fixfail/skip|ok/skip) [ "$k" = host ] && verdict=PASS || verdict=FAIL ;;
	fixfail/fail) verdict=PASS; got="fail (host kernel lacks the fix)" ;;
	*) verdict=FAIL ;;
	esac
	if [ $verdict = PASS ]; then npass=$((npass + 1)); else nfail=$((nfail + 1)); fi
	printf '  %-4s %-10s %-34s expected %-8s got %s\n' "$verdict" "$k" "$st" "$want" "$got"
}
# compare the KTAP lines of a log with the expectations for one kernel
evaluate() { # kernel column log
	local k=$1 col=$2 log=$3 st want line got
	while read -r st p u h; do
		case $st in ''|\#*) continue ;; esac
		case $col in 2) want=$p ;; 3) want=$u ;; 4) want=$h ;; esac
		line=$(grep -a -E "^(not )?ok [0-9]+ $st( |$)" "$log" | tail -n 1)
		if [ -z "$line" ]; then got=missing
		elif [[ $line == "not ok"* ]]; then got=fail
		elif [[ $line == *"# SKIP"* ]]; then got=skip
		else got=ok
		fi
		check "$k" "$st" "$got" "$want"
	done < "$expect"
}

# the exit status of every test, from the "KSFT-END name rc=N" lines that
# frame each test's output (tests/vm-kernel/run-kselftests.sh in the VMs,
# the host loop below): a kselftest status (0 pass, 1 fail, 4 skip) that
# agrees with the test's own KTAP lines, else one more failure
check_exits() { # kernel log
	local k=$1 log=$2 t n rc want
	for t in "$ksft"/tcp_*.sh; do
		n=$(basename "$t" .sh)
		rc=$(sed -n "s/^KSFT-END $n rc=\([0-9]*\).*/\1/p" "$log" | tail -n 1)
		# what the KTAP lines of that section say the status must be
		want=$(awk -v n="$n" '
			$0 == "KSFT-BEGIN " n { on = 1; f = p = s = 0; next }
			on && index($0, "KSFT-END " n " ") == 1 { on = 0 }
			on && /^not ok [0-9]+ / { f++ }
			on && /^ok [0-9]+ / { if ($0 ~ /# SKIP/) s++; else p++ }
			END { print (f ? 1 : (p == 0 && s ? 4 : 0)) }' "$log")
		if [ -z "$rc" ]; then
			nfail=$((nfail + 1))
			printf '  %-4s %-10s %-34s no exit status (killed or never run)\n' FAIL "$k" "$n"
		elif [ "$rc" != "$want" ]; then
			nfail=$((nfail + 1))
			printf '  %-4s %-10s %-34s exit status %s, its KTAP lines mean %s\n' FAIL "$k" "$n" "$rc" "$want"
		fi
	done
}

# --- the scenario helper, static so it runs in the initramfs -------------
helper=$work/rcvbuf_helper
if ! gcc -O2 -Wall -static -o "$helper" "$ksft/rcvbuf_helper.c" 2>"$work/gcc.log"; then
	cat "$work/gcc.log" >&2
	say "cannot build rcvbuf_helper"
	echo "kernel: 0 passed, 1 failed"
	exit 1
fi

# --- host kernel ---------------------------------------------------------
if [ $do_host = 1 ]; then
	hlog=$logdir/host.log
	say "host kernel $(uname -r): running kselftests (log $hlog)"
	: > "$hlog"
	for t in "$ksft"/tcp_*.sh; do
		# framed like the VM's output (tests/vm-kernel/run-kselftests.sh)
		n=$(basename "$t" .sh)
		{
			echo "KSFT-BEGIN $n"
			RCVGOV_KSFT_HELPER=$helper RCVGOV_KSFT_BLOG_SECS=${RCVGOV_KSFT_BLOG_SECS:-15} \
				bash "$t" 2>&1
			rc=$?
			echo "KSFT-END $n rc=$rc"
		} >> "$hlog"
	done
	echo "host kernel $(uname -r):"
	evaluate host 4 "$hlog"
	check_exits host "$hlog"
fi

# --- VMs -----------------------------------------------------------------
run_vm() { # variant
	local v=$1 img kdir krel initrd log rc=0 t0=$SECONDS
	img=$("$here/build-kernel.sh" "$v" -j "$jobs") || { say "$v kernel build failed"; return 1; }
	img=$(dirname "$img")
	krel=$(cat "$img/kernel-release")
	# make-initramfs.sh wants a kernel dir; ours has no modules (all =y)
	kdir=$work/kdir-$v
	mkdir -p "$kdir/lib/modules/$krel/kernel" "$kdir/boot"
	echo "$krel" > "$kdir/kernel-release"
	echo "linux-source-6.1 $(cat "$img/source-version") $v" > "$kdir/package"
	cp "$img/.config" "$kdir/boot/config-$krel"
	printf 'kernel/drivers/net/veth.ko\nkernel/net/sched/sch_netem.ko\n' \
		> "$kdir/lib/modules/$krel/modules.builtin"
	initrd=$work/initrd-$v.cpio.gz
	"$repo/scripts/vm/make-initramfs.sh" -k "$kdir" -o "$initrd" \
		-r "$repo/tests/vm-kernel/run-kselftests.sh" \
		-f "$ksft:/test/tcp_rcvbuf" -f "$helper:/test/tcp_rcvbuf/rcvbuf_helper" \
		-e RCVGOV_KSFT_NO_SKIP=1 \
		-e "RCVGOV_KSFT_BLOG_SECS=${RCVGOV_KSFT_BLOG_SECS:-15}" >&2 ||
		{ say "make-initramfs.sh failed"; return 1; }
	log=$logdir/vm-$v.log
	local tmo=${RCVGOV_KVM_TIMEOUT:-900}
	say "$v kernel $krel: booting under qemu TCG (log $log)"
	timeout -k 5 "$tmo" qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp 1 \
		-nographic -no-reboot -nic none \
		-kernel "$img/bzImage" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 quiet rcvgov.timeout=$((tmo - 30))" \
		</dev/null 2>&1 | sed -u -e $'s/\r$//; s/\x1b\\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g' > "$log" || rc=$?
	say "$v VM finished in $((SECONDS - t0)) s (qemu rc $rc)"
	grep -a -q 'RCVGOV-VM-RESULT rc=0' "$log" || say "$v VM did not report a clean result, see $log"
	return 0
}

if [ $do_vm = 1 ]; then
	for v in unpatched patched; do
		if run_vm $v; then
			echo "$v kernel ($(grep -a -m1 '^KSFT-KERNEL' "$logdir/vm-$v.log" | cut -d' ' -f2-)):"
			evaluate "$v" "$([ $v = patched ] && echo 2 || echo 3)" "$logdir/vm-$v.log"
			check_exits "$v" "$logdir/vm-$v.log"
			# the in-VM runner's own exit status (init.sh prints it)
			if ! grep -a -q 'RCVGOV-VM-RESULT rc=0' "$logdir/vm-$v.log"; then
				nfail=$((nfail + 1))
				echo "  FAIL $v kernel: the VM did not report rc=0 (timeout or crash), see $logdir/vm-$v.log"
			fi
			grep -a -E '^# (clamp: rcvbuf|tcp_shrink_window=[0-9]: rcvbuf max|after the ACK|filled:)' \
				"$logdir/vm-$v.log" | sed "s/^#/    [$v]/"
		else
			nfail=$((nfail + 1))
			echo "  FAIL $v kernel could not be built or booted"
		fi
	done
fi

say "total $((SECONDS - t_start)) s"
echo "kernel: $npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
