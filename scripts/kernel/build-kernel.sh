#!/bin/bash
# Build (or find in the cache) an x86_64 bzImage from Debian's
# linux-source-<base> (6.1 or 6.12), either as shipped ("unpatched") or with
# patches/linux-<base>/series applied ("patched").  Prints the path of the
# cached bzImage on stdout; the files next to it are described below.
#
# Cache (outside the clone): ${RCVGOV_KCACHE:-/var/cache/rcvgov/kernel}
#   tree-<base>-<basekey>/        in-tree build of the unpatched source (kept,
#                                 so the patched build is incremental)
#   tree-<base>-<patchkey>/       the same tree with the series applied, built
#   img-<base>-<variant>-<key>/   bzImage, .config, System.map, kernel-release,
#                                 source-version, build-seconds, build.log
# basekey  = sha256(source package + version, this script, config fragment)
# patchkey = sha256(basekey, series file, the diff part of every patch)
# A warm run is a couple of stat()s.  Every input that can change the
# binary is in a key: the script itself is hashed, so editing it rebuilds.
set -euo pipefail

usage() {
	cat <<EOF
usage: $0 [--base 6.1|6.12] unpatched|patched [-j N] [--print-key]
Env: RCVGOV_KCACHE (default /var/cache/rcvgov/kernel)
The default base is 6.1.  Builds run under nice -n 19.
EOF
}

base=6.1
variant=
jobs=$(nproc)
print_key=0
while [ $# -gt 0 ]; do
	case $1 in
	--base) base=$2; shift 2 ;;
	-j) jobs=$2; shift 2 ;;
	-j*) jobs=${1#-j}; shift ;;
	--print-key) print_key=1; shift ;;
	-h|--help) usage; exit 0 ;;
	unpatched|patched) variant=$1; shift ;;
	*) usage >&2; exit 2 ;;
	esac
done
case $variant in unpatched|patched) ;; *) usage >&2; exit 2 ;; esac
case $base in 6.1|6.12) ;; *) usage >&2; exit 2 ;; esac

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
frag=$here/rcvgov.config
pdir=$repo/patches/linux-$base
srcpkg=linux-source-$base
cache=${RCVGOV_KCACHE:-/var/cache/rcvgov/kernel}
# options the tests and rcvgovd cannot do without: checked after configuring
required="CONFIG_64BIT CONFIG_DEBUG_INFO_BTF CONFIG_MPTCP CONFIG_MPTCP_IPV6
	CONFIG_BPF_EVENTS CONFIG_BPF_JIT CONFIG_VETH CONFIG_TUN CONFIG_NET_SCH_NETEM
	CONFIG_NET_SCH_TBF CONFIG_INET_DIAG CONFIG_SOCK_CGROUP_DATA CONFIG_SERIAL_8250_CONSOLE"

log() { echo "build-kernel[$base]: $*" >&2; }

if ! dpkg-query -W -f='${Status}' "$srcpkg" 2>/dev/null | grep -q 'install ok installed'; then
	log "installing $srcpkg (apt-get)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y "$srcpkg" bc flex bison \
		libelf-dev libssl-dev dwarves >&2 ||
		{ log "apt-get install $srcpkg failed"; exit 2; }
fi
command -v pahole >/dev/null || { log "pahole missing (apt-get install dwarves)"; exit 2; }
srcver=$(dpkg-query -W -f='${Version}' "$srcpkg")
tarball=/usr/src/$srcpkg.tar.xz

basekey=$( { echo "$srcpkg $srcver"; echo "pahole $(pahole --version)";
	echo "gcc $(gcc -dumpfullversion)"; cat "$0" "$frag"; } | sha256sum | cut -c1-16)
# only the diffs count (from the first "diff --git" to the "-- " signature
# line): rewording a commit message does not force a kernel rebuild
patch_code() { sed -n '/^diff --git /,/^-- $/p' "$1"; }
if [ "$variant" = unpatched ]; then
	key=$basekey
else
	[ -f "$pdir/series" ] || { log "no $pdir/series"; exit 2; }
	patchkey=$( { echo "$basekey"; grep -v '^#' "$pdir/series";
		while read -r p; do case $p in ''|\#*) continue ;; esac
			patch_code "$pdir/$p"; done < "$pdir/series"; } | sha256sum | cut -c1-16)
	key=$patchkey
