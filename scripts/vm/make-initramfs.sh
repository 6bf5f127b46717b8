#!/usr/bin/env bash
# make-initramfs.sh: build the gzip'd newc initramfs of the rcvgov test VM:
# busybox-static, bash, iproute2 (ip, ss, nstat, tc), bpftool, the host
# binaries given with --bin (all with their shared libraries and the dynamic
# loader, at the host's paths), kernel modules from the cached Debian kernel,
# scripts/vm/init.sh as /init, and the test script as /test/run.sh.
set -euo pipefail

prog="make-initramfs"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "$prog: error: $*" >&2; exit 2; }
log() { if [ "$verbose" = 1 ]; then echo "$prog: $*" >&2; fi; }

usage() {
	cat <<'EOF'
usage: scripts/vm/make-initramfs.sh -o OUT.cpio.gz [options]

  -o, --output FILE        where to write the initramfs (required)
  -k, --kernel-dir DIR     kernel cache dir from fetch-kernel.sh
                           (default: run scripts/vm/fetch-kernel.sh)
  -r, --run SCRIPT         test script, packed as /test/run.sh (needs a
                           shebang: #!/bin/sh is busybox, #!/bin/bash works)
  -b, --bin SRC[:DEST]     host executable (with all its shared libraries);
                           DEST default /usr/local/bin/<basename> (on PATH)
  -f, --file SRC[:DEST]    host file or directory, copied recursively;
                           DEST default /test/<basename>
  -m, --module NAME        extra kernel module to load at boot, with its
                           dependencies (default set: veth sch_netem)
  -e, --env NAME=VALUE     exported to the test (written to /test/env)
  -v, --verbose            say what is packed
  -h, --help

In the VM, PATH is /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin,
the cwd of the test is /test, and the real ip/ss/nstat/tc/bpftool/bash
shadow busybox's applets.
EOF
}

out="" kdir="" run="" verbose=0
bins=() files=() modules=(veth sch_netem) envs=()
while [ $# -gt 0 ]; do
	case "$1" in
	-o | --output) out=${2:?}; shift ;;
	-k | --kernel-dir) kdir=${2:?}; shift ;;
	-r | --run) run=${2:?}; shift ;;
	-b | --bin) bins+=("${2:?}"); shift ;;
	-f | --file) files+=("${2:?}"); shift ;;
	-m | --module) modules+=("${2:?}"); shift ;;
	-e | --env) envs+=("${2:?}"); shift ;;
	-v | --verbose) verbose=1 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument: $1" ;;
	esac
	shift
done
[ -n "$out" ] || { usage >&2; die "-o OUTPUT is required"; }

need() { # tool package
	command -v "$1" >/dev/null 2>&1 || die "$1 not found: install $2 (run scripts/deps.sh)"
}
need cpio cpio
need gzip gzip
need ldd libc-bin
[ -x /bin/busybox ] || die "/bin/busybox not found: install busybox-static (run scripts/deps.sh)"
if ldd /bin/busybox >/dev/null 2>&1; then
	die "/bin/busybox is dynamically linked: install busybox-static instead of busybox (run scripts/deps.sh)"
fi

if [ -z "$kdir" ]; then
	kdir=$("$here/fetch-kernel.sh") || die "fetch-kernel.sh failed"
fi
[ -f "$kdir/kernel-release" ] || die "$kdir is not a kernel cache dir (no kernel-release; run scripts/vm/fetch-kernel.sh)"
krel=$(cat "$kdir/kernel-release")
kmods="$kdir/lib/modules/$krel"
[ -d "$kmods" ] || die "$kmods missing: remove $kdir and rerun scripts/vm/fetch-kernel.sh"

