#!/usr/bin/env bash
# Cross-builds the Windows desktop app from Linux and checks what came out:
# build/bin/lanfeed.exe must be a 64-bit x86 Windows GUI program (PE32+)
# carrying the manifest from build/windows/. Wails needs no cgo for Windows.
#
# With --installer it also builds the NSIS installer (wails build -nsis,
# Debian's makensis) and fails if build/bin/lanfeed-amd64-installer.exe is
# missing: without makensis Wails only warns and reports success.
#
# The version resource (and the installer's) carries the build's version
# in its Windows form (scripts/version.sh windows), stamped into wails.json
# for the build only (scripts/with-version.sh); VERSION overrides git.
#
# No -clean here: it would wipe build/bin, where `make build` put the Linux
# app. It embeds frontend/dist as it is (-s): run `make build-web` first.
# WAILS=/path/to/wails overrides the CLI (default: $(go env GOPATH)/bin/wails).
set -euo pipefail
cd "$(dirname "$0")/.."

readonly EXE=build/bin/lanfeed.exe INSTALLER=build/bin/lanfeed-amd64-installer.exe
WAILS=${WAILS:-$(go env GOPATH)/bin/wails}
nsis=()
case ${1:-} in
  --installer) nsis=(-nsis) ;;
  '') ;;
  *) echo "usage: scripts/build-windows.sh [--installer]" >&2; exit 2 ;;
esac

say() { printf 'build-windows: %s\n' "$*"; }
fail() { printf 'build-windows: FAIL: %s\n' "$*" >&2; exit 1; }

[[ -x $WAILS ]] || fail "no Wails CLI at $WAILS: run make deps-wails"
if ((${#nsis[@]})); then
  command -v makensis >/dev/null || fail "makensis is not installed (make deps-apt installs Debian's nsis)"
fi

rm -f "$EXE" "$INSTALLER"
start=$SECONDS
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# The same flags as the Linux build, less the webkit tag and -clean;
# LDFLAGS (set by the Makefile) stamps the version.
if ! CGO_ENABLED=0 scripts/with-version.sh windows "$WAILS" build -platform windows/amd64 -skipbindings -m -s "${nsis[@]}" \
  ${LDFLAGS:+-ldflags "$LDFLAGS"} </dev/null >"$log" 2>&1; then
  cat "$log" >&2
  fail "wails build -platform windows/amd64 ${nsis[*]} failed"
fi
[[ -f $EXE ]] || { cat "$log" >&2; fail "wails reported success but $EXE is missing"; }
say "built $EXE ($(stat -c %s "$EXE") bytes) in $((SECONDS - start))s"
if ((${#nsis[@]})); then
  [[ -f $INSTALLER ]] || { cat "$log" >&2; fail "wails reported success but the installer $INSTALLER is missing"; }
  say "built $INSTALLER ($(stat -c %s "$INSTALLER") bytes)"
fi

# u16 OFFSET / u32 OFFSET: little-endian integers read from the file.
u16() { od -An -v --endian=little -t u2 -j "$1" -N 2 "$EXE" | tr -d ' '; }
u32() { od -An -v --endian=little -t u4 -j "$1" -N 4 "$EXE" | tr -d ' '; }

# DOS header "MZ", then the PE header at e_lfanew (offset 0x3c): "PE\0\0",
# machine 0x8664 (x86-64), optional header magic 0x20b (PE32+) and
# subsystem 2 (Windows GUI, no console window).
[[ $(head -c 2 "$EXE") == MZ ]] || fail "$EXE has no MZ header"
pe=$(u32 60)
[[ $(od -An -v -t x1 -j "$pe" -N 4 "$EXE" | tr -d ' ') == 50450000 ]] || fail "$EXE has no PE signature at offset $pe"
machine=$(u16 $((pe + 4)))
magic=$(u16 $((pe + 24)))
subsystem=$(u16 $((pe + 24 + 68)))
((machine == 0x8664)) || fail "$EXE machine is $(printf 0x%x "$machine"); want 0x8664 (x86-64)"
((magic == 0x20b)) || fail "$EXE optional header magic is $(printf 0x%x "$magic"); want 0x20b (PE32+)"
((subsystem == 2)) || fail "$EXE subsystem is $subsystem; want 2 (Windows GUI)"
# The application manifest from build/windows/wails.exe.manifest is embedded.
grep -qa 'permonitorv2' "$EXE" || fail "$EXE does not embed build/windows/wails.exe.manifest"

if command -v file >/dev/null; then
  say "$(file -b "$EXE")"
fi
say "ok: PE32+ x86-64 Windows GUI executable with its manifest"
