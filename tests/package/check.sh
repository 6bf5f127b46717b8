#!/usr/bin/env bash
# The operator-facing conventions and the Debian package:
#
#   conventions  --version on every program and in no other form than
#                "<program> <version> (commit <sha>)"; usage errors exit 2;
#                the man pages render with `groff -ww` without a warning and
#                document every option (from --help) and every config key
#                (from the parser's own "known here" lists); the bash
#                completion offers every option and subcommand; the shipped
#                etc/rcvgov.toml has every key, passes --check-config and
#                gives exactly the embedded defaults; --config with a
#                missing path exits 1 naming it.
#   package      dpkg-buildpackage -b -us -uc in a copy of the tree (the
#                files git knows, without build dirs), then the .deb's file
#                list (binaries, unit, man pages, completion, example config),
#                its Depends (shared libraries only), its unit (ExecStart=
#                under /usr, not enabled at install), rcvgovd --version from
#                the package, lintian without errors; and `make install
#                DESTDIR=...` gives the same files.
#
#   tests/package/check.sh [--no-deb]     (--no-deb: the conventions only)
#
# Programs from RCVGOV_BIN (default $BUILD/bin). Nothing here starts rcvgovd
# as a daemon. Prints "package: N passed, N failed"; exit 0 when none failed.
set -uo pipefail

cd "$(dirname "$0")/../.." || exit 1
REPO=$PWD
BUILD=${BUILD:-build}
BIN=${RCVGOV_BIN:-$REPO/$BUILD/bin}
DEB=1
[ "${1:-}" = --no-deb ] && DEB=0
TMP=$(mktemp -d /tmp/rcvgov-package.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

passed=0 failed=0
ok() {
	echo "ok   $*"
	passed=$((passed + 1))
}
bad() {
	echo "FAIL $*"
	failed=$((failed + 1))
}
# check NAME CMD...: one check, passed when CMD exits 0.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else bad "$name"; fi
}

for p in rcvgovd rcvgovctl rcvgov-sender rcvgov-reader; do
	[ -x "$BIN/$p" ] || {
		echo "package: $BIN/$p is not built (make BUILD=$BUILD all)" >&2
		echo "package: 0 passed, 1 failed"
		exit 1
	}
done

