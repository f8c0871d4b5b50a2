#!/usr/bin/env bash
# Builds the Linux packages from binaries already built (make package builds
# them first): lanfeed and lanfeedd, each as .deb and .rpm, with nFPM, into
# build/package/, and copies the Windows installer there under a name with
# the version.
#
#   build/bin/lanfeed, build/bin/lanfeedd    make build, make lanfeedd
#   build/bin/lanfeed-amd64-installer.exe    scripts/build-windows.sh --installer
#
# VERSION is the version as scripts/version.sh prints it (the Makefile
# passes the one it stamped into the binaries). Packages write a
# pre-release with "~" (0.4.0-rc.1 -> 0.4.0~rc.1), so that it sorts before
# the release; build metadata keeps its "+". NFPM overrides the nFPM binary.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'package: %s\n' "$*"; }
fail() { printf 'package: FAIL: %s\n' "$*" >&2; exit 1; }

VERSION=${VERSION:-$(scripts/version.sh)}
NFPM=${NFPM:-$(go env GOPATH)/bin/nfpm}
OUT=build/package
readonly VERSION NFPM OUT
[[ -x $NFPM ]] || fail "no nFPM at $NFPM: run make deps-nfpm"
for f in build/bin/lanfeed build/bin/lanfeedd build/bin/lanfeed-amd64-installer.exe; do
  [[ -f $f ]] || fail "$f is missing: run make package (it builds it)"
done
command -v convert >/dev/null || fail "ImageMagick's convert is missing (make deps-apt installs it)"

# the binaries must carry the version the packages are named after
for bin in lanfeedd; do
  got=$(build/bin/$bin version | head -n 1)
  [[ $got == "$bin $VERSION" ]] || fail "build/bin/$bin reports \"$got\"; want \"$bin $VERSION\" (rebuild with make package)"
done

pkg_version=$VERSION
if [[ $pkg_version =~ ^([0-9]+\.[0-9]+\.[0-9]+)-([^+]+)(.*)$ ]]; then
  pkg_version=${BASH_REMATCH[1]}~${BASH_REMATCH[2]}${BASH_REMATCH[3]}
fi
# the date of the commit, not of the build, so that two builds of one
# commit make the same files
date_rfc=$(date -u -R -d "@$(git log -1 --format=%ct)")
date_iso=$(date -u +%Y-%m-%d -d "@$(git log -1 --format=%ct)")

rm -rf "$OUT"
STAGE=$OUT/stage # the nFPM recipes read the generated files from here
mkdir -p "$STAGE/lanfeed/icons" "$STAGE/lanfeedd"

# hicolor icons at the sizes desktops ask for, from the 1024 px app icon
for size in 16 24 32 48 64 128 256 512; do
  mkdir -p "$STAGE/lanfeed/icons/${size}x${size}"
  convert build/appicon.png -resize "${size}x${size}" -depth 8 -strip \
    "$STAGE/lanfeed/icons/${size}x${size}/lanfeed.png"
done
sed -e "s/@VERSION@/$pkg_version/" -e "s/@DATE@/$date_iso/" build/linux/lanfeed.metainfo.xml.in \
  >"$STAGE/lanfeed/lanfeed.metainfo.xml"

# /usr/share/doc/PKG: copyright (Debian wants one in every package) and, in
# the .deb, a changelog in Debian's format pointing at the project's own
maintainer=${PKG_MAINTAINER:-lanfeed maintainers <maintainers@lanfeed.invalid>}
for pkg in lanfeed lanfeedd; do
  gzip -9n <"build/linux/$pkg.1" >"$STAGE/$pkg/$pkg.1.gz"
  # stripped as Debian's are (the symbols are for debuggers); the
  # version, the build info and the embedded UI are data and stay
  strip --strip-unneeded --remove-section=.comment --remove-section=.note \
    -o "$STAGE/$pkg/$pkg" "build/bin/$pkg"
  cat >"$STAGE/$pkg/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: lanfeed
Comment: The lanfeed authors have not chosen a license yet. The binaries
 link Go modules under their own licenses (BSD-3-Clause: the Go standard
 library, modernc.org/sqlite; BSD-2-Clause: gorilla/websocket; MIT: Wails
 v2); go.mod in the source lists them all.

Files: *
Copyright: 2026 the lanfeed authors
License: LicenseRef-none-chosen
 No license has been chosen yet; all rights reserved by the authors.
EOF
  {
    printf '%s (%s) unstable; urgency=medium\n\n' "$pkg" "$pkg_version"
    printf '  * Built from commit %s. The changes are in CHANGELOG.md of the\n' "$(git rev-parse --short=12 HEAD)"
    printf '    lanfeed sources.\n\n'
    printf ' -- %s  %s\n' "$maintainer" "$date_rfc"
  } | gzip -9n >"$STAGE/$pkg/changelog.gz"
  touch -d "@$(git log -1 --format=%ct)" "$STAGE/$pkg/changelog.gz"
done

export PKG_VERSION=$pkg_version PKG_MAINTAINER=$maintainer
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
for pkg in lanfeed lanfeedd; do
  for format in deb rpm; do
    "$NFPM" package --config "build/linux/nfpm-$pkg.yaml" --packager "$format" --target "$OUT/" >"$STAGE/nfpm.log" 2>&1 ||
      { cat "$STAGE/nfpm.log" >&2; fail "nfpm could not build the $pkg .$format"; }
  done
done
cp build/bin/lanfeed-amd64-installer.exe "$OUT/lanfeed-$VERSION-windows-amd64-installer.exe"
rm -rf "$STAGE"
say "built in $OUT/:"
(cd "$OUT" && ls -l --time-style=+ -- * | awk '{print "  " $5 "  " $NF}')
