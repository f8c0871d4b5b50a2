#!/usr/bin/env bash
# Desktop test: the built app (build/bin/lanfeed) runs under its own Xvfb with
# a throwaway data dir; a LAN peer writes a post through the REST API; the
# post must then be readable, by OCR of a screenshot, in the window's React
# UI, where it can only have come through the Wails "posts" event (the feed
# was loaded, empty, before the post was written).
#
# The window also shows a post of a followed node: a headless lanfeedd (node
# A) runs on loopback, the app starts with --follow A; once the app reports A
# live, a post written on A must show in the window too, where it can only
# have come through replication (the app's own API never saw it).
#
# The test can fail: before the posts the same OCR must read the empty feed
# and must not read either post's words. With a D-Bus daemon on the machine the
# app gets a private session bus, as on a desktop, and a second launch on the
# same data dir must hand over to the first and exit.
#
# Once the post is on screen the window is left alone for IDLE_SECS and its
# processes (the app and its WebKitWebProcess/WebKitNetworkProcess children)
# may use at most IDLE_MAX_PCT of one core between them: an endless CSS
# animation once kept the web process at 65%. The kernel's count of each
# process's CPU time (utime + stime) is used, not wall-clock timings, so a
# busy machine does not make an idle window look busy.
#
# The app sets WEBKIT_DISABLE_DMABUF_RENDERER=1 for WebKit unless the user
# set it (blank windows on some Wayland/NVIDIA machines): the test unsets it
# and reads it back from the WebKitWebProcess's environment.
#
# Needs: build/bin/lanfeed and build/bin/lanfeedd (DESKTOP_TEST_APP=/usr/bin/lanfeed
# and DESKTOP_TEST_NODE=/usr/bin/lanfeedd test installed ones), Xvfb,
# imagemagick (import, convert), tesseract,
# python3 (HTTP and reading the token; no curl or sqlite3 CLI needed).
# Keeps the last screenshot at test-artifacts/desktop.png (and the one of the
# empty feed at test-artifacts/desktop-before.png).
# DESKTOP_TEST_DISPLAY=:N uses a running X server instead of a new Xvfb.
set -euo pipefail
cd "$(dirname "$0")/.."

readonly APP=${DESKTOP_TEST_APP:-build/bin/lanfeed}
readonly NODE=${DESKTOP_TEST_NODE:-build/bin/lanfeedd}
readonly ARTIFACTS=test-artifacts
# Bounds, in seconds. The whole test takes 10-20 s when the app is healthy.
readonly API_WAIT=30   # app start until GET /api/info answers
readonly UI_WAIT=25    # until the window shows the loaded, empty feed
readonly SECOND_WAIT=10 # a second launch on the same data dir until it exits
readonly POST_WAIT=15  # post written until its title is on screen
readonly NODE_WAIT=10  # node A started until it prints its address and token
readonly FOLLOW_WAIT=20 # app started until it reports node A live
readonly QUIT_WAIT=10  # SIGTERM until the app has exited
readonly IDLE_SETTLE=3 # after the post shows, for its slide-in to end
readonly IDLE_SECS=30  # the window is watched idle this long
readonly IDLE_MAX_PCT=3 # most CPU the idle window may use, % of one core
readonly TOTAL=${DESKTOP_TEST_TIMEOUT:-170} # the whole test; the step running then may add 15 s

# A number of its own per run, so no earlier run's screen can pass the test.
# It is drawn again below if the empty window happens to show it (in the port).
NUMBER=$((1000 + RANDOM % 9000))
FNUMBER=$((1000 + RANDOM % 9000)) # the followed node's post
readonly BODY="Written by a LAN peer through the REST API"
readonly FBODY="Written on a followed node"