# ---------------------------------------------------------------- --version
version_of() { "$BIN/$1" --version; }
want_version=$(version_of rcvgovd | sed -nE 's/^rcvgovd (.+) \(commit .+\)$/\1/p')
check "rcvgovd --version is 'rcvgovd <version> (commit <sha>)'" test -n "$want_version"
for p in rcvgovd rcvgovctl rcvgov-sender rcvgov-reader; do
	out=$(version_of "$p" 2>&1)
	rc=$?
	check "$p --version: exit 0, one line, same version ($out)" \
		test "$rc" -eq 0 -a "$(wc -l <<<"$out")" -eq 1 \
		-a "$out" != "${out#"$p $want_version (commit "}"
done

# Usage errors: 2 for every program (pair tools included).
for p in rcvgovd rcvgovctl rcvgov-sender rcvgov-reader; do
	"$BIN/$p" --no-such-option >/dev/null 2>&1
	rc=$?
	check "$p --no-such-option exits 2 (got $rc)" test "$rc" -eq 2
done
"$BIN/rcvgovctl" >/dev/null 2>&1
rc=$?
check "rcvgovctl without a subcommand exits 2 (got $rc)" test "$rc" -eq 2

# complete WORDS...: what the completion offers for the last word.
complete_words() {
	local cmd=$1
	bash --norc --noprofile -c '
		source "completion/$1"
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		"_${COMP_WORDS[0]}"
		printf "%s\n" "${COMPREPLY[@]}"' bash "$cmd" "$@" | sort | tr '\n' ' '
}
# want EXPECTED WORDS...
want() {
	local exp=$1
	shift
	local got
	got=$(complete_words "$@")
	check "complete '$*' -> '$exp' (got '$got')" test "$got" = "$exp "
}

# ---------------------------------------------------------------- man pages
MANS=(man/rcvgovd.8 man/rcvgovctl.8 man/rcvgov.toml.5 man/rcvgov-sender.1)
for m in "${MANS[@]}"; do
	warn=$(groff -ww -man -Tutf8 "$m" 2>&1 >/dev/null)
	check "$m renders with groff -ww without warnings${warn:+: $warn}" test -z "$warn"
	# The sections every page has (the brief's list).
	for s in NAME SYNOPSIS DESCRIPTION FILES "EXIT STATUS" "SEE ALSO"; do
		grep -q "^\.SH \"\?$s\"\?\$" "$m" || bad "$m has no $s section"
	done
	# man-db's own check (what lintian runs): no warnings either.
	warn=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$m" \
		2>&1 >/dev/null)
	check "$m: man --warnings is quiet${warn:+: $warn}" test -z "$warn"
done
for m in man/rcvgovd.8 man/rcvgovctl.8; do
	grep -q '^\.SH OPTIONS' "$m" || bad "$m has no OPTIONS section"
done

# The long options a program's --help lists (CLI11: "  -x,--name ...").
options_of() { "$@" --help | grep -oE '(^|[ ,])--[a-z][a-z0-9-]*' | sed 's/^[ ,]*//' | sort -u; }
# In roff, "-" is written "\-".
roff() { sed 's/-/\\\\-/g' <<<"$1"; }
missing=()
for o in $(options_of "$BIN/rcvgovd"); do
	grep -q -- "$(roff "$o")" man/rcvgovd.8 || missing+=("rcvgovd.8:$o")
	grep -q -- "$o" completion/rcvgovd || missing+=("completion/rcvgovd:$o")
done
# rcvgovctl: its subcommands (CLI11's "Subcommands:" list) and each one's options.
subs=$("$BIN/rcvgovctl" --help | sed -n '/^Subcommands:/,$p' | sed -nE 's/^  ([a-z][a-z-]*) .*/\1/p')
check "rcvgovctl --help lists subcommands ($(echo $subs))" test -n "$subs"
for o in $(options_of "$BIN/rcvgovctl"); do
	grep -q -- "$(roff "$o")" man/rcvgovctl.8 || missing+=("rcvgovctl.8:$o")
	grep -q -- "$o" completion/rcvgovctl || missing+=("completion/rcvgovctl:$o")
done
for s in $subs; do
	grep -qE "^\.B $s\$|^\.TP.*$s|\\.B $s\b" man/rcvgovctl.8 || missing+=("rcvgovctl.8:$s")
	[[ " $(complete_words rcvgovctl "") " == *" $s "* ]] || missing+=("completion/rcvgovctl:$s")
	for o in $(options_of "$BIN/rcvgovctl" "$s"); do
		grep -q -- "$(roff "$o")" man/rcvgovctl.8 || missing+=("rcvgovctl.8:$s $o")
		grep -q -- "$o" completion/rcvgovctl || missing+=("completion/rcvgovctl:$s $o")
	done
done
# The test pair's one page (rcvgov-reader.1 is a link to it).
for p in rcvgov-sender rcvgov-reader; do
	for o in $(options_of "$BIN/$p"); do
		grep -q -- "$(roff "$o")" man/rcvgov-sender.1 || missing+=("rcvgov-sender.1:$p $o")
	done
done
check "man pages and completion name every option and subcommand${missing[*]:+ (missing: ${missing[*]})}" \
	test "${#missing[@]}" -eq 0

# ---------------------------------------------------------- config keys
# The parser names the keys it knows in its "unknown key" error, section by
# section: every one must be in rcvgov.toml(5) and in etc/rcvgov.toml.
known() { # TOML text -> the "known here" list of its first error
	printf '%s\n' "$1" >"$TMP/k.toml"
	"$BIN/rcvgovd" --check-config --config "$TMP/k.toml" 2>&1 |
		sed -nE 's/.*unknown key \(known here: ([^)]*)\).*/\1/p' | head -n 1 | tr -d ' ' |
		tr ',' '\n'
}
sections=$(known 'zz_unknown = 1')
check "the parser lists its sections ($(echo $sections))" test -n "$sections"
keys=()
for s in $sections; do
	if [ "$s" = override ]; then
		for k in $(known $'[[override]]\nzz_unknown = 1'); do keys+=("override.$k"); done
	else
		for k in $(known "[$s]"$'\nzz_unknown = 1'); do keys+=("$s.$k"); done
	fi
done
check "the parser lists its keys (${#keys[@]})" test "${#keys[@]}" -ge 20
missing=()
for sk in "${keys[@]}"; do
	s=${sk%%.*} k=${sk#*.}
	# rcvgov.toml(5): a "[section]" heading, the key as a .TP/.B item after it.
	head=$([ "$s" = override ] && echo '\[\[override\]\]' || echo "\[$s\]")
	awk -v h="^\\.SH \"$head\"" -v k="^\\.(B|BR) $k( |\$)" \
		'$0 ~ /^\.SH/ { in_s = ($0 ~ h) } in_s && $0 ~ k { found = 1 } END { exit !found }' \
		man/rcvgov.toml.5 || missing+=("rcvgov.toml.5:$sk")
	# etc/rcvgov.toml: "key =" in its section, or commented for [[override]]
	# and the deprecated alias.
	case $sk in
	override.* | ladder.reclaim_pause_ms) grep -qE "^# *$k = |$sk" etc/rcvgov.toml ;;
	*) awk -v h="^\\[$s\\]" -v k="^$k = " '/^\[/ { in_s = ($0 ~ h) } in_s && $0 ~ k { f = 1 }
		END { exit !f }' etc/rcvgov.toml ;;
	esac || missing+=("etc/rcvgov.toml:$sk")
