#!/usr/bin/env bash
# Checks what make package built in build/package/:
#   - scripts/version.sh turns git states into the documented versions;
#   - each .deb passes lintian with no error and no warning (what lintian
#     says below that, or overrides, is explained in build/linux/);
#   - each .rpm reads with rpm -qip at the same version, and rpmlint
#     finds no error;
#   - both carry the files they promise (binaries, unit, menu entry, icons,
#     metainfo), and the menu entry and metainfo validate;
#   - the binaries inside report the version the packages carry
#     (`lanfeedd version`, `lanfeed --version`, GET /api/info), and the data
#     dir lanfeedd creates is private (0700);
#   - the Windows installer is a 64-bit Windows program (PE32+) whose NSIS archive (7-Zip
#     lists it) holds lanfeed.exe (PE32+, its version resource at the same
#     version in Windows form) and the uninstaller.
# Then, only under CI (CI=true) or when asked (LANFEED_INSTALL_TEST=1), the
# install test: scripts/test-install.sh installs the .deb on this machine.
#
# VERSION: the version the packages were built with (default: git's).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'test-package: %s\n' "$*"; }
fail() { printf 'test-package: FAIL: %s\n' "$*" >&2; exit 1; }

VERSION=${VERSION:-$(scripts/version.sh)}
OUT=build/package
readonly VERSION OUT
for cmd in lintian dpkg-deb rpm cpio 7z strings objdump file desktop-file-validate appstreamcli python3; do
  command -v "$cmd" >/dev/null || fail "$cmd is not installed (make deps-apt installs it)"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lanfeed-package.XXXXXX")
