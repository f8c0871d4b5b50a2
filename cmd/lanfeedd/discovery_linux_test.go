package main_test

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"lanfeed/internal/testproc"
)

// The discovery test runs real multicast: three network namespaces on one
// bridge, a `lanfeedd serve` in each, and `lanfeedd nodes --watch` in each
// reporting what it sees.
const (
	// seeWithin is the product promise: nodes find each other this fast.
	seeWithin = 5 * time.Second
	// watchRound is the watchers' query round; a node silent for three
	// rounds is gone, so a cut link shows within about 3-4 s.
	watchRound = time.Second
	// goneWithin bounds noticing a cut link (three rounds plus slack for a
	// loaded machine) and a goodbye.
	goneWithin = 15 * time.Second
	// backWithin bounds seeing a node again after its link is restored: the
	// announcer polls interfaces every 5 s, then probes for about 1 s.
	backWithin = 20 * time.Second
)

// nsPrefix starts the name of every namespace and link the test makes;
// the pid after it tells a crashed run's leftovers from a live run's.
const nsPrefix = "lfd"

var lanRuns atomic.Int32

// testLAN is a bridge with one namespace per node behind a veth pair.
type testLAN struct {
	ns   []string // namespace names
	dev  []string // the veth end inside each namespace
	addr []string // its IPv4 address
}

func TestDiscovery_ThreeNamespaces(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("discovery test needs root: it creates network namespaces and a bridge with ip(8); run it as root (CI does)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("discovery test needs the ip command (iproute2); install it to run this test")
	}
	bin := lanfeedd(t)
	lan := newTestLAN(t, 3)

	// A node in each namespace, as a user would start it.
	ids := make([]string, 3)
	servers := make([]*testproc.Proc, 3)
	for i, ns := range lan.ns {
		servers[i], ids[i] = serveIn(t, bin, ns, fmt.Sprintf("node-%d", i))
	}
	start := time.Now()
	watchers := make([]*watcher, 3)
	for i, ns := range lan.ns {
		watchers[i] = watchIn(t, bin, ns, watchRound)
	}
	// A slow watcher: its rounds are too long for expiry to matter in this
	// test, so it sees a node go only by its goodbye.
	slow := watchIn(t, bin, lan.ns[0], time.Hour)

	t.Run("EachSeesTheOthers", func(t *testing.T) {
		for i, w := range watchers {
			for j := range ids {
				if i == j {
					continue
				}
				want := lan.addr[j] + ":7700"
				at := w.waitFor(t, start.Add(seeWithin), fmt.Sprintf("%s sees %s at %s", lan.ns[i], ids[j], want), func(s map[string]nodeEvent) bool {
					e, ok := s[ids[j]]
					return ok && e.Event != "gone" && slices.Contains(e.Addrs, netip.MustParseAddrPort(want))
				})
				t.Logf("%s saw node-%d %v after the watchers started", lan.ns[i], j, at.Sub(start).Round(time.Millisecond))
			}
		}
	})

	// Without --auto-follow nobody follows: each node lists the other two
	// as nearby, never itself.
	t.Run("NearbyListsTheOthers", func(t *testing.T) {
		for i, ns := range lan.ns {
			want := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id == ids[i] })
			slices.Sort(want)
			waitUntil(t, start.Add(seeWithin), fmt.Sprintf("node-%d lists the other two as nearby", i), func() (bool, string) {
				got := nsNearby(t, ns)
				slices.Sort(got)
				return slices.Equal(got, want), fmt.Sprintf("GET /api/nearby lists %q; want %q", got, want)
			})
		}
	})
	if t.Failed() {
		return
	}

	t.Run("NodesCommandLists", func(t *testing.T) {
		p := testproc.Start(t, "ip", "netns", "exec", lan.ns[0], bin, "nodes", "--wait", "2s")
		if code := p.Wait(t, waitFor); code != 0 {
			t.Fatalf("lanfeedd nodes exit %d; want 0\nstderr:\n%s", code, p.Stderr.String())
		}
		out := p.Stdout.String()
		for j := 1; j < 3; j++ {
			if !strings.Contains(out, ids[j]) || !strings.Contains(out, "http://"+lan.addr[j]+":7700/") {
				t.Errorf("lanfeedd nodes printed:\n%s\nwant node-%d's id %s and URL http://%s:7700/", out, j, ids[j], lan.addr[j])
			}
		}
	})

	t.Run("CutLinkGoneAndBack", func(t *testing.T) {
		lan.setLink(t, 2, false)
		cut := time.Now()
		for i := 0; i < 2; i++ {
			at := watchers[i].waitFor(t, cut.Add(goneWithin), fmt.Sprintf("%s sees node-2 gone", lan.ns[i]), func(s map[string]nodeEvent) bool {
				return s[ids[2]].Event == "gone"
			})
			t.Logf("%s noticed the cut after %v", lan.ns[i], at.Sub(cut).Round(time.Millisecond))
		}
		lan.setLink(t, 2, true)
		back := time.Now()
		for i := 0; i < 2; i++ {
			at := watchers[i].waitFor(t, back.Add(backWithin), fmt.Sprintf("%s sees node-2 back", lan.ns[i]), func(s map[string]nodeEvent) bool {
				e, ok := s[ids[2]]
				return ok && e.Event != "gone"
			})
			t.Logf("%s saw node-2 back %v after the link came up", lan.ns[i], at.Sub(back).Round(time.Millisecond))
		}
	})

	t.Run("GoodbyeOnStop", func(t *testing.T) {
		servers[1].Cmd.Process.Signal(syscall.SIGTERM)
		stopped := time.Now()
		if code := servers[1].Wait(t, stopWait); code != 0 {
			t.Errorf("lanfeedd serve exit %d after SIGTERM; want 0", code)
		}
		at := slow.waitFor(t, stopped.Add(goneWithin), "the slow watcher sees node-1's goodbye", func(s map[string]nodeEvent) bool {
			return s[ids[1]].Event == "gone"
		})
		t.Logf("goodbye seen %v after SIGTERM", at.Sub(stopped).Round(time.Millisecond))
		// The nodes' own browsers take it off their nearby lists (Gone).
		waitUntil(t, stopped.Add(goneWithin), "node-0's nearby list drops node-1", func() (bool, string) {
			got := nsNearby(t, lan.ns[0])
			return !slices.Contains(got, ids[1]) && slices.Contains(got, ids[2]), fmt.Sprintf("GET /api/nearby lists %q", got)
		})
	})
}

