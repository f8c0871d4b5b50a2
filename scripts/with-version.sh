#!/usr/bin/env bash
# with-version.sh windows|darwin COMMAND...: runs COMMAND (a `wails build`)
# with wails.json's info.productVersion set to this build's version in the
# form that platform takes (scripts/version.sh), then puts wails.json back
# byte for byte, also when COMMAND fails or is interrupted. Wails reads
# productVersion into the Windows version resource, the NSIS installer and
# the macOS Info.plist; the checked-in value, 0.0.0.0, only says "not
# stamped". VERSION (as scripts/version.sh prints it) overrides git.
set -euo pipefail
cd "$(dirname "$0")/.."
(($# >= 2)) || { echo "usage: scripts/with-version.sh windows|darwin COMMAND..." >&2; exit 2; }
platform=$1
shift
product=$(scripts/version.sh "$platform" ${VERSION:+"$VERSION"})

saved=$(mktemp)
cp -p wails.json "$saved"
restore() { cp -p "$saved" wails.json && rm -f "$saved"; }
trap restore EXIT
trap 'exit 130' INT TERM
python3 - "$product" <<'PY'
import json, sys
with open("wails.json") as f:
    cfg = json.load(f)
cfg.setdefault("info", {})["productVersion"] = sys.argv[1]
with open("wails.json", "w") as f:
    json.dump(cfg, f, indent=2)
    f.write("\n")
PY
echo "with-version: wails.json productVersion $product (for $platform) while running: $*"
"$@"