stage=$(mktemp -d "${TMPDIR:-/tmp}/rcvgov-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT

# ---- skeleton (merged /usr, like Debian 12) --------------------------------
mkdir -p "$stage"/{usr/bin,usr/sbin,usr/lib,usr/lib64,usr/local/bin,usr/local/sbin}
ln -s usr/bin "$stage/bin"
ln -s usr/sbin "$stage/sbin"
ln -s usr/lib "$stage/lib"
ln -s usr/lib64 "$stage/lib64"
mkdir -p "$stage"/{dev,proc,sys,tmp,run,root,test,etc/rcvgov-vm,var/tmp,mnt}
ln -s ../run "$stage/var/run"
chmod 1777 "$stage/tmp" "$stage/var/tmp"
chmod 700 "$stage/root"
if [ "$(id -u)" = 0 ]; then
	mknod -m 600 "$stage/dev/console" c 5 1
	mknod -m 666 "$stage/dev/null" c 1 3
fi
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$stage/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$stage/etc/group"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$stage/etc/hosts"
printf 'passwd: files\ngroup: files\nhosts: files\n' >"$stage/etc/nsswitch.conf"
echo rcvgov-vm >"$stage/etc/hostname"
[ -d /etc/iproute2 ] && cp -a /etc/iproute2 "$stage/etc/"

# Copy one file to a path inside the stage. The destination is removed
# first: it may be a busybox applet symlink, and cp would follow it.
put() { # src dest-inside-stage [mode]
	local dst="$stage$2"
	mkdir -p "$(dirname "$dst")"
	rm -f "$dst"
	cp -L "$1" "$dst"
	[ -z "${3:-}" ] || chmod "$3" "$dst"
}

# ---- busybox -------------------------------------------------------------
cp /bin/busybox "$stage/usr/bin/busybox"
while read -r applet; do
	[ -n "$applet" ] || continue
	[ -e "$stage/$applet" ] || [ -L "$stage/$applet" ] || ln -s /usr/bin/busybox "$stage/$applet"
done < <(/bin/busybox --list-full)

# ---- host executables with their libraries ---------------------------------
declare -A libs_done=()
add_libs() { # binary
	local line lib
	# "not a dynamic executable" (static binaries, scripts): nothing to do.
	ldd "$1" >/dev/null 2>&1 || return 0
	while read -r line; do
		case "$line" in
		*"=> not found"*) die "$1 needs ${line%% *}, which the host does not have" ;;
		*"=> /"*) lib=${line#*=> }; lib=${lib%% (*} ;;
		/*) lib=${line%% (*} ;;
		*) continue ;; # linux-vdso.so.1
		esac
		[ -n "${libs_done[$lib]:-}" ] && continue
		libs_done[$lib]=1
		put "$lib" "$lib"
		log "  lib $lib"
	done < <(ldd "$1")
}

add_exe() { # src dest
	[ -f "$1" ] || die "--bin $1: no such file"
	[ -x "$1" ] || die "--bin $1: not executable"
	put "$1" "$2" 755
	add_libs "$1"
	log "bin $1 -> $2"
}

add_tool() { # name package required
	local p
	if ! p=$(command -v "$1"); then
		[ "$3" = required ] && die "$1 not found: install $2 (run scripts/deps.sh)"
		return 0
	fi
	add_exe "$p" "$p"
}
add_tool ip iproute2 required
add_tool ss iproute2 required
add_tool nstat iproute2 required
add_tool tc iproute2 optional
add_tool bpftool bpftool required
add_tool bash bash required
# Debian's busybox-static is built with FEATURE_SH_STANDALONE/PREFER_APPLETS:
# its ash runs busybox's own "ip", "tc"... even when the real iproute2 ones
# are on PATH. So /bin/sh is bash (bash in POSIX mode), like on a real
# system; /init still runs under busybox sh.
ln -sfn bash "$stage/usr/bin/sh"

for b in "${bins[@]}"; do
	src=${b%%:*}
	if [[ "$b" == *:* ]]; then dst=${b#*:}; else dst=/usr/local/bin/$(basename "$src"); fi
	[[ "$dst" == /* ]] || die "--bin $b: DEST must be an absolute path"
	add_exe "$src" "$dst"
done

# ---- extra files ---------------------------------------------------------
for f in "${files[@]}"; do
	src=${f%%:*}
	if [[ "$f" == *:* ]]; then dst=${f#*:}; else dst=/test/$(basename "$src"); fi
	[[ "$dst" == /* ]] || die "--file $f: DEST must be an absolute path"
	[ -e "$src" ] || die "--file $f: $src does not exist"
	mkdir -p "$(dirname "$stage$dst")"
	rm -rf "$stage$dst"
	cp -rL "$src" "$stage$dst"
	log "file $src -> $dst"
done

# ---- kernel modules --------------------------------------------------------
# No kmod on the host: read "depends=" from each module's .modinfo strings.
declare -A modpath=() # name (with _) -> path relative to $kmods
while IFS= read -r -d '' p; do
	rel=${p#"$kmods"/}
	n=${rel##*/}
	n=${n%%.ko*}
	modpath[${n//-/_}]=$rel
done < <(find "$kmods/kernel" -name '*.ko*' -print0)

builtin() { # name
	[ -f "$kmods/modules.builtin" ] && sed 's|.*/||; s|\.ko$||; s|-|_|g' "$kmods/modules.builtin" | grep -qx "$1"
}

cat_module() { # relpath -> uncompressed bytes on stdout
	case "$1" in
	*.ko) cat "$kmods/$1" ;;
	*.ko.xz) xz -dc "$kmods/$1" ;;
	*.ko.zst) zstd -dcq "$kmods/$1" ;;
	*.ko.gz) gzip -dc "$kmods/$1" ;;
	*) die "unknown module format: $1" ;;
	esac
}