// serveRE reads the node id from serve's first line.
var serveRE = regexp.MustCompile(`^lanfeed node ".*" \(([^)]+)\)`)

// serveIn starts `lanfeedd serve` in ns and waits until it listens and has
// started announcing; it returns the process and the node id.
func serveIn(t *testing.T, bin, ns, name string) (*testproc.Proc, string) {
	t.Helper()
	p, id, _ := serveTokenIn(t, bin, ns, name)
	return p, id
}

// serveTokenIn is serveIn with extra flags, also returning the pairing
// token.
func serveTokenIn(t *testing.T, bin, ns, name string, flags ...string) (_ *testproc.Proc, id, token string) {
	t.Helper()
	args := append([]string{"netns", "exec", ns, bin, "serve", "--listen", "0.0.0.0:7700", "--data-dir", t.TempDir(), "--name", name}, flags...)
	p := testproc.Start(t, "ip", args...)
	deadline := time.After(startWait)
	for id == "" || token == "" || !strings.Contains(p.Stderr.String(), "discovery: announcing") {
		select {
		case line, ok := <-p.Lines:
			if !ok {
				<-p.Exited
				t.Fatalf("lanfeedd serve in %s exited early\nstderr:\n%s", ns, p.Stderr.String())
			}
			if m := serveRE.FindStringSubmatch(line); m != nil {
				id = m[1]
			}
			if tok, ok := strings.CutPrefix(line, "pairing token: "); ok {
				token = tok
			}
		case <-time.After(20 * time.Millisecond): // stderr has no line channel; poll it
		case <-deadline:
			t.Fatalf("lanfeedd serve in %s did not start announcing within %v\nstdout:\n%s\nstderr:\n%s", ns, startWait, p.Stdout.String(), p.Stderr.String())
		}
	}
	return p, id, token
}

