#!/usr/bin/env bash
# Runs the official Engine.IO and Socket.IO protocol test suites against
# cmd/sioconform (docs/SOCKETIO.md, "The official protocol test suites").
# Not part of `make test`: it needs the network (git clone from GitHub,
# npm ci) and port 3000 on localhost, which is where both suites dial.
#
#   scripts/official-suites.sh               3 runs of each suite
#   RUNS=5 scripts/official-suites.sh        5 runs of each
#   BUFFERED=1 scripts/official-suites.sh    also one run of a copy of the
#                                            Socket.IO suite whose waitFor
#                                            keeps messages that arrive
#                                            while nothing listens (the
#                                            suite's own race, see the doc)
#   SUITES_SRC=/path scripts/official-suites.sh
#                                            clone from /path/engine.io-protocol
#                                            and /path/socket.io-protocol
#                                            instead of GitHub
#
# Everything happens in a temporary directory, removed at exit; the suites
# are checked out at the commits below, so that scores compare.
set -euo pipefail

EIO_COMMIT=f21de7b00ed09b3bbad2807db718ea5d6bc36aba # socketio/engine.io-protocol
SIO_COMMIT=4f633dd6a4445492d57af3b27ddd2d336014f1f1 # socketio/socket.io-protocol
RUNS=${RUNS:-3}
SRC=${SUITES_SRC:-https://github.com/socketio}

root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d -t lanfeed-suites.XXXXXX)
server=
cleanup() {
	if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

for suite in engine.io-protocol:$EIO_COMMIT socket.io-protocol:$SIO_COMMIT; do
	name=${suite%%:*} commit=${suite#*:}
	git clone -q "$SRC/$name" "$tmp/$name"
	git -C "$tmp/$name" checkout -q "$commit"
	(cd "$tmp/$name/test-suite" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
done

(cd "$root" && go build -o "$tmp/sioconform" ./cmd/sioconform)
"$tmp/sioconform" >"$tmp/sioconform.log" 2>&1 &
server=$!
for _ in $(seq 50); do # until it listens, 5 s at most
	if curl -fs -o /dev/null 'http://localhost:3000/engine.io/?EIO=4&transport=polling'; then break; fi
	sleep 0.1
done

# run NAME FILE: one mocha run, its score and its failing tests.
run() {
	local out="$tmp/run.log"
	(cd "$tmp/$1/test-suite" && npx mocha --reporter dot "$2" >"$out" 2>&1) || true
	grep -Eo '[0-9]+ (passing|failing)' "$out" | paste -sd' ' -
	# A failure's title: its describe blocks, one a line, then the test's, ending in ":".
	awk '/^  [0-9]+\) / { t = $0; sub(/^ +/, "", t); while (t !~ /:$/ && (getline l) > 0) { sub(/^ +/, "", l); t = t " / " l }; print "    " t }' "$out"
}

for i in $(seq "$RUNS"); do
	echo "engine.io-protocol, run $i:"
	run engine.io-protocol test-suite.js
done
for i in $(seq "$RUNS"); do
	echo "socket.io-protocol, run $i:"
	run socket.io-protocol test-suite.js
done
if [ "${BUFFERED:-0}" = 1 ]; then
	dir="$tmp/socket.io-protocol/test-suite"
	# Replace waitFor (one once-listener per awaited message) with one that
	# queues the messages no one was waiting for.
	node -e '
const fs = require("fs");
const src = fs.readFileSync(process.argv[1], "utf8");
const start = src.indexOf("function waitFor(socket, eventType) {");
const end = src.indexOf("function waitForPackets");
if (start < 0 || end < 0) { console.error("waitFor not found"); process.exit(1); }
const buffered = `function waitFor(socket, eventType) {
  socket.__q ??= {};
  if (!socket.__q[eventType]) {
    const q = { events: [], waiters: [] };
    socket.__q[eventType] = q;
    socket.addEventListener(eventType, (e) => {
      const w = q.waiters.shift();
      if (w) w(e);
      else q.events.push(e);
    });
  }
  const q = socket.__q[eventType];
  return new Promise((resolve) => {
    if (q.events.length) resolve(q.events.shift());
    else q.waiters.push(resolve);
  });
}

`;
fs.writeFileSync(process.argv[2], src.slice(0, start) + buffered + src.slice(end));
' "$dir/test-suite.js" "$dir/buffered.js"
	echo "socket.io-protocol, waitFor buffered:"
	run socket.io-protocol buffered.js
fi
