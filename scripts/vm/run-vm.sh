#!/usr/bin/env bash
# run-vm.sh: run a test script inside Debian's stock 6.1 cloud kernel under
# qemu TCG and exit with the script's exit code. See --help and README.md.
set -euo pipefail

prog="run-vm"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "$prog: error: $*" >&2; exit 2; }
say() { echo "$prog: $*" >&2; }

usage() {
	cat <<'EOF'
usage: scripts/vm/run-vm.sh --run SCRIPT [options]
       scripts/vm/run-vm.sh --initrd FILE [options]

Boots Debian's linux-image-6.1.*-cloud-amd64 (fetched and cached by
fetch-kernel.sh) under qemu-system-x86_64 -accel tcg -cpu max, with an
initramfs built on the fly by make-initramfs.sh, runs SCRIPT as
/test/run.sh (cwd /test) and exits with SCRIPT's exit code.

Test contents (passed to make-initramfs.sh; see its --help):
  -r, --run SCRIPT        the test script (#!/bin/sh = busybox, or #!/bin/bash)
  -b, --bin SRC[:DEST]    host executable + its shared libs (default DEST
                          /usr/local/bin/<basename>, which is on PATH)
  -f, --file SRC[:DEST]   host file/dir (default DEST /test/<basename>)
  -m, --module NAME       extra kernel module (veth and sch_netem always)
  -e, --env NAME=VALUE    environment for the test
      --initrd FILE       use this prebuilt initramfs instead of building one
      --keep-initrd FILE  also keep the built initramfs at FILE

VM:
  -t, --timeout SECS      wall-clock limit for the whole VM (default 600,
                          env RCVGOV_VM_TIMEOUT); the test itself is killed
                          inside the VM a bit earlier (SECS - min(60,
                          max(15, SECS/5))) so a result is still reported
  -l, --log FILE          console log (default /tmp/rcvgov-vm/<script>.log,
                          env RCVGOV_VM_LOG)
  -q, --quiet             do not stream the console; print its tail on failure
      --mem MB            guest RAM (default 1024)
      --smp N             guest CPUs (default 1)
      --kernel-dir DIR    boot this kernel instead of Debian's stock one: a
                          directory laid out like fetch-kernel.sh's (vmlinuz,
                          kernel-release, lib/modules/RELEASE/...), e.g. one
                          of scripts/kernel/build-kernel.sh's images
      --shell             boot to an interactive busybox shell (debugging)
  -h, --help

Environment: RCVGOV_VM_APPEND (extra kernel args, e.g. "loglevel=7" to
undo "quiet"), RCVGOV_CACHE and RCVGOV_VM_KERNEL_PKG (see fetch-kernel.sh).

Exit status: the test's exit status (124 if it hit the in-VM timeout);
2 if the harness could not start (missing tool, bad argument, build error);
125 if the VM never reported a result (wall-clock timeout, kernel panic,
qemu failure): the console log says why.

Example:
  scripts/vm/run-vm.sh --bin build/bin/rcvgovd --bin build/bin/rcvgovctl \
      --bin build/bin/rcvgov-sender --bin build/bin/rcvgov-reader \
      --run tests/vm/observer_fexit.sh
EOF
}

mk_args=() run="" initrd="" keep="" kdir="" timeout=${RCVGOV_VM_TIMEOUT:-600}
log=${RCVGOV_VM_LOG:-} quiet=0 mem=1024 smp=1 shell=0
while [ $# -gt 0 ]; do
	case "$1" in
	-r | --run) run=${2:?}; mk_args+=(--run "$2"); shift ;;
	-b | --bin | -f | --file | -m | --module | -e | --env) mk_args+=("$1" "${2:?$1 needs an argument}"); shift ;;
	--initrd) initrd=${2:?}; shift ;;
	--keep-initrd) keep=${2:?}; shift ;;
	-t | --timeout) timeout=${2:?}; shift ;;
	-l | --log) log=${2:?}; shift ;;
	-q | --quiet) quiet=1 ;;
	--mem) mem=${2:?}; shift ;;
	--smp) smp=${2:?}; shift ;;
	--kernel-dir) kdir=${2:?}; shift ;;
	--shell) shell=1 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument: $1" ;;
	esac
	shift
done
{ [[ "$timeout" =~ ^[0-9]+$ ]] && [ "$timeout" -gt 0 ]; } || die "--timeout wants a positive number of seconds, got '$timeout'"
[[ "$mem" =~ ^[0-9]+$ ]] || die "--mem wants megabytes, got '$mem'"
[[ "$smp" =~ ^[0-9]+$ ]] || die "--smp wants a number, got '$smp'"
if [ -z "$initrd" ] && [ -z "$run" ] && [ "$shell" = 0 ]; then
	usage >&2
	die "nothing to run: give --run SCRIPT (or --initrd FILE, or --shell)"