// TestAutoFollow_ThreeNamespaces starts `lanfeedd serve --auto-follow` in
// three namespaces on one bridge, nothing followed by hand, writes a post
// on each and checks that each node's feed shows all three: the nodes found
// and followed each other by discovery alone. Then one namespace's link is
// cut, posts are written, edited and deleted on both sides, the link is
// restored, and all three must converge to the same merged feed.
func TestAutoFollow_ThreeNamespaces(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("auto-follow test needs root: it creates network namespaces and a bridge with ip(8); run it as root (CI does)")
	}
	for _, cmd := range []string{"ip", "curl"} {
		if _, err := exec.LookPath(cmd); err != nil {
			t.Skipf("auto-follow test needs %s (to reach each node inside its namespace); install it to run this test", cmd)
		}
	}
	bin := lanfeedd(t)
	lan := newTestLAN(t, 3)
	start := time.Now()
	servers := make([]*testproc.Proc, 3)
	ids, tokens, titles := make([]string, 3), make([]string, 3), make([]string, 3)
	first := make([]feedPost, 3) // the post each node writes first
	for i, ns := range lan.ns {
		servers[i], ids[i], tokens[i] = serveTokenIn(t, bin, ns, fmt.Sprintf("node-%d", i), "--auto-follow")
		titles[i] = fmt.Sprintf("written on node-%d", i)
		first[i] = nsPost(t, ns, tokens[i], titles[i])
	}
	t.Logf("three nodes up and posting after %v", time.Since(start).Round(time.Millisecond))

	// Every node is polled each tick, so each one's time is its own.
	deadline := start.Add(seeWithin)
	seenAt := make([]time.Duration, 3)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for pending := 3; pending > 0; <-tick.C {
		for i, ns := range lan.ns {
			if seenAt[i] != 0 {
				continue
			}
			got := nsTitles(t, ns)
			if len(got) == len(titles) && !slices.ContainsFunc(titles, func(s string) bool { return !slices.Contains(got, s) }) {
				seenAt[i] = time.Since(start)
				pending--
				continue
			}
			if time.Now().After(deadline) {
				t.Fatalf("node-%d's feed = %q after %v; want %q\nstderr of node-%d:\n%s", i, got, seeWithin, titles, i, servers[i].Stderr.Tail(3000))
			}
		}
	}
	for i := range seenAt {
		t.Logf("node-%d showed all three posts %v after the first node started", i, seenAt[i].Round(time.Millisecond))
	}

	// Each follows the other two, once each, and never itself; so none is
	// left in its nearby list.
	for i, ns := range lan.ns {
		var list struct {
			Follows []struct {
				Node string `json:"node"`
			} `json:"follows"`
		}
		if err := json.Unmarshal(nsCurl(t, ns, "http://127.0.0.1:7700/api/follows"), &list); err != nil {
			t.Fatalf("GET /api/follows in %s: %v", ns, err)
		}
		var got []string
		for _, f := range list.Follows {
			got = append(got, f.Node)
		}
		want := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id == ids[i] })
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("node-%d follows %q; want the other two, %q", i, got, want)
		}
		if near := nsNearby(t, ns); len(near) != 0 {
			t.Errorf("node-%d's nearby list = %q; want none: it follows every node it sees", i, near)
		}
	}
	if t.Failed() {
		return
	}

	t.Run("CutLinkConverges", func(t *testing.T) {
		// node-2 is cut off; node-0 and node-1 stay on the bridge.
		lan.setLink(t, 2, false)
		cut := time.Now()
		// Side A: a new post, an edit of node-1's post, and a post that is
		// written and deleted before node-2 ever sees it.
		newA := nsPost(t, lan.ns[0], tokens[0], "node-0, during the cut")
		gone := nsPost(t, lan.ns[0], tokens[0], "node-0, deleted during the cut")
		nsDelete(t, lan.ns[0], tokens[0], gone.ID)
		editA := nsEdit(t, lan.ns[1], tokens[1], first[1], "node-1, edited during the cut")
		// Side B: a new post and an edit.
		newB := nsPost(t, lan.ns[2], tokens[2], "node-2, during the cut")
		editB := nsEdit(t, lan.ns[2], tokens[2], first[2], "node-2, edited during the cut")

		// Side A converges by itself; node-2 sees none of its writes, nor
		// side A node-2's: the cut is real.
		sideA := waitConverged(t, lan.ns[:2], cut.Add(seeWithin), "node-0 and node-1 agree during the cut")
		if !hasPost(sideA, newA) || !hasPost(sideA, editA) || hasPost(sideA, newB) {
			t.Fatalf("side A's feed during the cut = %v; want node-0's new post and node-1's edit, not node-2's post", sideA)
		}
		// The link stays down long enough for TCP's retransmissions to back
		// off, as a real outage would; then node-2 still has only its own.
		<-time.After(time.Until(cut.Add(cutFor)))
		if b := nsFeed(t, lan.ns[2]); hasPost(b, newA) || hasPost(b, editA) || !hasPost(b, newB) || !hasPost(b, editB) {
			t.Fatalf("node-2's feed during the cut = %v; want its own writes and none of side A's", b)
		}
		t.Logf("link cut for %v", time.Since(cut).Round(time.Millisecond))

		lan.setLink(t, 2, true)
		back := time.Now()
		merged := waitConverged(t, lan.ns, back.Add(convergeWithin), "all three agree after the link is back")
		t.Logf("all three converged %v after the link came back", time.Since(back).Round(time.Millisecond))
		// Newest first by creation; the edits keep their places, and the
		// post deleted during the cut is gone everywhere.
		if want := []feedPost{newB, newA, editB, editA, first[0]}; !slices.Equal(merged, want) {
			t.Errorf("merged feed = %v; want %v", merged, want)
		}
	})
}

