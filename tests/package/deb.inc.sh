# shellcheck shell=bash
# The Debian package part of tests/package/check.sh (sourced: REPO, BUILD,
# TMP, check, ok, bad come from there).

# A copy of the tree at a fixed path ($BUILD/package/rcvgov) so that ccache
# finds the previous run's objects: the files git knows (tracked and new,
# not ignored: no build dirs), or the tree without build dirs and .git.
PKG_ROOT=$REPO/$BUILD/package
SRC=$PKG_ROOT/rcvgov
rm -rf "$PKG_ROOT"
mkdir -p "$SRC"
if git -C "$REPO" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	export RCVGOV_COMMIT
	RCVGOV_COMMIT=$(git -C "$REPO" rev-parse --short HEAD)
	# A file deleted but not yet committed is still listed: skipped.
	(cd "$REPO" && git ls-files -z --cached --others --exclude-standard |
		tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$SRC"
else
	tar -C "$REPO" --exclude='./build*' --exclude=./.git -cf - . | tar -xf - -C "$SRC"
fi
check "tree copied to $SRC" test -f "$SRC/debian/rules" -a -f "$SRC/Makefile"

if command -v ccache >/dev/null; then
	export CXX="ccache g++" CCACHE_BASEDIR=$SRC
fi
start=$SECONDS
(cd "$SRC" && dpkg-buildpackage -b -us -uc -j2) >"$PKG_ROOT/build.log" 2>&1
rc=$?
check "dpkg-buildpackage -b -us -uc: exit $rc in $((SECONDS - start)) s (log: $PKG_ROOT/build.log)" \
	test "$rc" -eq 0
[ "$rc" -eq 0 ] || tail -n 30 "$PKG_ROOT/build.log"
deb=$(ls "$PKG_ROOT"/rcvgov_*.deb 2>/dev/null | head -n 1)
check "a .deb was built (${deb##*/})" test -n "$deb"
if [ -n "$deb" ]; then
	# Paths of regular files and symlinks, without the leading ".".
	dpkg-deb -c "$deb" | awk '$1 ~ /^[-l]/ { print $6 }' | sed 's#^\.##' | sort >"$TMP/deb.files"
	for f in /usr/sbin/rcvgovd /usr/bin/rcvgovctl /usr/bin/rcvgov-sender /usr/bin/rcvgov-reader \
		/lib/systemd/system/rcvgovd.service /usr/share/doc/rcvgov/rcvgov.toml.example \
		/usr/share/man/man8/rcvgovd.8.gz /usr/share/man/man8/rcvgovctl.8.gz \
		/usr/share/man/man5/rcvgov.toml.5.gz /usr/share/man/man1/rcvgov-sender.1.gz \
		/usr/share/man/man1/rcvgov-reader.1.gz /usr/share/bash-completion/completions/rcvgovd \
		/usr/share/bash-completion/completions/rcvgovctl /usr/share/doc/rcvgov/copyright; do
		grep -qx -- "$f" "$TMP/deb.files" || bad "the package has no $f"
	done
	ok "the package's file list ($(wc -l <"$TMP/deb.files") files)"

	# Depends: shared libraries (from shlibs), nothing of the build or tests.
	dpkg-deb -I "$deb" >"$TMP/deb.info"
	depends=$(dpkg-deb -f "$deb" Depends)
	for lib in libc6 libbpf1 libmnl0 libsystemd0; do
		grep -qE "(^|, )$lib( |,|$)" <<<"$depends" || bad "Depends has no $lib: $depends"
	done
	# Every dependency a library package (lib*), none a -dev one.
	others=$(tr ',' '\n' <<<"$depends" | sed -E 's/^ *//; s/[ (].*//' | grep -vE '^lib' |
		grep -v '^$')
	check "Depends are shared libraries only: $depends" \
		test -z "$others$(grep -oE '[a-z0-9.+-]*-dev\b' <<<"$depends")"

	# What is inside: the unit's ExecStart= under /usr, the version of the
	# changelog, the unit not enabled by the maintainer scripts.
	mkdir -p "$TMP/root" "$TMP/ctrl"
	dpkg-deb -x "$deb" "$TMP/root"
	dpkg-deb -e "$deb" "$TMP/ctrl"
	unit=$TMP/root/lib/systemd/system/rcvgovd.service
	check "the unit runs /usr/sbin/rcvgovd" grep -qx 'ExecStart=/usr/sbin/rcvgovd' "$unit"
	check "the unit restores with /usr/sbin/rcvgovd" \
		grep -qx 'ExecStopPost=/usr/sbin/rcvgovd --restore' "$unit"
	check "no /usr/local left in the unit's settings" test -z "$(grep -v '^#' "$unit" | grep /usr/local)"
	deb_version=$(dpkg-deb -f "$deb" Version)
	out=$("$TMP/root/usr/sbin/rcvgovd" --version 2>&1)
	check "the package's rcvgovd --version says $deb_version ($out)" \
		grep -qE "^rcvgovd $deb_version \(commit [^)]+\)$" <<<"$out"
	# dh_installsystemd --no-enable: postinst re-enables only a unit that was
	# installed and enabled before ("debian-installed"), never a new one; the
	# unit is enabled (hence started) only by an operator.
	check "postinst does not enable the unit on a first install" \
		grep -q "deb-systemd-helper debian-installed 'rcvgovd.service'" "$TMP/ctrl/postinst"
	check "the upstream VERSION is the package's ($(cat VERSION) vs $deb_version)" \
		test "$(cat VERSION)" = "${deb_version%%-*}"

	# lintian: no errors; warnings are listed.
	lintian --fail-on error --tag-display-limit 0 "$deb" >"$TMP/lintian.log" 2>&1
	rc=$?
	grep -v 'running with root privileges' "$TMP/lintian.log" | sed 's/^/    lintian: /'
	check "lintian: no errors ($(grep -c '^E:' "$TMP/lintian.log") E, $(grep -c '^W:' \
		"$TMP/lintian.log") W)" test "$rc" -eq 0 -a -z "$(grep '^E:' "$TMP/lintian.log")"
fi

# make install: the same files as the package (which adds only its
# changelog and copyright), the same as `make install-list`.
make -s --no-print-directory BUILD="$BUILD" PREFIX=/usr DESTDIR="$TMP/inst" install >/dev/null
(cd "$TMP/inst" && find . -type f -o -type l | sed 's#^\.##' | sort) >"$TMP/inst.files"
make -s --no-print-directory BUILD="$BUILD" PREFIX=/usr install-list | sort >"$TMP/list.files"
check "make install PREFIX=/usr installs what make install-list lists" \
	diff -u "$TMP/list.files" "$TMP/inst.files"
if [ -n "$deb" ]; then
	grep -vxE '/usr/share/doc/rcvgov/(changelog\.gz|copyright)' "$TMP/deb.files" >"$TMP/deb.own"
	check "make install DESTDIR=... gives the package's files" \
		diff -u "$TMP/deb.own" "$TMP/inst.files"
fi
# The default PREFIX, /usr/local: the unit follows it.
make -s --no-print-directory BUILD="$BUILD" DESTDIR="$TMP/local" install >/dev/null
check "make install: rcvgovd in /usr/local/sbin" test -x "$TMP/local/usr/local/sbin/rcvgovd"
check "make install: the unit runs /usr/local/sbin/rcvgovd" \
	grep -qx 'ExecStart=/usr/local/sbin/rcvgovd' \
	"$TMP/local/usr/local/lib/systemd/system/rcvgovd.service"
check "make install: man pages are gzip" \
	gzip -t "$TMP/local/usr/local/share/man/man8/rcvgovd.8.gz"