say() { printf 'test-desktop: %s\n' "$*"; }
fail() {
  printf 'test-desktop: FAIL: %s\n' "$*" >&2
  if [[ -s ${tmp:-}/app.log ]]; then
    printf -- '--- app log (last 40 lines) ---\n' >&2
    tail -n 40 "$tmp/app.log" >&2
  fi
  if [[ -s ${tmp:-}/a.log ]]; then
    printf -- '--- node A log (last 20 lines) ---\n' >&2
    tail -n 20 "$tmp/a.log" >&2
  fi
  exit 1
}

for cmd in Xvfb import convert tesseract python3; do
  command -v "$cmd" >/dev/null || fail "$cmd is not installed (make deps-apt installs it)"
done
[[ -x $APP ]] || fail "$APP is missing: run make build first"
[[ -x $NODE ]] || fail "$NODE is missing: run make lanfeedd first"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lanfeed-desktop.XXXXXX")
xvfb_pid='' dbus_pid='' app_pid='' a_pid='' watchdog_pid=''

# stop PID [SECONDS]: TERM, then KILL if it is still there after SECONDS.
stop() {
  local pid=$1 secs=${2:-5} i
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < secs * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  [[ -z $watchdog_pid ]] || kill "$watchdog_pid" 2>/dev/null || true
  stop "$app_pid"
  stop "$a_pid"
  stop "$dbus_pid"
  stop "$xvfb_pid"
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# The watchdog bounds the whole run, whatever step hangs.
trap 'fail "the test took longer than ${TOTAL}s"' USR1
(
  trap 'kill "$nap" 2>/dev/null; wait "$nap"; exit 0' TERM
  sleep "$TOTAL" & nap=$!
  wait "$nap" && kill -USR1 $$
) 2>/dev/null &
watchdog_pid=$!

# ---- display -------------------------------------------------------------

if [[ -n ${DESKTOP_TEST_DISPLAY:-} ]]; then
  display=$DESKTOP_TEST_DISPLAY
else
  # The first free number in :97..:120; another Xvfb may win a race for a
  # number, so a server that does not come up moves us to the next one.
  display=''
  for n in $(seq 97 120); do
    [[ -e /tmp/.X$n-lock || -e /tmp/.X11-unix/X$n ]] && continue
    Xvfb ":$n" -screen 0 1280x900x24 -nolisten tcp \
      </dev/null >"$tmp/xvfb.log" 2>&1 &
    xvfb_pid=$!
    for ((i = 0; i < 50; i++)); do
      [[ -S /tmp/.X11-unix/X$n ]] && break
      kill -0 "$xvfb_pid" 2>/dev/null || break
      sleep 0.1
    done
    if [[ -S /tmp/.X11-unix/X$n ]] && kill -0 "$xvfb_pid" 2>/dev/null; then
      display=:$n
      break
    fi
    stop "$xvfb_pid"
    xvfb_pid=''
  done
  [[ -n $display ]] || fail "no Xvfb display could be started in :97..:120 ($(tail -n 3 "$tmp/xvfb.log" 2>/dev/null))"
fi
export DISPLAY=$display
say "display $DISPLAY"

# A private session bus, as a desktop session has, if D-Bus is installed:
# Wails' single-instance lock on Linux works through it (and is silently off
# without one). The bus starts no services, so WebKit's request for the
# accessibility bus leaves no at-spi daemons behind; NO_AT_BRIDGE keeps GTK
# from asking too.
export NO_AT_BRIDGE=1
unset WEBKIT_DISABLE_DMABUF_RENDERER
unset DBUS_SESSION_BUS_ADDRESS
if command -v dbus-daemon >/dev/null; then
  cat >"$tmp/session.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=$tmp</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
  dbus-daemon --config-file="$tmp/session.conf" --nofork --nopidfile --nosyslog --print-address=1 \
    </dev/null >"$tmp/dbus.addr" 2>"$tmp/dbus.log" &
  dbus_pid=$!
  for ((i = 0; i < 50; i++)); do
    [[ -s $tmp/dbus.addr ]] && break
    sleep 0.1
  done
  [[ -s $tmp/dbus.addr ]] || fail "dbus-daemon did not start: $(cat "$tmp/dbus.log")"
  DBUS_SESSION_BUS_ADDRESS=$(head -n 1 "$tmp/dbus.addr")
  export DBUS_SESSION_BUS_ADDRESS
  say "private D-Bus session bus"
else
  say "no dbus-daemon: running without a session bus (single-instance check skipped)"
fi

# ---- helpers -------------------------------------------------------------

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# api METHOD PATH [JSON]: prints the response body; fails on an HTTP error.
# A write sends the token in $LANFEED_TOKEN_FILE, keeping it off command lines.
api() {
  python3 - "$base" "$@" <<'PY'
import os, sys, urllib.request, urllib.error
base, method, path = sys.argv[1:4]
data = sys.argv[4].encode() if len(sys.argv) > 4 else None
req = urllib.request.Request(base + path, data=data, method=method)
if data is not None:
    req.add_header("Content-Type", "application/json")
    with open(os.environ["LANFEED_TOKEN_FILE"]) as f:
        req.add_header("Authorization", "Bearer " + f.read().strip())
try:
    with urllib.request.urlopen(req, timeout=5) as r:
        sys.stdout.write(r.read().decode())
except urllib.error.HTTPError as e:
    sys.exit(f"{method} {path}: HTTP {e.code}: {e.read().decode()}")
except OSError as e:
    sys.exit(f"{method} {path}: {e}")
PY
}

# The pairing token, read from the node table the way the app stores it.
read_token() {
  python3 - "$data/lanfeed.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True, timeout=5)
print(db.execute("SELECT token FROM node").fetchone()[0])
PY
}

app_alive() { kill -0 "$app_pid" 2>/dev/null; }

# idle_cpu PID SECS MAX_PCT: the CPU time PID and every process below it use
# in SECS seconds, as a share of one core; prints one line per process and
# the total, and fails if the total is above MAX_PCT. A process that starts
# meanwhile counts from zero; one that ends is left out.
idle_cpu() {
  python3 - "$@" <<'PY'
import os, sys, time
root, secs, max_pct = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
hz = os.sysconf("SC_CLK_TCK")

def snapshot():
    procs = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                text = f.read()
        except OSError:
            continue  # gone
        # comm is in parentheses and may hold spaces; utime, stime are fields 14, 15
        comm = text[text.index("(") + 1:text.rindex(")")]
        rest = text[text.rindex(")") + 2:].split()
        procs[int(d)] = (comm, int(rest[1]), int(rest[11]) + int(rest[12]))
    tree, todo = {}, [root]
    if root in procs:
        tree[root] = procs[root]
    while todo:
        parent = todo.pop()
        for pid, p in procs.items():
            if p[1] == parent and pid not in tree:
                tree[pid] = p
                todo.append(pid)
    return tree

before, t0 = snapshot(), time.monotonic()
time.sleep(secs)
after, wall = snapshot(), time.monotonic() - t0
total = 0.0
for pid, (comm, _, ticks) in sorted(after.items()):
    used = (ticks - before.get(pid, (comm, 0, 0))[2]) / hz
    total += used
    print(f"  {comm}[{pid}]: {used * 1000:.0f} ms")
pct = 100 * total / wall
print(f"  total: {total * 1000:.0f} ms of CPU in {wall:.1f} s = {pct:.2f}% of one core (limit {max_pct:g}%)")
# the page runs in the web process: without it there was nothing to measure
if not any(comm.startswith("WebKitWebProces") for comm, _, _ in before.values()) or \
        not any(comm.startswith("WebKitWebProces") for comm, _, _ in after.values()):
    print("  no WebKitWebProcess below the app for the whole time: the window's page was not measured")
    sys.exit(2)
sys.exit(0 if pct <= max_pct else 1)
PY
}

# has FILE WORD...: every word is in the OCR text (case-insensitive).
has() {
  local file=$1 w
  shift
  for w in "$@"; do grep -qiF -- "$w" "$file" || return 1; done
}

# look NAME WORD...: takes a screenshot of the whole screen ($tmp/NAME.png)
# and OCRs it into $tmp/NAME.txt; succeeds if every word is in the text.
# Small UI text reads better enlarged, so a miss is read again at 2x.
look() {
  local name=$1 png=$tmp/$1.png txt=$tmp/$1.txt
  shift
  : >"$txt"
  timeout 10 import -window root "$png" || return 1
  timeout 15 tesseract "$png" stdout >"$txt" 2>/dev/null || return 1
  has "$txt" "$@" && return 0
  look_2x "$name" && has "$txt" "$@"
}

# look_2x NAME: adds the OCR text of $tmp/NAME.png enlarged 2x to $tmp/NAME.txt.
look_2x() {
  timeout 10 convert "$tmp/$1.png" -resize 200% "$tmp/$1-2x.png" || return 1
  timeout 15 tesseract "$tmp/$1-2x.png" stdout >>"$tmp/$1.txt" 2>/dev/null
}

# ---- node A, the node the app follows ---------------------------------------

"$NODE" serve --listen 127.0.0.1:0 --data-dir "$tmp/node-a" --name ocr-node-a </dev/null >"$tmp/a.out" 2>"$tmp/a.log" &
a_pid=$!
deadline=$((SECONDS + NODE_WAIT))
a_url=''
until [[ -n $a_url ]] && grep -q '^pairing token: ' "$tmp/a.out"; do
  kill -0 "$a_pid" 2>/dev/null || fail "node A (lanfeedd) exited before it was ready: $(tail -n 5 "$tmp/a.log")"
  ((SECONDS < deadline)) || fail "node A printed no address and token within ${NODE_WAIT}s: $(cat "$tmp/a.out")"
  sleep 0.1
  a_url=$(sed -n 's/^listening on \(http:\/\/[^ ]*\)$/\1/p' "$tmp/a.out" | head -n 1)
done
sed -n 's/^pairing token: //p' "$tmp/a.out" | head -n 1 >"$tmp/a-token"
say "node A (lanfeedd pid $a_pid) at $a_url"

# ---- the app ---------------------------------------------------------------

data=$tmp/data
port=$(free_port)
base=http://127.0.0.1:$port
start=$SECONDS
"$APP" --data-dir "$data" --listen "127.0.0.1:$port" --name deskcheck --follow "$a_url" </dev/null >"$tmp/app.log" 2>&1 &
app_pid=$!
say "app pid $app_pid, data dir $data, LAN server $base"

deadline=$((SECONDS + API_WAIT))
until api GET /api/info >"$tmp/info.json" 2>/dev/null; do
  app_alive || fail "the app exited before its LAN server answered"
  ((SECONDS < deadline)) || fail "GET $base/api/info did not answer within ${API_WAIT}s"
  sleep 0.25
done
say "API up after $((SECONDS - start))s: $(cat "$tmp/info.json")"

# Before the post: the window must show the loaded empty feed (proof that OCR
# reads the window at all) and must not show the post's words.
mkdir -p "$ARTIFACTS"
deadline=$((SECONDS + UI_WAIT))
until look before "posts yet"; do
  app_alive || fail "the app exited before its window showed the feed"
  if ((SECONDS >= deadline)); then
    cp -f "$tmp/before.png" "$ARTIFACTS/desktop.png" 2>/dev/null || true
    fail "the window did not show the empty feed (\"No posts yet\") within ${UI_WAIT}s; OCR text:
$(cat "$tmp/before.txt" 2>/dev/null)
screenshot: $ARTIFACTS/desktop.png"
  fi
  sleep 1
done
cp -f "$tmp/before.png" "$ARTIFACTS/desktop-before.png"
# The negative is read as closely as the positive will be: both scales.
look_2x before || fail "could not OCR the enlarged screenshot"
for _ in 1 2 3 4 5 6 7 8 9 10; do
  has "$tmp/before.txt" "$NUMBER" || break
  NUMBER=$((1000 + RANDOM % 9000))
done
for _ in 1 2 3 4 5 6 7 8 9 10; do
  [[ $FNUMBER != "$NUMBER" ]] && ! has "$tmp/before.txt" "$FNUMBER" && break
  FNUMBER=$((1000 + RANDOM % 9000))
done
readonly NUMBER TITLE="Desktop check $NUMBER harbour"
readonly FNUMBER FTITLE="Followed node $FNUMBER lighthouse"
if has "$tmp/before.txt" "$NUMBER" || has "$tmp/before.txt" harbour ||
  has "$tmp/before.txt" "$FNUMBER" || has "$tmp/before.txt" lighthouse; then
  fail "the posts' words are on screen before they were written, so OCR cannot prove anything; OCR text:
$(cat "$tmp/before.txt")"
fi
say "window shows the empty feed after $((SECONDS - start))s; the post's words are not on screen"

# The web process got the DMA-BUF switch from the app (we unset it above).
webproc=$(python3 - "$app_pid" <<'PY'
import os, sys
root, procs = int(sys.argv[1]), {}
for d in filter(str.isdigit, os.listdir("/proc")):
    try:
        with open(f"/proc/{d}/stat") as f:
            text = f.read()
    except OSError:
        continue
    procs[int(d)] = (text[text.index("(") + 1:text.rindex(")")], int(text[text.rindex(")") + 2:].split()[1]))
below, todo = set(), [root]
while todo:
    parent = todo.pop()
    for pid, (comm, ppid) in procs.items():
        if ppid == parent and pid not in below:
            below.add(pid)
            todo.append(pid)
print(next((pid for pid in sorted(below) if procs[pid][0].startswith("WebKitWebProces")), ""))
PY
)
[[ -n $webproc ]] || fail "no WebKitWebProcess below the app"
tr '\0' '\n' <"/proc/$webproc/environ" | grep -qx 'WEBKIT_DISABLE_DMABUF_RENDERER=1' ||
  fail "the web process (pid $webproc) runs without WEBKIT_DISABLE_DMABUF_RENDERER=1 in its environment"
say "the web process (pid $webproc) has WEBKIT_DISABLE_DMABUF_RENDERER=1"

# A second launch on the same data dir hands over to the first and exits.
if [[ -n $dbus_pid ]]; then
  rc=0
  timeout -k 2 "$SECOND_WAIT" "$APP" --data-dir "$data" --listen "127.0.0.1:$port" </dev/null >"$tmp/second.log" 2>&1 || rc=$?
  ((rc != 124 && rc != 137)) || fail "a second launch on the same data dir was still running after ${SECOND_WAIT}s; its log:
$(cat "$tmp/second.log")"
  app_alive || fail "the first app exited when a second one was launched"
  api GET /api/info >/dev/null || fail "the first app stopped answering after a second launch"
  say "a second launch on the same data dir exited (status $rc); the first still runs"
fi

# ---- the post, written as a LAN peer ---------------------------------------

read_token >"$tmp/token" || fail "could not read the pairing token from $data/lanfeed.db"
export LANFEED_TOKEN_FILE=$tmp/token
body=$(python3 -c 'import json, sys; print(json.dumps({"title": sys.argv[1], "body": sys.argv[2], "author": "ocr-peer"}))' \
  "$TITLE" "$BODY")
api POST /api/posts "$body" >"$tmp/created.json" || fail "POST /api/posts failed: $(cat "$tmp/created.json")"
posted=$SECONDS
say "posted \"$TITLE\": $(cat "$tmp/created.json")"

deadline=$((SECONDS + POST_WAIT))
tries=0
sleep 1 # the new post slides in; OCR of it mid-way only costs a retry
until look after "$NUMBER" harbour; do
  tries=$((tries + 1))
  app_alive || fail "the app exited after the post was written"
  if ((SECONDS >= deadline)); then
    cp -f "$tmp/after.png" "$ARTIFACTS/desktop.png" 2>/dev/null || true
    fail "\"$TITLE\" did not appear in the window within ${POST_WAIT}s ($tries screenshots); last OCR text:
$(cat "$tmp/after.txt" 2>/dev/null)
screenshot: $ARTIFACTS/desktop.png"
  fi
  sleep 1
done
cp -f "$tmp/after.png" "$ARTIFACTS/desktop.png"
say "\"$TITLE\" is on screen $((SECONDS - posted))s after the POST (screenshot $((tries + 1))): $ARTIFACTS/desktop.png"

# ---- a post of the followed node -------------------------------------------

# The app follows A (--follow): wait until it reports A live, then write on A.
deadline=$((SECONDS + FOLLOW_WAIT))
until api GET /api/follows 2>/dev/null | python3 -c '
import json, sys
follows = json.load(sys.stdin)["follows"] or []
sys.exit(0 if any(f["name"] == "ocr-node-a" and f["state"] == "live" for f in follows) else 1)' 2>/dev/null; do
  app_alive || fail "the app exited before it followed node A"
  ((SECONDS < deadline)) || fail "the app did not report node A live within ${FOLLOW_WAIT}s (--follow $a_url): $(api GET /api/follows 2>&1)"
  sleep 0.25
done
say "the app follows node A, live"
fbody=$(python3 -c 'import json, sys; print(json.dumps({"title": sys.argv[1], "body": sys.argv[2], "author": "node-a-writer"}))' \
  "$FTITLE" "$FBODY")
base=$a_url LANFEED_TOKEN_FILE=$tmp/a-token api POST api/posts "$fbody" >"$tmp/fcreated.json" ||
  fail "POST /api/posts on node A failed: $(cat "$tmp/fcreated.json")"
posted=$SECONDS
say "posted \"$FTITLE\" on node A: $(cat "$tmp/fcreated.json")"

deadline=$((SECONDS + POST_WAIT))
tries=0
sleep 1 # the slide-in, as above
until look followed "$FNUMBER" lighthouse; do
  tries=$((tries + 1))
  app_alive || fail "the app exited after the post on node A was written"
  if ((SECONDS >= deadline)); then
    cp -f "$tmp/followed.png" "$ARTIFACTS/desktop-followed.png" 2>/dev/null || true
    fail "\"$FTITLE\", written on the followed node A, did not appear in the window within ${POST_WAIT}s ($tries screenshots); last OCR text:
$(cat "$tmp/followed.txt" 2>/dev/null)
screenshot: $ARTIFACTS/desktop-followed.png"
  fi
  sleep 1
done
cp -f "$tmp/followed.png" "$ARTIFACTS/desktop-followed.png"
say "\"$FTITLE\" from node A is on screen $((SECONDS - posted))s after the POST to A (screenshot $((tries + 1))): $ARTIFACTS/desktop-followed.png"

# ---- idle ------------------------------------------------------------------

sleep "$IDLE_SETTLE"
say "the window is left idle for ${IDLE_SECS}s; CPU time of the app and its WebKit processes:"
rc=0
idle_cpu "$app_pid" "$IDLE_SECS" "$IDLE_MAX_PCT" >"$tmp/idle.txt" || rc=$?
cat "$tmp/idle.txt"
app_alive || fail "the app exited while idle"
((rc != 2)) || fail "the window's web process was not found below the app (see above)"
((rc == 0)) || fail "the idle window used more than ${IDLE_MAX_PCT}% of one core (see above)"

# ---- quit ------------------------------------------------------------------

kill -TERM "$app_pid"
for ((i = 0; i < QUIT_WAIT * 10; i++)); do
  app_alive || break
  sleep 0.1
done
app_alive && fail "the app did not exit within ${QUIT_WAIT}s of SIGTERM"
rc=0
wait "$app_pid" || rc=$?
app_pid=''
((rc == 0)) || fail "the app exited with status $rc on SIGTERM; want 0"
say "app quit cleanly on SIGTERM"
say "passed in $((SECONDS - start))s"