// cutFor is how long the link stays cut.
const cutFor = 3 * time.Second

// convergeWithin bounds convergence after a cut link is restored: the
// followers' connections either survive the cut (TCP retransmits within
// seconds) or are redialled with backoff (at most 30 s).
const convergeWithin = 60 * time.Second

// feedPost is what the convergence check compares of a post.
type feedPost struct {
	ID      string `json:"id"`
	Origin  string `json:"origin"`
	Title   string `json:"title"`
	Version int64  `json:"version"`
}

func (p feedPost) String() string { return fmt.Sprintf("%q v%d", p.Title, p.Version) }

// hasPost reports whether feed holds p at p's version.
func hasPost(feed []feedPost, p feedPost) bool {
	return slices.ContainsFunc(feed, func(q feedPost) bool { return q.ID == p.ID && q.Version == p.Version })
}

// waitConverged polls the feeds of the nodes in nss (one GET each per
// round, no fixed sleep beyond the tick) until they are identical: same
// posts, versions and order. It returns that feed, failing the test at
// deadline with each node's feed.
func waitConverged(t *testing.T, nss []string, deadline time.Time, what string) []feedPost {
	t.Helper()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		feeds := make([][]feedPost, len(nss))
		same := true
		for i, ns := range nss {
			feeds[i] = nsFeed(t, ns)
			same = same && slices.Equal(feeds[i], feeds[0])
		}
		if same {
			return feeds[0]
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			for i, ns := range nss {
				fmt.Fprintf(&b, "\n%s: %v", ns, feeds[i])
			}
			t.Fatalf("%s: not by the deadline; the feeds are:%s", what, b.String())
		}
		<-tick.C
	}
}

// waitUntil polls cond until it holds, failing the test at deadline with
// the state cond last described.
func waitUntil(t *testing.T, deadline time.Time, what string, cond func() (ok bool, state string)) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not by the deadline: %s", what, state)
		}
		<-tick.C
	}
}

// nsFeed returns the feed of the node in ns, newest first.
func nsFeed(t *testing.T, ns string) []feedPost {
	t.Helper()
	var page struct {
		Posts []feedPost `json:"posts"`
	}
	if err := json.Unmarshal(nsCurl(t, ns, "http://127.0.0.1:7700/api/posts?limit=100"), &page); err != nil {
		t.Fatalf("GET /api/posts in %s: %v", ns, err)
	}
	return page.Posts
}

// nsWrite sends one REST write to the node in ns and returns the post it
// answers with.
func nsWrite(t *testing.T, ns, token, method, path, body string) feedPost {
	t.Helper()
	args := []string{"-X", method, "-H", "Authorization: Bearer " + token}
	if body != "" {
		args = append(args, "-H", "Content-Type: application/json", "-d", body)
	}
	var p feedPost
	if err := json.Unmarshal(nsCurl(t, ns, append(args, "http://127.0.0.1:7700"+path)...), &p); err != nil {
		t.Fatalf("%s %s in %s: %v", method, path, ns, err)
	}
	return p
}