node_pid=''
cleanup() {
  local rc=$?
  [[ -z $node_pid ]] || { kill "$node_pid" 2>/dev/null; wait "$node_pid" 2>/dev/null || true; }
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the version mapping, on a throwaway repository ------------------------

win=$(scripts/version.sh windows "$VERSION")
pkg_version=$VERSION
if [[ $pkg_version =~ ^([0-9]+\.[0-9]+\.[0-9]+)-([^+]+)(.*)$ ]]; then
  pkg_version=${BASH_REMATCH[1]}~${BASH_REMATCH[2]}${BASH_REMATCH[3]}
fi
# expect_version DIR WANT WANT_WINDOWS: what version.sh run in DIR prints
expect_version() {
  local got gotwin
  got=$(cd "$1" && scripts/version.sh) || fail "version.sh failed in $1"
  gotwin=$(cd "$1" && scripts/version.sh windows) || fail "version.sh windows failed in $1"
  [[ $got == "$2" && $gotwin == "$3" ]] || fail "version.sh in a repo at $4: $got, windows $gotwin; want $2, windows $3"
}
repo=$tmp/repo
mkdir -p "$repo/scripts"
cp scripts/version.sh "$repo/scripts/"
echo one >"$repo/notes"
g() { git -C "$repo" -c user.name=t -c user.email=t@t.invalid -c commit.gpgsign=false -c tag.gpgsign=false "$@" >/dev/null; }
g init -q
g add -A && g commit -qm one && g commit -q --allow-empty -m two
sha=$(git -C "$repo" rev-parse --short=7 HEAD)
expect_version "$repo" "0.0.0+2.g$sha" 0.0.0.2 "two commits, no tag"
g tag v0.3.0
expect_version "$repo" 0.3.0 0.3.0.0 "tag v0.3.0"
g commit -q --allow-empty -m three && g commit -q --allow-empty -m four
sha=$(git -C "$repo" rev-parse --short=7 HEAD)
expect_version "$repo" "0.3.0+2.g$sha" 0.3.0.2 "two commits after v0.3.0"
echo changed >>"$repo/notes"
expect_version "$repo" "0.3.0+2.g$sha.dirty" 0.3.0.2 "two commits after v0.3.0, a changed file"
g commit -qam five && g tag v0.4.0-rc.1
expect_version "$repo" 0.4.0-rc.1 0.4.0.0 "tag v0.4.0-rc.1"
[[ $(scripts/version.sh darwin 0.3.0+12.gabc1234) == 0.3.0 ]] || fail "version.sh darwin 0.3.0+12.gabc1234 is not 0.3.0"
if scripts/version.sh windows 1.2 2>/dev/null; then fail "version.sh windows 1.2 succeeded; want an error"; fi
say "version.sh: no tag, at a tag, after a tag, dirty and pre-release give the documented versions"

# ---- the files -------------------------------------------------------------

deb=$OUT/lanfeed_${pkg_version}_amd64.deb
debd=$OUT/lanfeedd_${pkg_version}_amd64.deb
rpmf=$OUT/lanfeed-${pkg_version}-1.x86_64.rpm
rpmd=$OUT/lanfeedd-${pkg_version}-1.x86_64.rpm
installer=$OUT/lanfeed-$VERSION-windows-amd64-installer.exe
for f in "$deb" "$debd" "$rpmf" "$rpmd" "$installer"; do
  [[ -s $f ]] || fail "$f is missing (make package builds it); $OUT has: $(ls "$OUT" 2>/dev/null | tr '\n' ' ')"
done

# ---- .deb ------------------------------------------------------------------

for f in "$deb" "$debd"; do
  # --fail-on error,warning: a warning fails too; overrides say why one is fine
  if ! lintian --fail-on error,warning --display-info "$f" >"$tmp/lintian.txt" 2>&1; then
    cat "$tmp/lintian.txt" >&2
    fail "lintian $(basename "$f"): errors or warnings (above)"
  fi
  grep -v 'running with root privileges' "$tmp/lintian.txt" | sed 's/^/    /' >"$tmp/lintian-notes.txt" || true
  say "lintian $(basename "$f"): no errors or warnings$( [[ -s $tmp/lintian-notes.txt ]] && printf '; lintian notes (info only):\n%s' "$(cat "$tmp/lintian-notes.txt")")"
  got=$(dpkg-deb -f "$f" Version)
  [[ $got == "$pkg_version" ]] || fail "$(basename "$f"): Version $got; want $pkg_version"
done
[[ $(dpkg-deb -f "$deb" Depends) == *"lanfeedd (= $pkg_version)"* ]] || fail "lanfeed.deb does not depend on lanfeedd (= $pkg_version): $(dpkg-deb -f "$deb" Depends)"
[[ $(dpkg-deb -f "$deb" Depends) == *libwebkit2gtk-4.1-0* ]] || fail "lanfeed.deb does not depend on WebKitGTK 4.1: $(dpkg-deb -f "$deb" Depends)"
[[ $(dpkg-deb -f "$debd" Depends) != *gtk* ]] || fail "lanfeedd.deb depends on GTK: $(dpkg-deb -f "$debd" Depends)"

dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's#^\.##' >"$tmp/deb.list"
dpkg-deb -c "$debd" | awk '{print $NF}' | sed 's#^\.##' >"$tmp/debd.list"
want_files=(/usr/bin/lanfeed /usr/share/applications/lanfeed.desktop /usr/share/metainfo/lanfeed.metainfo.xml)
for size in 16 24 32 48 64 128 256 512; do want_files+=("/usr/share/icons/hicolor/${size}x${size}/apps/lanfeed.png"); done
for p in "${want_files[@]}"; do grep -qxF "$p" "$tmp/deb.list" || fail "lanfeed.deb lacks $p"; done
for p in /usr/bin/lanfeedd /usr/lib/systemd/system/lanfeedd.service; do
  grep -qxF "$p" "$tmp/debd.list" || fail "lanfeedd.deb lacks $p"
done

# ---- .rpm ------------------------------------------------------------------

for f in "$rpmf" "$rpmd"; do
  rpm -qip "$f" >"$tmp/rpm.txt" 2>&1 || { cat "$tmp/rpm.txt" >&2; fail "rpm -qip $(basename "$f") failed"; }
  got=$(rpm -qp --qf '%{VERSION}-%{RELEASE}' "$f" 2>/dev/null)
  [[ $got == "$pkg_version-1" ]] || fail "$(basename "$f"): version-release $got; want $pkg_version-1"
  if command -v rpmlint >/dev/null; then
    # rpmlint unpacks with `rpm2cpio | cpio -id` in a temporary directory,
    # but nFPM's payload names are absolute (/usr/bin/lanfeed), which GNU
    # cpio writes to / itself: a cpio first on PATH that keeps them inside
    # the directory (--no-absolute-filenames) stops that.
    if [[ ! -x $tmp/shim/cpio ]]; then
      mkdir -p "$tmp/shim"
      printf '#!/bin/sh\nexec %q --no-absolute-filenames "$@"\n' "$(command -v cpio)" >"$tmp/shim/cpio"
      chmod +x "$tmp/shim/cpio"
    fi
    # rpmlint exits 64 for errors (66 for errors and badness); warnings are printed
    rc=0
    PATH=$tmp/shim:$PATH rpmlint -c build/linux/rpmlint.toml "$f" >"$tmp/rpmlint.txt" 2>&1 || rc=$?
    if grep -q ': E: ' "$tmp/rpmlint.txt" || ((rc != 0 && rc != 1)); then
      cat "$tmp/rpmlint.txt" >&2
      fail "rpmlint $(basename "$f"): errors (above; status $rc)"
    fi
    say "rpmlint $(basename "$f"): no errors; $(tail -n 1 "$tmp/rpmlint.txt")"
  fi
done
rpm -qlp "$rpmf" 2>/dev/null >"$tmp/rpm.list"
for p in "${want_files[@]}"; do grep -qxF "$p" "$tmp/rpm.list" || fail "lanfeed.rpm lacks $p"; done
rpm -qp --requires "$rpmf" 2>/dev/null | grep -qF 'webkit2gtk4.1' || fail "lanfeed.rpm does not require WebKitGTK 4.1"
say "rpm -qip: both .rpm read as $pkg_version-1 with the same files as the .deb"

# ---- inside: menu entry, metainfo, binaries, versions ----------------------

root=$tmp/root
dpkg-deb -x "$deb" "$root"
dpkg-deb -x "$debd" "$root"
desktop-file-validate "$root/usr/share/applications/lanfeed.desktop" || fail "lanfeed.desktop does not validate"
grep -qx 'StartupWMClass=lanfeed' "$root/usr/share/applications/lanfeed.desktop" || fail "lanfeed.desktop has no StartupWMClass=lanfeed"
appstreamcli validate --no-net --explain "$root/usr/share/metainfo/lanfeed.metainfo.xml" >"$tmp/as.txt" 2>&1 ||
  { cat "$tmp/as.txt" >&2; fail "appstreamcli validate: the metainfo has errors"; }
grep -qF "<release version=\"$pkg_version\"" "$root/usr/share/metainfo/lanfeed.metainfo.xml" ||
  fail "the metainfo's release is not $pkg_version"
file -b "$root/usr/share/icons/hicolor/48x48/apps/lanfeed.png" | grep -q '48 x 48' || fail "the 48x48 icon is not 48 x 48"

# the glibc the app links against is no newer than the one it depends on
need=$(objdump -T "$root/usr/bin/lanfeed" | grep -oE 'GLIBC_[0-9]+(\.[0-9]+)+' | sed 's/GLIBC_//' | sort -uV | tail -n 1)
declared=$(dpkg-deb -f "$deb" Depends | grep -oE 'libc6 \(>= [0-9.]+\)' | grep -oE '[0-9]+(\.[0-9]+)+')
[[ -n $need && -n $declared ]] || fail "could not read the glibc lanfeed needs ($need) or declares ($declared)"
[[ $(printf '%s\n%s\n' "$need" "$declared" | sort -V | tail -n 1) == "$declared" ]] ||
  fail "lanfeed links glibc $need symbols but its .deb depends on libc6 (>= $declared): update build/linux/nfpm-lanfeed.yaml"

got=$("$root/usr/bin/lanfeedd" version | head -n 1)
[[ $got == "lanfeedd $VERSION" ]] || fail "packaged lanfeedd version: $got; want lanfeedd $VERSION"
got=$("$root/usr/bin/lanfeed" --version | head -n 1)
[[ $got == "lanfeed $VERSION" ]] || fail "packaged lanfeed --version: $got; want lanfeed $VERSION"

# The packaged lanfeedd on a fresh data dir: GET /api/info has the version,
# and the data dir it made is the user's only.
data=$tmp/fresh/lanfeed
"$root/usr/bin/lanfeedd" serve --listen 127.0.0.1:0 --data-dir "$data" --no-announce >"$tmp/serve.log" 2>&1 &
node_pid=$!
url=''
for ((i = 0; i < 100; i++)); do
  url=$(grep -oE 'http://127\.0\.0\.1:[0-9]+/' "$tmp/serve.log" | head -n 1 || true)
  [[ -n $url ]] && break
  kill -0 "$node_pid" 2>/dev/null || fail "lanfeedd serve exited: $(cat "$tmp/serve.log")"
  sleep 0.1
done
[[ -n $url ]] || fail "lanfeedd serve printed no URL within 10s: $(cat "$tmp/serve.log")"
got=$(python3 -c 'import json, sys, urllib.request; print(json.load(urllib.request.urlopen(sys.argv[1] + "api/info", timeout=5))["version"])' "$url")
[[ $got == "$VERSION" ]] || fail "GET ${url}api/info version: $got; want $VERSION"
kill "$node_pid"
wait "$node_pid" 2>/dev/null || true
node_pid=''
[[ $(stat -c %a "$data") == 700 ]] || fail "lanfeedd made its data dir with mode $(stat -c %a "$data"); want 700"
say "packaged binaries and GET /api/info report $VERSION; a fresh data dir is mode 700"

# ---- Windows installer -----------------------------------------------------

file -b "$installer" >"$tmp/file.txt"
grep -q '^PE32+ executable (GUI) x86-64' "$tmp/file.txt" ||
  fail "$(basename "$installer") is $(cat "$tmp/file.txt"); want a PE32+ GUI x86-64 program (Target amd64-unicode in project.nsi)"
7z l -slt "$installer" >"$tmp/7z.txt" 2>&1 || { cat "$tmp/7z.txt" >&2; fail "7z cannot list $(basename "$installer")"; }
grep -qx 'Type = Nsis' "$tmp/7z.txt" || fail "7-Zip does not read $(basename "$installer") as an NSIS archive"
grep -qx 'Path = lanfeed.exe' "$tmp/7z.txt" || { grep '^Path' "$tmp/7z.txt" >&2; fail "the installer holds no lanfeed.exe"; }
grep -qiE '^Path = .*uninstall[^/]*\.exe$' "$tmp/7z.txt" || { grep '^Path' "$tmp/7z.txt" >&2; fail "the installer holds no uninstaller"; }
grep -qE '^Path = .*MicrosoftEdgeWebview2Setup\.exe$' "$tmp/7z.txt" || { grep '^Path' "$tmp/7z.txt" >&2; fail "the installer holds no WebView2 bootstrapper"; }
7z e -y -o"$tmp/win" "$installer" lanfeed.exe >/dev/null || fail "7z cannot extract lanfeed.exe from the installer"
file -b "$tmp/win/lanfeed.exe" | grep -q '^PE32+ executable (GUI) x86-64' || fail "the installed lanfeed.exe is $(file -b "$tmp/win/lanfeed.exe"); want PE32+ GUI x86-64"

# version_resource FILE: the ProductVersion string of FILE's version
# resource (UTF-16: key and value are consecutive strings).
version_resource() { strings -el "$1" | grep -A1 -x ProductVersion | tail -n 1; }
got=$(version_resource "$tmp/win/lanfeed.exe")
[[ $got == "$win" ]] || fail "lanfeed.exe ProductVersion: $got; want $win (scripts/version.sh windows $VERSION)"
got=$(version_resource "$installer")
[[ $got == "$win" ]] || fail "the installer's ProductVersion: $got; want $win"
grep -qaF "$VERSION" "$tmp/win/lanfeed.exe" || fail "lanfeed.exe does not carry the version $VERSION (ldflags)"
git diff --quiet HEAD -- wails.json || fail "wails.json was left changed by the build (with-version.sh restores it)"
say "$(basename "$installer"): $(cut -c1-60 "$tmp/file.txt"); holds lanfeed.exe (PE32+, ProductVersion $win), the uninstaller and the WebView2 bootstrapper"

# ---- the install test ------------------------------------------------------

if [[ ${CI:-} == true || ${LANFEED_INSTALL_TEST:-} == 1 ]]; then
  bash scripts/test-install.sh "$deb" "$debd" "$VERSION"
else
  say "install test skipped: it installs the .deb into this machine, so it runs only under CI (CI=true) or with LANFEED_INSTALL_TEST=1"
fi
say "passed"