done
check "every config key is in rcvgov.toml(5) and etc/rcvgov.toml${missing[*]:+ (missing: ${missing[*]})}" \
	test "${#missing[@]}" -eq 0

# ---------------------------------------------------------- example config
out=$("$BIN/rcvgovd" --check-config --config etc/rcvgov.toml 2>&1)
rc=$?
check "rcvgovd --check-config --config etc/rcvgov.toml: exit 0, no warning (got $rc)" \
	test "$rc" -eq 0 -a -z "$(grep -i '^warning' <<<"$out")"
# The example carries the embedded defaults: the same effective
# configuration as no file at all (an absent default path).
defaults=$("$BIN/rcvgovd" --check-config --config /dev/null 2>&1 | sed 1d)
check "etc/rcvgov.toml gives exactly the embedded defaults" \
	test "$(sed 1d <<<"$out")" = "$defaults" -a -n "$defaults"
out=$("$BIN/rcvgovd" --check-config --config "$TMP/does-not-exist.toml" 2>&1)
rc=$?
check "--config with a missing path exits 1 naming the path (got $rc)" \
	test "$rc" -eq 1 -a -n "$(grep -F "$TMP/does-not-exist.toml" <<<"$out")"

# ---------------------------------------------------------- logs
# Under systemd: "<N>" priorities, no timestamp, when JOURNAL_STREAM is the
# device:inode of stderr; plain with a timestamp otherwise (also when the
# variable names another file). `--restore` of a missing runtime directory
# logs one info line and changes nothing.
: >"$TMP/stderr.log"
: >"$TMP/other.log"
stream=$(stat -c '%d:%i' "$TMP/stderr.log")
JOURNAL_STREAM=$stream "$BIN/rcvgovd" --restore --runtime-dir "$TMP/none" 2>>"$TMP/stderr.log"
check "journal stderr: '<6>' and no timestamp ($(cat "$TMP/stderr.log"))" \
	grep -qxE '<6>restore: no .*nothing to restore' "$TMP/stderr.log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$TMP/other.log") "$BIN/rcvgovd" --restore \
	--runtime-dir "$TMP/none" 2>"$TMP/plain.log"
check "stderr elsewhere: a timestamp and the level ($(cat "$TMP/plain.log"))" \
	grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+ .*info.* restore: no ' "$TMP/plain.log"

# ---------------------------------------------------------- bash completion
want "events" rcvgovctl ev
want "--socket" rcvgovctl --so
want "inflation" rcvgovctl events --type infl
want "--limit" rcvgovctl sockets --l
want "--type" rcvgovctl --socket /tmp/x events --t
want "--json" rcvgovctl status --j
want "--check-config" rcvgovd --check
want "warn" rcvgovd --log-level w
want "--dry-run" rcvgovd --dry
# File completion for --config.
touch "$TMP/zz-example.toml"
want "$TMP/zz-example.toml" rcvgovd --config "$TMP/zz-ex"

if [ "$DEB" -eq 1 ]; then
	# shellcheck source=deb.inc.sh
	. tests/package/deb.inc.sh
fi

echo "package: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