// nsPost writes a post titled title on the node in ns.
func nsPost(t *testing.T, ns, token, title string) feedPost {
	t.Helper()
	return nsWrite(t, ns, token, "POST", "/api/posts", `{"title":"`+title+`","author":"test"}`)
}

// nsEdit retitles p on the node in ns.
func nsEdit(t *testing.T, ns, token string, p feedPost, title string) feedPost {
	t.Helper()
	return nsWrite(t, ns, token, "PATCH", "/api/posts/"+p.ID, fmt.Sprintf(`{"version":%d,"title":"%s"}`, p.Version, title))
}

// nsDelete deletes post id on the node in ns.
func nsDelete(t *testing.T, ns, token, id string) {
	t.Helper()
	nsWrite(t, ns, token, "DELETE", "/api/posts/"+id, "")
}

// nsNearby returns the ids in the nearby list of the node in ns.
func nsNearby(t *testing.T, ns string) []string {
	t.Helper()
	var list struct {
		Nearby []struct {
			Node string `json:"node"`
		} `json:"nearby"`
	}
	if err := json.Unmarshal(nsCurl(t, ns, "http://127.0.0.1:7700/api/nearby"), &list); err != nil {
		t.Fatalf("GET /api/nearby in %s: %v", ns, err)
	}
	ids := []string{}
	for _, n := range list.Nearby {
		ids = append(ids, n.Node)
	}
	return ids
}

// nsCurl runs curl in ns and returns what it printed, failing the test on
// an HTTP error.
func nsCurl(t *testing.T, ns string, args ...string) []byte {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns, "curl", "-sSf", "--max-time", "2"}, args...)...).Output()
	if err != nil {
		t.Fatalf("curl %s in %s: %v", strings.Join(args, " "), ns, err)
	}
	return out
}

// nsTitles returns the titles of the feed of the node in ns.
func nsTitles(t *testing.T, ns string) []string {
	t.Helper()
	feed := nsFeed(t, ns)
	titles := make([]string, 0, len(feed))
	for _, p := range feed {
		titles = append(titles, p.Title)
	}
	return titles
}

// TestDiscovery_CoexistsWithAvahi runs Avahi beside a lanfeed node in one
// namespace (both on UDP 5353), publishing a _lanfeed._tcp service of its
// own, and checks from another namespace that both are found, with
// Avahi's TXT (non-ASCII name) and addresses read right.
func TestDiscovery_CoexistsWithAvahi(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces with ip(8); run it as root (CI does)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs the ip command (iproute2)")
	}
	avahi, err := exec.LookPath("avahi-daemon")
	if err != nil {
		t.Skip("needs avahi-daemon (Debian package avahi-daemon) to check coexistence with Avahi")
	}
	bin := lanfeedd(t)
	lan := newTestLAN(t, 2)

	// ip netns exec bind-mounts /etc/netns/NS/avahi over /etc/avahi.
	conf := "/etc/netns/" + lan.ns[0]
	t.Cleanup(func() { os.RemoveAll(conf) })
	fakeID := fmt.Sprintf("avahi-fake-%d", os.Getpid())
	writeFile(t, conf+"/avahi/avahi-daemon.conf", "[server]\nhost-name=avahi-"+strconv.Itoa(os.Getpid())+
		"\nuse-ipv4=yes\nuse-ipv6=yes\nenable-dbus=no\nallow-interfaces="+lan.dev[0]+
		"\n[wide-area]\nenable-wide-area=no\n[publish]\npublish-workstation=no\n")
	writeFile(t, conf+"/avahi/services/lanfeed.service", `<?xml version="1.0" standalone='no'?>
<!DOCTYPE service-group SYSTEM "avahi-service.dtd">
<service-group>
  <name>Avahi fake node</name>
  <service>
    <type>_lanfeed._tcp</type>
    <port>7711</port>
    <txt-record>id=`+fakeID+`</txt-record>
    <txt-record>name=Küche via Avahi</txt-record>
    <txt-record>proto=1</txt-record>
  </service>
</service-group>
`)
	av := testproc.Start(t, "ip", "netns", "exec", lan.ns[0], avahi, "--no-drop-root", "--no-chroot", "--no-rlimits")
	_, id0 := serveIn(t, bin, lan.ns[0], "beside-avahi")
	serveIn(t, bin, lan.ns[1], "other")
	w := watchIn(t, bin, lan.ns[1], watchRound)
	deadline := time.Now().Add(seeWithin + 5*time.Second) // Avahi probes and announces at its own pace
	w.waitFor(t, deadline, "the node beside Avahi is seen", func(s map[string]nodeEvent) bool {
		e, ok := s[id0]
		return ok && slices.Contains(e.Addrs, netip.MustParseAddrPort(lan.addr[0]+":7700"))
	})
	select {
	case <-av.Exited:
		t.Skipf("avahi-daemon exited (another one running on this host?):\n%s", av.Stderr.String())
	default:
	}
	w.waitFor(t, deadline, "Avahi's service is seen with its name and IPv4 address", func(s map[string]nodeEvent) bool {
		e, ok := s[fakeID]
		return ok && e.Name == "Küche via Avahi" && slices.Contains(e.Addrs, netip.MustParseAddrPort(lan.addr[0]+":7711"))
	})
}

