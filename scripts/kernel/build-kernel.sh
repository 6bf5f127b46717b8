#!/bin/bash
# Build (or find in the cache) an x86_64 bzImage from Debian's linux-source-6.1,
# either as shipped ("unpatched") or with patches/linux-6.1/series applied
# ("patched").  Prints the path of the cached bzImage on stdout.
#
# Cache (outside the clone): ${RCVGOV_KCACHE:-/var/cache/rcvgov/kernel}
#   tree-<basekey>/           in-tree build of the unpatched source (kept, so
#                             the patched build is incremental)
#   tree-<patchkey>/          copy of the above with the series applied
#   img-<variant>-<key>/      bzImage, .config, build.log, .complete
# basekey  = sha256(linux-source version, config fragment, this script's
#            CONFIG_STEPS version)
# patchkey = sha256(basekey, series file, the diff part of every patch)
# A warm run is a couple of stat()s.
set -euo pipefail

usage() {
	cat <<EOF
usage: $0 unpatched|patched [-j N] [--print-key]
Env: RCVGOV_KCACHE (default /var/cache/rcvgov/kernel)
EOF
}

variant=${1:-}
shift || true
jobs=$(nproc)
print_key=0
while [ $# -gt 0 ]; do
	case $1 in
	-j) jobs=$2; shift 2 ;;
	--print-key) print_key=1; shift ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
case $variant in unpatched|patched) ;; *) usage >&2; exit 2 ;; esac

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
frag=$here/rcvgov.config
pdir=$repo/patches/linux-6.1
cache=${RCVGOV_KCACHE:-/var/cache/rcvgov/kernel}
CONFIG_STEPS=1	# bump when the config recipe below changes

log() { echo "build-kernel: $*" >&2; }

if ! dpkg-query -W -f='${Status}' linux-source-6.1 2>/dev/null | grep -q 'install ok installed'; then
	log "installing linux-source-6.1 (apt-get)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y linux-source-6.1 bc flex bison libelf-dev libssl-dev >&2 ||
		{ log "apt-get install linux-source-6.1 failed"; exit 2; }
fi
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
tarball=/usr/src/linux-source-6.1.tar.xz

basekey=$( { echo "linux-source-6.1 $srcver"; echo "steps $CONFIG_STEPS"; cat "$frag"; } |
	sha256sum | cut -c1-16)
# only the diffs count (from the first "diff --git" to the "-- " signature
# line): rewording a commit message does not force a kernel rebuild
patch_code() { sed -n '/^diff --git /,/^-- $/p' "$1"; }
patchkey=$( { echo "$basekey"; grep -v '^#' "$pdir/series";
	while read -r p; do case $p in ''|\#*) continue ;; esac; patch_code "$pdir/$p"; done < "$pdir/series"; } |
	sha256sum | cut -c1-16)
if [ "$variant" = unpatched ]; then key=$basekey; else key=$patchkey; fi
img=$cache/img-$variant-$key
if [ $print_key = 1 ]; then echo "$key"; exit 0; fi
if [ -f "$img/.complete" ]; then
	log "cached: $img (linux-source-6.1 $srcver)"
	echo "$img/bzImage"
	exit 0
fi

mkdir -p "$cache"
exec 9>"$cache/.build.lock"
flock 9
[ -f "$img/.complete" ] && { echo "$img/bzImage"; exit 0; }

btree=$cache/tree-$basekey
build_base() {
	if [ -f "$btree/.built" ]; then return; fi
	local t0=$SECONDS tmp=$cache/.tmp-$basekey
	rm -rf "$tmp" && mkdir -p "$tmp"
	log "extracting $tarball"
	tar -C "$tmp" -xf "$tarball"
	mv "$tmp/linux-source-6.1" "$tmp/src"
	cp "$frag" "$tmp/src/kernel/configs/rcvgov.config"
	log "configuring (defconfig + rcvgov.config)"
	make -C "$tmp/src" -s defconfig rcvgov.config > "$tmp/src/config.log" 2>&1 ||
		{ cat "$tmp/src/config.log" >&2; exit 1; }
	log "building unpatched bzImage with -j$jobs (log: $tmp/src/build.log)"
	if ! make -C "$tmp/src" -j"$jobs" bzImage > "$tmp/src/build.log" 2>&1; then
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
	echo "$srcver" > "$tmp/source-version"
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

ptree=$cache/tree-$patchkey
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
if ! make -C "$bpath" -j"$jobs" bzImage > "$bpath/build.log" 2>&1; then
	tail -40 "$bpath/build.log" >&2
	log "patched build FAILED"
	exit 1
fi
rm -rf "$ptree" && mv "$bpath" "$ptree"
rmdir "$(dirname "$bpath")" 2>/dev/null || true
log "patched build took $((SECONDS - t0)) s"
install_img "$ptree" "$((SECONDS - t0))"
# keep only the newest patched tree: they are 1-2 GiB each
for d in "$cache"/tree-*; do
	[ "$d" = "$btree" ] || [ "$d" = "$ptree" ] || rm -rf "$d"
done
echo "$img/bzImage"
