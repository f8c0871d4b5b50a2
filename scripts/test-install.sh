#!/usr/bin/env bash
# test-install.sh LANFEED.deb LANFEEDD.deb VERSION: installs the packages
# into this machine as a user would (dpkg -i, then apt-get -f install for
# what they depend on), opens the installed app the way the menu does (the
# .desktop entry's Exec line, resolved on PATH, must be /usr/bin/lanfeed)
# under Xvfb with the desktop test (OCR of the window, a second launch,
# a post from a LAN peer), checks `lanfeedd version`, the system user and
# the unit, and removes the packages again: no file of theirs may be left,
# only the user's data (a feed in /var/lib/lanfeed made as the service's
# user stays).
#
# It changes the machine, so test-package.sh runs it only under CI or with
# LANFEED_INSTALL_TEST=1; and it leaves the machine as it found it, also
# when it fails: the packages purged, any package apt-get pulled in purged,
# the system user and /var/lib/lanfeed removed if they were not there
# before. It refuses to run where lanfeed or lanfeedd is already installed.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'test-install: %s\n' "$*"; }
fail() { printf 'test-install: FAIL: %s\n' "$*" >&2; exit 1; }

(($# == 3)) || { echo "usage: scripts/test-install.sh LANFEED.deb LANFEEDD.deb VERSION" >&2; exit 2; }
deb=$(realpath "$1") debd=$(realpath "$2") VERSION=$3
SUDO=''
[[ $(id -u) == 0 ]] || SUDO=sudo
readonly deb debd VERSION SUDO
export DEBIAN_FRONTEND=noninteractive

for p in lanfeed lanfeedd; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'installed'; then
    fail "$p is already installed here; the install test would replace it (remove it first: dpkg --purge $p)"
  fi
done
had_user=0 had_state=0
getent passwd lanfeed >/dev/null && had_user=1
[[ -e /var/lib/lanfeed ]] && had_state=1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lanfeed-install.XXXXXX")
dpkg-query -W -f='${Package}\n' | sort >"$tmp/before.txt"
node_pid=''

cleanup() {
  local rc=$?
  set +e
  [[ -z $node_pid ]] || { $SUDO kill "$node_pid" 2>/dev/null; wait "$node_pid" 2>/dev/null; }
  for p in lanfeed lanfeedd; do
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -qv 'not-installed'; then
      $SUDO dpkg --purge "$p" >/dev/null 2>&1 || say "cleanup: dpkg --purge $p failed"
    fi
  done
  # what apt-get -f install brought in for them
  dpkg-query -W -f='${Package}\n' | sort >"$tmp/after.txt"
  extra=$(comm -13 "$tmp/before.txt" "$tmp/after.txt" | tr '\n' ' ')
  if [[ -n ${extra// /} ]]; then
    say "cleanup: purging what the install pulled in: $extra"
    # shellcheck disable=SC2086
    $SUDO apt-get purge -y -qq -o DPkg::Lock::Timeout=120 $extra >/dev/null 2>&1 || say "cleanup: could not purge $extra"
  fi
  if ((!had_user)) && getent passwd lanfeed >/dev/null; then
    $SUDO userdel lanfeed 2>/dev/null
    getent group lanfeed >/dev/null && $SUDO groupdel lanfeed 2>/dev/null
  fi
  ((had_state)) || $SUDO rm -rf /var/lib/lanfeed
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- install -----------------------------------------------------------------

start=$SECONDS
# dpkg -i leaves a package whose dependencies are missing unconfigured;
# apt-get -f install then installs them (or removes the package)
if ! $SUDO dpkg -i "$debd" "$deb" >"$tmp/dpkg.log" 2>&1; then
  say "dpkg -i left dependencies to apt-get -f install: $(grep -i depend "$tmp/dpkg.log" | head -n 3 | tr '\n' ' ')"
fi
$SUDO apt-get install -f -y -qq -o DPkg::Lock::Timeout=120 >"$tmp/apt.log" 2>&1 ||
  { cat "$tmp/dpkg.log" "$tmp/apt.log" >&2; fail "apt-get -f install failed"; }
for p in lanfeed lanfeedd; do
  status=$(dpkg-query -W -f='${Status} ${Version}' "$p" 2>/dev/null || true)
  [[ $status == "install ok installed "* ]] || { cat "$tmp/dpkg.log" "$tmp/apt.log" >&2; fail "$p is not installed after dpkg -i and apt-get -f install: $status"; }
done
say "installed $(dpkg-query -W -f='${Package} ${Version} ' lanfeed lanfeedd)in $((SECONDS - start))s"
dpkg -L lanfeed lanfeedd | sort -u >"$tmp/files.txt"

got=$(lanfeedd version | head -n 1)
[[ $got == "lanfeedd $VERSION" ]] || fail "lanfeedd version: $got; want lanfeedd $VERSION"
[[ $(command -v lanfeedd) == /usr/bin/lanfeedd ]] || fail "lanfeedd on PATH is $(command -v lanfeedd); want /usr/bin/lanfeedd"
say "lanfeedd version: $got"

# the system user, and the unit: valid, disabled
IFS=: read -r _ _ _ _ _ home shell < <(getent passwd lanfeed) || fail "the package made no system user lanfeed"
[[ $home == /var/lib/lanfeed && $shell == */nologin ]] || fail "user lanfeed: home $home, shell $shell; want /var/lib/lanfeed and nologin"
unit=/usr/lib/systemd/system/lanfeedd.service
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify "$unit" >"$tmp/verify.txt" 2>&1 || { cat "$tmp/verify.txt" >&2; fail "systemd-analyze verify $unit"; }
  [[ ! -s $tmp/verify.txt ]] || { cat "$tmp/verify.txt" >&2; fail "systemd-analyze verify $unit has complaints"; }
fi
if compgen -G '/etc/systemd/system/*.wants/lanfeedd.service' >/dev/null; then
  fail "lanfeedd.service was enabled by the install; want it disabled"
fi
say "system user lanfeed (home /var/lib/lanfeed, $shell); lanfeedd.service verifies and is disabled"

# what the service would keep: a feed in /var/lib/lanfeed, made as lanfeed
$SUDO install -d -o lanfeed -g lanfeed -m 0700 /var/lib/lanfeed
$SUDO runuser -u lanfeed -- /usr/bin/lanfeedd serve --data-dir /var/lib/lanfeed --listen 127.0.0.1:0 --no-announce \
  </dev/null >"$tmp/serve.log" 2>&1 &
node_pid=$!
for ((i = 0; i < 100; i++)); do
  grep -q 'http://127\.0\.0\.1:' "$tmp/serve.log" && break
  kill -0 "$node_pid" 2>/dev/null || fail "lanfeedd serve as user lanfeed exited: $(cat "$tmp/serve.log")"
  sleep 0.1
done
grep -q 'http://127\.0\.0\.1:' "$tmp/serve.log" || fail "lanfeedd serve as user lanfeed printed no URL in 10s"
$SUDO kill "$node_pid"
wait "$node_pid" 2>/dev/null || true
node_pid=''
[[ -s /var/lib/lanfeed/lanfeed.db ]] || fail "lanfeedd as user lanfeed made no /var/lib/lanfeed/lanfeed.db"

# ---- open it from the menu ---------------------------------------------------

entry=/usr/share/applications/lanfeed.desktop
exec_line=$(sed -n 's/^Exec=//p' "$entry" | head -n 1)
[[ -n $exec_line ]] || fail "$entry has no Exec line"
# the first word, without the field codes (%U, %f ...) a launcher fills in
read -r exec_cmd _ <<<"${exec_line//%[a-zA-Z]/}"
app=$(command -v "$exec_cmd" || true)
[[ $app == /usr/bin/lanfeed ]] || fail "$entry runs \"$exec_line\", which is ${app:-not on PATH}; want /usr/bin/lanfeed"
say "$entry: Exec=$exec_line -> $app"
got=$("$app" --version | head -n 1)
[[ $got == "lanfeed $VERSION" ]] || fail "$app --version: $got; want lanfeed $VERSION"
DESKTOP_TEST_APP=$app DESKTOP_TEST_NODE=/usr/bin/lanfeedd bash scripts/test-desktop.sh || fail "the installed app failed the desktop test (above)"

# ---- remove --------------------------------------------------------------------

$SUDO dpkg --remove lanfeed lanfeedd >"$tmp/remove.log" 2>&1 || { cat "$tmp/remove.log" >&2; fail "dpkg --remove failed"; }
$SUDO dpkg --purge lanfeed lanfeedd >>"$tmp/remove.log" 2>&1 || { cat "$tmp/remove.log" >&2; fail "dpkg --purge failed"; }
left=''
while read -r f; do
  [[ -e $f && ! -d $f ]] && left+=" $f"
done <"$tmp/files.txt"
[[ -z $left ]] || fail "files of the packages left after removal:$left"
stray=$(find /etc /usr/lib/systemd /var/lib/systemd -name '*lanfeed*' 2>/dev/null | tr '\n' ' ')
[[ -z $stray ]] || fail "left after removal: $stray"
[[ -s /var/lib/lanfeed/lanfeed.db ]] || fail "the user's feed /var/lib/lanfeed/lanfeed.db went with the package; want it kept"
say "removed and purged: none of the $(wc -l <"$tmp/files.txt") paths of the packages is left; the user's feed in /var/lib/lanfeed is kept"
say "passed in $((SECONDS - start))s"