// writeFile writes content to path, making its directories.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestNodes_NothingFound runs `lanfeedd nodes` where no multicast can work
// (a namespace with only loopback) and checks that it says so and what to
// do.
func TestNodes_NothingFound(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace with ip(8); run it as root (CI does)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs the ip command (iproute2)")
	}
	bin := lanfeedd(t)
	sweepStaleLANs(t)
	ns := fmt.Sprintf("%s%d%c-alone", nsPrefix, os.Getpid(), 'a'+lanRuns.Add(1)%26)
	mustIP(t, "netns", "add", ns)
	t.Cleanup(func() { ipCmd("netns", "del", ns) })
	mustIP(t, "-n", ns, "link", "set", "lo", "up")

	p := testproc.Start(t, "ip", "netns", "exec", ns, bin, "nodes", "--wait", "300ms")
	if code := p.Wait(t, waitFor); code != 0 {
		t.Fatalf("lanfeedd nodes exit %d; want 0\nstderr:\n%s", code, p.Stderr.String())
	}
	out, errOut := p.Stdout.String(), p.Stderr.String()
	for _, want := range []string{"No lanfeed node answered within 300ms", "UDP port 5353", "guest Wi-Fi", "add the node by address"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout = %q; want it to contain %q", out, want)
		}
	}
	if !strings.Contains(errOut, "no up, multicast-capable network interface") {
		t.Errorf("stderr = %q; want it to say there is no usable interface", errOut)
	}
}

// nodeEvent is one line of `lanfeedd nodes --watch --json`.
type nodeEvent struct {
	Event string           `json:"event"`
	ID    string           `json:"id"`
	Name  string           `json:"name"`
	Addrs []netip.AddrPort `json:"addrs"`
}

// watcher is a running `lanfeedd nodes --watch --json` and the last event
// it printed for each node id.
type watcher struct {
	ns   string
	mu   sync.Mutex
	last map[string]nodeEvent
	seen []string // every event, for failure messages
}

func watchIn(t *testing.T, bin, ns string, round time.Duration) *watcher {
	t.Helper()
	w := &watcher{ns: ns, last: map[string]nodeEvent{}}
	p := testproc.Start(t, "ip", "netns", "exec", ns, bin, "nodes", "--watch", "--json", "--round", round.String())
	go func() {
		for line := range p.Lines {
			var e nodeEvent
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				continue
			}
			w.mu.Lock()
			w.last[e.ID] = e
			w.seen = append(w.seen, e.Event+" "+e.Name+" "+e.ID)
			w.mu.Unlock()
		}
	}()
	return w
}

// waitFor polls until cond holds on the watcher's state, failing the test
// at deadline; it returns when cond was first seen to hold.
func (w *watcher) waitFor(t *testing.T, deadline time.Time, what string, cond func(map[string]nodeEvent) bool) time.Time {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		w.mu.Lock()
		ok := cond(w.last)
		seen := slices.Clone(w.seen)
		w.mu.Unlock()
		if ok {
			return time.Now()
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not by the deadline; the watcher in %s printed:\n%s", what, w.ns, strings.Join(seen, "\n"))
		}
		<-tick.C
	}
}