fi
[ -z "$initrd" ] || [ ${#mk_args[@]} -eq 0 ] || die "--initrd cannot be combined with --run/--bin/--file/--module/--env"

command -v qemu-system-x86_64 >/dev/null 2>&1 || die "qemu-system-x86_64 not found: install qemu-system-x86 (run scripts/deps.sh)"
command -v timeout >/dev/null 2>&1 || die "timeout not found (coreutils)"

if [ -z "$kdir" ]; then
	kdir=$("$here/fetch-kernel.sh") || die "fetch-kernel.sh failed (see above)"
fi
[ -f "$kdir/vmlinuz" ] && [ -f "$kdir/kernel-release" ] ||
	die "$kdir has no vmlinuz or kernel-release: not a kernel directory"
krel=$(cat "$kdir/kernel-release")

name=$(basename "${run:-${initrd:-shell}}")
name=${name%%.*}
if [ -z "$log" ]; then
	log=/tmp/rcvgov-vm/$name.log
fi
mkdir -p "$(dirname "$log")"

work=$(mktemp -d "${TMPDIR:-/tmp}/rcvgov-vm.XXXXXX")
# shellcheck disable=SC2317 # invoked by trap
cleanup() {
	# Never leave a qemu behind (Ctrl-C, make killed by a CI timeout...).
	local pid
	if [ -s "$work/qemu.pid" ] && pid=$(cat "$work/qemu.pid" 2>/dev/null) &&
		kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT
trap 'say "terminated"; exit 143' TERM

if [ -z "$initrd" ]; then
	initrd=$work/initrd.cpio.gz
	"$here/make-initramfs.sh" -k "$kdir" -o "$initrd" "${mk_args[@]}" || die "make-initramfs.sh failed (see above)"
	if [ -n "$keep" ]; then
		mkdir -p "$(dirname "$keep")"
		cp "$initrd" "$keep"
	fi
fi
[ -f "$initrd" ] || die "initramfs $initrd does not exist"

margin=$((timeout / 5))
[ "$margin" -lt 15 ] && margin=15
[ "$margin" -gt 60 ] && margin=60
guest_timeout=$((timeout - margin))
[ "$guest_timeout" -lt 1 ] && guest_timeout=1

append="console=ttyS0 panic=-1 quiet rcvgov.timeout=$guest_timeout"
[ "$shell" = 1 ] && append+=" rcvgov.shell=1"
append+=" ${RCVGOV_VM_APPEND:-}"

qemu=(qemu-system-x86_64 -accel tcg -cpu max -m "$mem" -smp "$smp"
	-nographic -no-reboot -nic none -pidfile "$work/qemu.pid"
	-kernel "$kdir/vmlinuz" -initrd "$initrd" -append "$append")

say "kernel $krel, initramfs $(du -h "$initrd" | cut -f1), timeout ${timeout}s (test ${guest_timeout}s), log $log"
start=$(date +%s.%N)
if [ "$shell" = 1 ]; then
	# Interactive: the console is the terminal (Ctrl-A x quits qemu).
	"${qemu[@]}" 2>&1 | tee "$log"
	exit 0
fi

# qemu's stdin is /dev/null: the test never reads the console, and qemu
# must not put the caller's terminal into raw mode. CRs and SeaBIOS'
# terminal escapes are stripped so the log reads well. The pipeline runs in
# the background so that INT/TERM reach our traps at once (cleanup kills
# qemu through its pidfile).
clean=$'s/\r$//; s/\x1b\\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g'
echo 255 >"$work/qrc"
if [ "$quiet" = 1 ]; then
	{ r=0; timeout -k 5 "$timeout" "${qemu[@]}" </dev/null 2>&1 || r=$?; { echo $r >"$work/qrc"; } 2>/dev/null; } |
		sed -u -e "$clean" >"$log" &
else
	{ r=0; timeout -k 5 "$timeout" "${qemu[@]}" </dev/null 2>&1 || r=$?; { echo $r >"$work/qrc"; } 2>/dev/null; } |
		sed -u -e "$clean" | tee "$log" &
fi
wait $! || true
qrc=$(cat "$work/qrc")
elapsed=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')

result=$(grep -a -o 'RCVGOV-VM-RESULT rc=[0-9]*\( reason=[a-z-]*\)\?' "$log" | tail -n 1 || true)
if [ -n "$result" ]; then
	rc=${result#RCVGOV-VM-RESULT rc=}
	reason=""
	if [[ "$rc" == *" reason="* ]]; then
		reason=${rc#* reason=}
		rc=${rc%% *}
	fi
	if [ "$rc" = 0 ]; then
		say "PASS $name (${elapsed}s, log $log)"
	else
		if [ "$quiet" = 1 ]; then
			echo "---- last 60 console lines ($log) ----" >&2
			tail -n 60 "$log" >&2
			echo "----" >&2
		fi
		case "$reason" in
		timeout) say "FAIL $name: the test was killed after its ${guest_timeout}s in-VM timeout (rc=124, ${elapsed}s, log $log)" ;;
		*) say "FAIL $name: test exited with rc=$rc${reason:+ ($reason)} (${elapsed}s, log $log)" ;;
		esac
	fi
	exit "$rc"
fi

# No marker: say why as precisely as we can.
if [ "$quiet" = 1 ]; then
	echo "---- last 60 console lines ($log) ----" >&2
	tail -n 60 "$log" >&2
	echo "----" >&2
fi
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	why="the VM hit the ${timeout}s wall-clock timeout"
elif grep -a -q 'Kernel panic' "$log"; then
	why="kernel panic: $(grep -a -m1 'Kernel panic' "$log" | sed 's/^.*Kernel panic/Kernel panic/')"
elif [ "$qrc" != 0 ]; then
	why="qemu exited with status $qrc"
else
	why="the VM powered off without printing a result"
fi
if ! grep -a -q 'RCVGOV-VM-START' "$log"; then
	why+="; the test never started (boot or /init failed)"
fi
say "ERROR $name: no RCVGOV-VM-RESULT marker: $why (${elapsed}s, log $log)"
exit 125
