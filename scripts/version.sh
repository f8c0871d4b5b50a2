#!/usr/bin/env bash
# Prints lanfeed's version in the form one target needs. The one source is
# git: the newest tag vX.Y.Z (or vX.Y.Z-PRE) reachable from HEAD.
#
#   scripts/version.sh                 the version: binaries, /api/info, packages
#   scripts/version.sh windows [V]     Windows version resource and installer
#   scripts/version.sh darwin [V]      macOS CFBundleShortVersionString
#
# With V, converts V (a version as the first form prints it) instead of
# asking git. The mapping (README, "Versions"):
#
#   git state                      version                 windows    darwin
#   at tag v0.3.0, clean           0.3.0                   0.3.0.0    0.3.0
#   12 commits after v0.3.0        0.3.0+12.gabc1234       0.3.0.12   0.3.0
#   the same, uncommitted changes  0.3.0+12.gabc1234.dirty 0.3.0.12   0.3.0
#   at tag v0.4.0-rc.1             0.4.0-rc.1              0.4.0.0    0.4.0
#   no tag yet, 412 commits        0.0.0+412.gabc1234      0.0.0.412  0.0.0
#
# The version is SemVer: what follows "+" is build metadata, so a build
# after a tag is that tag's version plus how far past it and which commit.
# nFPM writes a pre-release as "~rc.1" in the .deb and .rpm (sorts before
# 0.4.0) and the metadata as "+12.gabc1234" (sorts after 0.3.0, and by the
# count of commits, a number, between two builds). Windows takes four
# numbers only; the fourth is the count of commits. With no tag the base is
# 0.0.0 and the count is of every commit.
set -euo pipefail

semver_re='^([0-9]+)\.([0-9]+)\.([0-9]+)(-[0-9A-Za-z.-]+)?(\+([0-9]+)\.g[0-9a-f]+(\.dirty)?)?$'

from_git() {
  cd "$(dirname "$0")/.."
  local desc tag count sha dirty=''
  git rev-parse --git-dir >/dev/null 2>&1 || { echo "version.sh: not in a git checkout; set VERSION" >&2; exit 1; }
  sha=$(git rev-parse --short=7 HEAD)
  # the index is refreshed first, so a touched but unchanged file is clean
  git update-index -q --refresh >/dev/null 2>&1 || true
  git diff-index --quiet HEAD -- || dirty=.dirty
  if desc=$(git describe --tags --long --abbrev=7 --match 'v[0-9]*.[0-9]*.[0-9]*' HEAD 2>/dev/null); then
    # v0.3.0-12-gabc1234: tag, count, sha (a tag may hold "-" itself)
    count=${desc%-g*}
    count=${count##*-}
    tag=${desc%-"$count"-g*}
    tag=${tag#v}
  else
    tag=0.0.0
    count=$(git rev-list --count HEAD)
  fi
  if [[ $count == 0 && -z $dirty ]]; then
    echo "$tag"
  else
    echo "$tag+$count.g$sha$dirty"
  fi
}

check() {
  [[ $1 =~ $semver_re ]] || { echo "version.sh: $1 is not a version like 0.3.0 or 0.3.0+12.gabc1234" >&2; exit 1; }
}

kind=${1:-}
case $kind in
  '')
    v=$(from_git)
    check "$v"
    echo "$v"
    ;;
  windows | darwin)
    v=${2:-$(from_git)}
    check "$v"
    major=${BASH_REMATCH[1]} minor=${BASH_REMATCH[2]} patch=${BASH_REMATCH[3]} count=${BASH_REMATCH[6]:-0}
    if [[ $kind == windows ]]; then
      # each of the four is a 16-bit number in the version resource
      for n in "$major" "$minor" "$patch" "$count"; do
        ((10#$n <= 65535)) || { echo "version.sh: $v: $n does not fit a Windows version (at most 65535)" >&2; exit 1; }
      done
      echo "$((10#$major)).$((10#$minor)).$((10#$patch)).$((10#$count))"
    else
      echo "$((10#$major)).$((10#$minor)).$((10#$patch))"
    fi
    ;;
  *)
    echo "usage: scripts/version.sh [windows|darwin [VERSION]]" >&2
    exit 2
    ;;
esac