fi
img=$cache/img-$base-$variant-$key
if [ $print_key = 1 ]; then echo "$key"; exit 0; fi
if [ -f "$img/.complete" ]; then
	log "cached: $img ($srcpkg $srcver)"
	echo "$img/bzImage"
	exit 0
fi

mkdir -p "$cache"
exec 9>"$cache/.build.lock"
flock 9
[ -f "$img/.complete" ] && { echo "$img/bzImage"; exit 0; }

kmake() { nice -n 19 make "$@"; }

check_config() { # tree
	local o missing=
	for o in $required; do
		grep -q "^$o=y" "$1/.config" || missing="$missing $o"
	done
	[ -z "$missing" ] || { log "config lacks:$missing"; exit 1; }
}

btree=$cache/tree-$base-$basekey
build_base() {
	if [ -f "$btree/.built" ]; then return; fi
	local t0=$SECONDS tmp=$cache/.tmp-$base-$basekey
	rm -rf "$tmp" && mkdir -p "$tmp"
	log "extracting $tarball"
	tar -C "$tmp" -xf "$tarball"
	mv "$tmp/$srcpkg" "$tmp/src"
	cp "$frag" "$tmp/src/kernel/configs/rcvgov.config"
	log "configuring (allnoconfig + rcvgov.config)"
	kmake -C "$tmp/src" -s allnoconfig rcvgov.config > "$tmp/src/config.log" 2>&1 ||
		{ cat "$tmp/src/config.log" >&2; exit 1; }
	check_config "$tmp/src"
	log "building unpatched bzImage with -j$jobs (log: $tmp/src/build.log)"
	if ! kmake -C "$tmp/src" -j"$jobs" bzImage > "$tmp/src/build.log" 2>&1; then
		tail -40 "$tmp/src/build.log" >&2
		log "unpatched build FAILED"
		exit 1
	fi
	echo "$tmp/src" > "$tmp/src/.build-path"
	rm -rf "$btree"
	mv "$tmp/src" "$btree"
	rm -rf "$tmp"
	echo "$((SECONDS - t0))" > "$btree/.build-seconds"
	touch "$btree/.built"
	log "unpatched build took $((SECONDS - t0)) s"
}

install_img() { # tree seconds
	local tmp=$img.tmp
	rm -rf "$tmp" && mkdir -p "$tmp"
	cp "$1/arch/x86/boot/bzImage" "$1/.config" "$1/System.map" "$tmp/"
	cp "$1/include/config/kernel.release" "$tmp/kernel-release"
	cp "$1/build.log" "$tmp/" 2>/dev/null || true
	echo "$srcpkg $srcver" > "$tmp/source-version"
	echo "$2" > "$tmp/build-seconds"
	touch "$tmp/.complete"
	rm -rf "$img" && mv "$tmp" "$img"
}

build_base
if [ "$variant" = unpatched ]; then
	install_img "$btree" "$(cat "$btree/.build-seconds")"
	echo "$img/bzImage"
	exit 0
fi

ptree=$cache/tree-$base-$patchkey
t0=$SECONDS
# Build at the path the unpatched tree was built at: objtool and the .cmd
# files hold absolute paths, and a tree built elsewhere rebuilds everything.
bpath=$(cat "$btree/.build-path")
rm -rf "$bpath"
mkdir -p "$(dirname "$bpath")"
log "copying the built unpatched tree to $bpath (incremental build)"
cp -a "$btree" "$bpath"
rm -f "$bpath/.built"
while read -r p; do
	case $p in ''|\#*) continue ;; esac
	log "applying $p"
	patch -d "$bpath" -p1 --no-backup-if-mismatch -s < "$pdir/$p" >&2 ||
		{ log "patch $p does not apply"; exit 1; }
done < "$pdir/series"
log "building patched bzImage with -j$jobs (log: $bpath/build.log)"
if ! kmake -C "$bpath" -j"$jobs" bzImage > "$bpath/build.log" 2>&1; then
	tail -40 "$bpath/build.log" >&2
	log "patched build FAILED"
	exit 1
fi
rm -rf "$ptree" && mv "$bpath" "$ptree"
rmdir "$(dirname "$bpath")" 2>/dev/null || true
log "patched build took $((SECONDS - t0)) s"
install_img "$ptree" "$((SECONDS - t0))"
# keep only the newest patched tree per base: they are several GiB each
for d in "$cache"/tree-"$base"-*; do
	[ "$d" = "$btree" ] || [ "$d" = "$ptree" ] || rm -rf "$d"
done
echo "$img/bzImage"
