#!/usr/bin/busybox sh
# shellcheck shell=dash disable=SC1091,SC2013
# /init of the rcvgov test VM (busybox sh; packed by make-initramfs.sh).
# Mounts the usual filesystems, loads the packed modules, runs /test/run.sh
# with a hard timeout, prints "RCVGOV-VM-RESULT rc=N" and powers off.
#
# Kernel command line knobs (set by run-vm.sh):
#   rcvgov.timeout=SECS   hard limit for /test/run.sh (default 540)
#   rcvgov.shell=1        drop to a shell instead of running the test (debug)

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=vt100 LANG=C.UTF-8
umask 022

say() { echo "rcvgov-init: $*"; }

mnt() { # type dir [options]
	mkdir -p "$2"
	mount -t "$1" ${3:+-o "$3"} "$1" "$2" || say "warning: mount -t $1 $2 failed"
}
mnt proc /proc
mnt sysfs /sys
mnt devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mnt devpts /dev/pts
mnt tmpfs /dev/shm mode=1777
mnt tmpfs /tmp mode=1777
mnt tmpfs /run mode=755
mnt bpf /sys/fs/bpf mode=700
mnt tracefs /sys/kernel/tracing
mnt debugfs /sys/kernel/debug
mnt cgroup2 /sys/fs/cgroup
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
mkdir -p /run/netns /var/tmp

hostname rcvgov-vm
ip link set lo up || say "warning: cannot bring up lo"
ulimit -l unlimited 2>/dev/null

krel=$(uname -r)
if [ -f /etc/rcvgov-vm/modules.load ]; then
	while read -r m; do
		[ -n "$m" ] || continue
		insmod "/lib/modules/$krel/$m" || say "warning: insmod $m failed"
	done </etc/rcvgov-vm/modules.load
fi

timeout=540
shell=0
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	rcvgov.timeout=*) timeout=${arg#rcvgov.timeout=} ;;
	rcvgov.shell=1) shell=1 ;;
	esac
done

finish() { # rc [reason]
	dmesg -n 1 2>/dev/null
	sync
	echo
	echo "RCVGOV-VM-RESULT rc=$1${2:+ reason=$2}"
	# qemu runs with -no-reboot, so a reboot ends it too; a kernel
	# without ACPI (the kselftest kernels) cannot power off, only halt,
	# and a halted guest would keep qemu running until its timeout
	if [ -d /sys/firmware/acpi ]; then poweroff -f; else reboot -f; fi
	sleep 5
	exit "$1" # init exiting panics the kernel; panic=-1 + -no-reboot ends qemu
}

if [ "$shell" = 1 ]; then
	say "rcvgov.shell=1: starting a shell (exit it to power off)"
	setsid cttyhack /usr/bin/bash -l
	finish 0 shell
fi

if [ ! -x /test/run.sh ]; then
	say "error: no /test/run.sh in the initramfs (make-initramfs.sh --run SCRIPT)"
	finish 127 no-test
fi

if [ -f /test/env ]; then
	set -a
	. /test/env
	set +a
fi
cd /test || finish 127 no-test
echo
say "kernel $krel, running /test/run.sh (timeout ${timeout}s)"
dmesg_before=$(dmesg | wc -l)
echo "RCVGOV-VM-START"

# Run the test in its own session/process group so a timeout kills all of
# it. stdin of a background job is /dev/null: tests never read the console.
setsid /test/run.sh &
pid=$!
(
	sleep "$timeout"
	echo
	say "test timed out after ${timeout}s: killing it"
	: >/run/rcvgov-timed-out
	kill -TERM -- "-$pid" "$pid" 2>/dev/null
	sleep 5
	kill -KILL -- "-$pid" "$pid" 2>/dev/null
) &
watchdog=$!
wait "$pid"
rc=$?
kill "$watchdog" 2>/dev/null

if [ -e /run/rcvgov-timed-out ]; then
	finish 124 timeout
fi
if [ "$rc" -ne 0 ]; then
	say "test failed with rc=$rc; kernel messages since the test started:"
	dmesg | tail -n "+$((dmesg_before + 1))" | tail -n 60
	say "(end of kernel messages)"
fi
finish "$rc"