// newTestLAN creates a bridge and n namespaces, each with a veth pair into
// the bridge, an IPv4 address and a multicast route, and removes them when
// the test ends, failed or not. Leftovers of a crashed earlier run are
// swept first.
func newTestLAN(t *testing.T, n int) *testLAN {
	t.Helper()
	sweepStaleLANs(t)
	base := fmt.Sprintf("%s%d%c", nsPrefix, os.Getpid(), 'a'+lanRuns.Add(1)%26) // ≤ 11 bytes: link names are at most 15
	lan := &testLAN{}
	br := base + "b"
	var hostEnds []string
	t.Cleanup(func() {
		for _, ns := range lan.ns {
			ipCmd("netns", "del", ns)
		}
		// Deleting a namespace frees its veth ends asynchronously; delete
		// the host ends too so nothing is left when the test returns.
		for _, h := range hostEnds {
			ipCmd("link", "del", h)
		}
		ipCmd("link", "del", br)
	})
	mustIP(t, "link", "add", br, "type", "bridge")
	mustIP(t, "link", "set", br, "up")
	for i := 0; i < n; i++ {
		ns := fmt.Sprintf("%s-%d", base, i)
		host, dev := fmt.Sprintf("%sh%d", base, i), fmt.Sprintf("%sn%d", base, i)
		addr := fmt.Sprintf("10.251.0.%d", i+1)
		mustIP(t, "netns", "add", ns)
		lan.ns = append(lan.ns, ns)
		mustIP(t, "link", "add", host, "type", "veth", "peer", "name", dev)
		hostEnds = append(hostEnds, host)
		mustIP(t, "link", "set", host, "master", br, "up")
		mustIP(t, "link", "set", dev, "netns", ns)
		mustIP(t, "-n", ns, "addr", "add", addr+"/24", "dev", dev)
		mustIP(t, "-n", ns, "link", "set", "lo", "up")
		lan.dev = append(lan.dev, dev)
		lan.addr = append(lan.addr, addr)
		lan.setLink(t, i, true)
	}
	return lan
}

// setLink brings namespace i's link up (with its multicast route, which the
// kernel drops when the link goes down) or down.
func (l *testLAN) setLink(t *testing.T, i int, up bool) {
	t.Helper()
	if !up {
		mustIP(t, "-n", l.ns[i], "link", "set", l.dev[i], "down")
		return
	}
	mustIP(t, "-n", l.ns[i], "link", "set", l.dev[i], "up")
	mustIP(t, "-n", l.ns[i], "route", "replace", "224.0.0.0/4", "dev", l.dev[i])
}

// staleRE matches the names this test makes and captures the pid in them.
var staleRE = regexp.MustCompile(`^` + nsPrefix + `(\d+)[a-z]`)

// sweepStaleLANs removes namespaces and links that a run which no longer
// exists left behind (killed before its cleanup ran).
func sweepStaleLANs(t *testing.T) {
	t.Helper()
	stale := func(name string) bool {
		m := staleRE.FindStringSubmatch(name)
		if m == nil {
			return false
		}
		pid, err := strconv.Atoi(m[1])
		return err == nil && pid != os.Getpid() && syscall.Kill(pid, 0) == syscall.ESRCH
	}
	out, _ := exec.Command("ip", "netns", "list").Output()
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 && stale(f[0]) {
			t.Logf("removing namespace %s left by an earlier run", f[0])
			ipCmd("netns", "del", f[0])
		}
	}
	if dirs, err := os.ReadDir("/etc/netns"); err == nil { // Avahi's config
		for _, d := range dirs {
			if stale(d.Name()) {
				os.RemoveAll(filepath.Join("/etc/netns", d.Name()))
			}
		}
	}
	out, _ = exec.Command("ip", "-o", "link", "show").Output()
	for _, line := range strings.Split(string(out), "\n") {
		// "9: lfd123ah0@if8: <...>"
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
		if stale(name) {
			t.Logf("removing link %s left by an earlier run", name)
			ipCmd("link", "del", name)
		}
	}
}

// mustIP runs ip(8) and fails the test if it fails.
func mustIP(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// ipCmd runs ip(8) for cleanup, where failure (already gone) is fine.
func ipCmd(args ...string) { exec.Command("ip", args...).Run() }
