#!/usr/bin/env bash
# fetch-kernel.sh: download Debian's stock 6.1 cloud kernel (.deb, never
# installed) and extract vmlinuz + its modules into a cache dir outside the
# repo. Prints the cache dir on stdout; everything else goes to stderr.
#
# Idempotent: a finished cache dir is marked with .complete, and the package
# choice is remembered until the apt lists change, so a warm run does no apt
# work at all.
#
# Environment:
#   RCVGOV_CACHE          cache root (default /var/cache/rcvgov/vm)
#   RCVGOV_VM_KERNEL_PKG  package to use instead of the newest
#                         linux-image-6.1.*-cloud-amd64; "NAME" or "NAME=VERSION"
set -euo pipefail

prog="fetch-kernel"
die() { echo "$prog: error: $*" >&2; exit 1; }
log() { echo "$prog: $*" >&2; }

usage() {
	cat <<'EOF'
usage: scripts/vm/fetch-kernel.sh [--help]

Gets the newest available linux-image-6.1.*-cloud-amd64 .deb with
`apt-get download` (the host kernel is never touched), extracts it into
  ${RCVGOV_CACHE:-/var/cache/rcvgov/vm}/<package>_<version>/
      vmlinuz                 the kernel image
      kernel-release          e.g. 6.1.0-56-cloud-amd64
      lib/modules/<release>/  the package's modules tree
      boot/                   config-*, System.map-*
      package                 "<package> <version>"
and prints that directory on stdout. A second run costs nothing.

Environment:
  RCVGOV_CACHE          cache root (default /var/cache/rcvgov/vm)
  RCVGOV_VM_KERNEL_PKG  package override, "NAME" or "NAME=VERSION",
                        e.g. linux-image-6.1.0-47-cloud-amd64
EOF
}

case "${1:-}" in
-h | --help) usage; exit 0 ;;
"") ;;
*) usage >&2; die "unexpected argument: $1" ;;
esac

for t in apt-cache apt-get dpkg-deb flock sort; do
	command -v "$t" >/dev/null 2>&1 || die "$t not found (this needs a Debian host with apt/dpkg and util-linux)"
done

cache_root=${RCVGOV_CACHE:-/var/cache/rcvgov/vm}
mkdir -p "$cache_root" 2>/dev/null || die "cannot create cache dir $cache_root (run as root, or set RCVGOV_CACHE to a writable dir)"
[ -w "$cache_root" ] || die "cache dir $cache_root is not writable (run as root, or set RCVGOV_CACHE)"

# One fetch at a time per cache root (parallel test runs share the cache).
exec 9>"$cache_root/.fetch.lock"
flock 9

# ---- choose the package -------------------------------------------------
# Key of the remembered choice: the override plus the apt lists' state.
lists_key() {
	local f newest=0 m
	for f in /var/lib/apt/lists/*Packages* /var/lib/apt/lists/*Release; do
		[ -e "$f" ] || continue
		m=$(stat -c %Y "$f")
		[ "$m" -gt "$newest" ] && newest=$m
	done
	echo "lists=$newest override=${RCVGOV_VM_KERNEL_PKG:-}"
}

candidate_of() { # $1 = package; prints candidate version or nothing
	apt-cache policy "$1" 2>/dev/null | awk '/^  Candidate:/ { if ($2 != "(none)") print $2; exit }'
}

resolve() {
	local pkg ver
	if [ -n "${RCVGOV_VM_KERNEL_PKG:-}" ]; then
		pkg=${RCVGOV_VM_KERNEL_PKG%%=*}
		if [[ "$RCVGOV_VM_KERNEL_PKG" == *=* ]]; then
			ver=${RCVGOV_VM_KERNEL_PKG#*=}
		else
			ver=$(candidate_of "$pkg")
		fi
		[ -n "$ver" ] || die "RCVGOV_VM_KERNEL_PKG=$RCVGOV_VM_KERNEL_PKG: apt knows no version of $pkg (check the name, or run apt-get update)"
	else
		local names
		names=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-cloud-amd64$' | awk '{print $1}' | sort -V -r)
		[ -n "$names" ] || die "apt knows no linux-image-6.1.*-cloud-amd64 package: run apt-get update (needs the Debian bookworm and bookworm-security sources)"
		pkg="" ver=""
		for p in $names; do
			v=$(candidate_of "$p")
			if [ -n "$v" ]; then pkg=$p ver=$v; break; fi
		done
		[ -n "$pkg" ] || die "no linux-image-6.1.*-cloud-amd64 package has an installable candidate: run apt-get update"
	fi
	echo "$pkg $ver"
}

key=$(lists_key)
resolved=""
if [ -f "$cache_root/.resolved" ] && [ "$(sed -n 1p "$cache_root/.resolved")" = "$key" ]; then
	resolved=$(sed -n 2p "$cache_root/.resolved")
fi
if [ -z "$resolved" ]; then
	resolved=$(resolve)
	printf '%s\n%s\n' "$key" "$resolved" >"$cache_root/.resolved.tmp"
	mv -f "$cache_root/.resolved.tmp" "$cache_root/.resolved"
fi
read -r pkg ver <<<"$resolved"

dir="$cache_root/${pkg}_${ver//:/%}"
if [ -f "$dir/.complete" ]; then
	echo "$dir"
	exit 0
fi

# ---- download and extract ---------------------------------------------------
log "fetching $pkg=$ver into $dir"
stage=$(mktemp -d "$cache_root/.stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
# _apt must be able to write the download dir, or apt warns and downloads
# unsandboxed; both work.
chmod 755 "$stage"
chown _apt "$stage" 2>/dev/null || true
(cd "$stage" && apt-get download -q=1 "$pkg=$ver" >&2) ||
	die "apt-get download $pkg=$ver failed (network? try: apt-get update)"
deb=$(find "$stage" -maxdepth 1 -name '*.deb' | head -1)
[ -n "$deb" ] || die "apt-get download produced no .deb for $pkg=$ver"
mkdir "$stage/root"
dpkg-deb -x "$deb" "$stage/root" || die "dpkg-deb -x $deb failed"

root="$stage/root"
vmlinuz=$(find "$root/boot" -maxdepth 1 -name 'vmlinuz-*' | head -1)
[ -n "$vmlinuz" ] || die "$deb contains no boot/vmlinuz-*"
krel=${vmlinuz##*/vmlinuz-}
moddir=""
for d in "$root/lib/modules/$krel" "$root/usr/lib/modules/$krel"; do
	[ -d "$d" ] && moddir=$d && break
done
[ -n "$moddir" ] || die "$deb contains no lib/modules/$krel"

out="$stage/out"
mkdir -p "$out/lib/modules" "$out/boot"
mv "$vmlinuz" "$out/vmlinuz"
mv "$moddir" "$out/lib/modules/$krel"
find "$root/boot" -maxdepth 1 -type f -exec mv -t "$out/boot" {} +
echo "$krel" >"$out/kernel-release"
echo "$pkg $ver" >"$out/package"
touch "$out/.complete"

rm -rf "$dir"
mv "$out" "$dir"
log "kernel $krel ready ($(du -sh "$dir" | cut -f1))"
echo "$dir"