declare -A mod_state=() # name -> visiting|done
load_order=()
moddep_lines=()
add_module() { # name
	local name=${1//-/_} rel deps d out_rel dep_rels=()
	case "${mod_state[$name]:-}" in
	done) return 0 ;;
	visiting) die "module dependency cycle at $name" ;;
	esac
	rel=${modpath[$name]:-}
	if [ -z "$rel" ]; then
		if builtin "$name"; then
			log "module $name is built in"
			mod_state[$name]="done"
			return 0
		fi
		die "kernel module $name not found in $kmods (and not built in)"
	fi
	mod_state[$name]=visiting
	out_rel=${rel%.ko*}.ko
	mkdir -p "$(dirname "$stage/lib/modules/$krel/$out_rel")"
	cat_module "$rel" >"$stage/lib/modules/$krel/$out_rel" ||
		die "cannot decompress $rel (xz-utils/zstd installed?)"
	deps=$(tr '\0' '\n' <"$stage/lib/modules/$krel/$out_rel" | sed -n 's/^depends=//p' | head -1)
	for d in ${deps//,/ }; do
		add_module "$d"
		dep_rels+=("${modpath[${d//-/_}]%.ko*}.ko")
	done
	mod_state[$name]="done"
	load_order+=("$out_rel")
	moddep_lines+=("$out_rel:${dep_rels[*]:+ ${dep_rels[*]}}")
	log "module $name ($out_rel) depends: ${deps:-none}"
}
for m in "${modules[@]}"; do add_module "$m"; done
mkdir -p "$stage/lib/modules/$krel" "$stage/boot"
# bpftool feature probe and our daemon read the kernel config from here.
cp "$kdir/boot/config-$krel" "$stage/boot/" 2>/dev/null || true
cp "$kmods"/modules.builtin* "$kmods"/modules.order "$stage/lib/modules/$krel/" 2>/dev/null || true
# modules.dep (depmod's format, for the packed modules only) lets busybox
# modprobe work too; /init itself insmods modules.load, dependencies first.
for l in "${moddep_lines[@]}"; do echo "$l"; done >"$stage/lib/modules/$krel/modules.dep"
for l in "${load_order[@]}"; do echo "$l"; done >"$stage/etc/rcvgov-vm/modules.load"

# ---- /init and the test ------------------------------------------------------
put "$here/init.sh" /init 755
if [ -n "$run" ]; then
	[ -f "$run" ] || die "--run $run: no such file"
	head -c 2 "$run" | grep -q '^#!' || die "--run $run: needs a #! line (#!/bin/sh or #!/bin/bash)"
	put "$run" /test/run.sh 755
fi
: >"$stage/test/env"
for e in "${envs[@]}"; do
	[[ "$e" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || die "--env $e: expected NAME=VALUE"
	v=${e#*=}
	printf "%s='%s'\n" "${e%%=*}" "${v//\'/\'\\\'\'}" >>"$stage/test/env"
done
{
	echo "kernel=$krel"
	echo "kernel_package=$(cat "$kdir/package" 2>/dev/null || echo unknown)"
	echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "run=${run:-none}"
} >"$stage/etc/rcvgov-vm/initramfs-info"

# ---- pack ----------------------------------------------------------------
mkdir -p "$(dirname "$out")"
tmp_out="$out.tmp.$$"
(cd "$stage" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --owner=0:0 --quiet) | gzip -6 >"$tmp_out" ||
	{ rm -f "$tmp_out"; die "cpio/gzip failed"; }
mv -f "$tmp_out" "$out"
log "wrote $out ($(du -h "$out" | cut -f1), $(du -sh "$stage" | cut -f1) unpacked)"
