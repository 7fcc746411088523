package conformance

// DERP both ways: Tailscale's client (derp/derphttp) through our server and
// through derper with the same expectations, and our client (punchlab-node
// derp-client) through derper.

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"go4.org/mem"
	"tailscale.com/derp"
	"tailscale.com/derp/derphttp"
	"tailscale.com/disco"
	"tailscale.com/net/netmon"
	"tailscale.com/tailcfg"
	"tailscale.com/types/key"
)

// A Tailscale DERP client whose received messages arrive on a channel.
type tsClient struct {
	t   *testing.T
	c   *derphttp.Client
	key key.NodePrivate
	in  chan derp.ReceivedMessage
}

func newTSClientWithKey(t *testing.T, s *derpServer, k key.NodePrivate, meshKey string) *tsClient {
	t.Helper()
	c, err := derphttp.NewClient(k, s.url(), func(string, ...any) {}, netmon.NewStatic())
	if err != nil {
		t.Fatal(err)
	}
	if meshKey != "" {
		mk, err := key.ParseDERPMesh(meshKey)
		if err != nil {
			t.Fatal(err)
		}
		c.MeshKey = mk
	}
	if err := c.Connect(withTimeout(t)); err != nil {
		t.Fatalf("Tailscale's client cannot connect to %s: %v", s.name, err)
	}
	if got := c.ServerPublicKey(); got != s.key {
		t.Fatalf("%s presented key %v, want %v", s.name, got, s.key)
	}
	tc := &tsClient{t: t, c: c, key: k, in: make(chan derp.ReceivedMessage, 256)}
	go func() {
		for {
			m, err := c.Recv()
			if err != nil {
				close(tc.in)
				return
			}
			tc.in <- m
		}
	}()
	t.Cleanup(func() { c.Close() })
	return tc
}

func newTSClient(t *testing.T, s *derpServer) *tsClient {
	return newTSClientWithKey(t, s, key.NewNode(), "")
}

func (c *tsClient) pub() key.NodePublic { return c.key.Public() }

// The next message that `want` accepts; others (ServerInfo, KeepAlive, ...)
// are skipped. Fails after waitFor.
func (c *tsClient) expect(what string, want func(derp.ReceivedMessage) bool) derp.ReceivedMessage {
	c.t.Helper()
	deadline := time.After(waitFor)
	for {
		select {
		case m, ok := <-c.in:
			if !ok {
				c.t.Fatalf("connection closed while waiting for %s", what)
			}
			if want(m) {
				return m
			}
		case <-deadline:
			c.t.Fatalf("no %s within %v", what, waitFor)
		}
	}
}

func (c *tsClient) expectPacket(from key.NodePublic, data []byte) {
	c.t.Helper()
	c.expect(fmt.Sprintf("packet from %v", from.ShortString()), func(m derp.ReceivedMessage) bool {
		p, ok := m.(derp.ReceivedPacket)
		return ok && p.Source == from && bytes.Equal(p.Data, data)
	})
}

// Whether a packet from `from` with these bytes arrives within d.
func (c *tsClient) got(from key.NodePublic, data []byte, d time.Duration) bool {
	deadline := time.After(d)
	for {
		select {
		case m, ok := <-c.in:
			if !ok {
				c.t.Fatal("connection closed")
			}
			if p, ok := m.(derp.ReceivedPacket); ok && p.Source == from && bytes.Equal(p.Data, data) {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

// Waits until the server relays from c to dst: a server registers a client
// a moment after its handshake (derper does), and what is sent before is
// dropped. Markers sent meanwhile are skipped by later expectations.
func (c *tsClient) reach(dst *tsClient) {
	c.t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		marker := randomBytes(16)
		c.c.Send(dst.pub(), marker)
		if dst.got(c.pub(), marker, 100*time.Millisecond) {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("the server never relayed from %v to %v", c.pub().ShortString(), dst.pub().ShortString())
		}
	}
}

// Sends a disco-looking packet to k and reports whether PeerGone(not here)
// for k comes back within d (the server's rate limit allows 3 at once, then
// one a second).
func (c *tsClient) notHere(k key.NodePublic, d time.Duration) bool {
	c.c.Send(k, discoLooking())
	deadline := time.After(d)
	for {
		select {
		case m, ok := <-c.in:
			if !ok {
				c.t.Fatal("connection closed")
			}
			if g, ok := m.(derp.PeerGoneMessage); ok && g.Peer == k && g.Reason == derp.PeerGoneReasonNotHere {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

// The next PeerGone, whatever its key.
func (c *tsClient) nextPeerGone() derp.PeerGoneMessage {
	c.t.Helper()
	return c.expect("PeerGone", func(m derp.ReceivedMessage) bool {
		_, ok := m.(derp.PeerGoneMessage)
		return ok
	}).(derp.PeerGoneMessage)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// A packet any DERP server takes for disco: magic, sender key, nonce, box.
func discoLooking() []byte {
	return append([]byte(disco.Magic), randomBytes(32+24+40)...)
}

func TestTailscaleClientsRelay(t *testing.T) {
	bothServers(t, func(t *testing.T, s *derpServer) {
		a, b := newTSClient(t, s), newTSClient(t, s)
		a.reach(b)
		b.reach(a)
		for i := 0; i < 20; i++ {
			p := randomBytes(100 + i)
			if err := a.c.Send(b.pub(), p); err != nil {
				t.Fatal(err)
			}
			b.expectPacket(a.pub(), p)
		}
		big := randomBytes(64 << 10)
		if err := b.c.Send(a.pub(), big); err != nil {
			t.Fatal(err)
		}
		a.expectPacket(b.pub(), big)
		// derphttp's Ping sends a Ping frame and waits for the server's Pong.
		if err := a.c.Ping(withTimeout(t)); err != nil {
			t.Fatalf("ping: %v", err)
		}
	})
}

// PeerGone(not here) answers only disco-looking packets to an absent key:
// Tailscale's clients drop their DERP route on it, so answering data would
// make them forget a peer that is merely slow to connect.
func TestPeerGoneNotHereOnlyForDisco(t *testing.T) {
	bothServers(t, func(t *testing.T, s *derpServer) {
		a := newTSClient(t, s)
		data, discoDst := key.NewNode().Public(), key.NewNode().Public()
		if err := a.c.Send(data, randomBytes(120)); err != nil {
			t.Fatal(err)
		}
		if err := a.c.Send(discoDst, discoLooking()); err != nil {
			t.Fatal(err)
		}
		// Frames to one client are written in order: the first PeerGone must
		// be the disco one.
		g := a.nextPeerGone()
		if g.Peer != discoDst || g.Reason != derp.PeerGoneReasonNotHere {
			t.Fatalf("first PeerGone is %v reason %d, want %v reason not-here (none for the data packet)",
				g.Peer.ShortString(), g.Reason, discoDst.ShortString())
		}
	})
}

// PeerGone(disconnected) goes to the clients that received from the one that
// left, not to those it only received from.
func TestPeerGoneDisconnectedToReceivers(t *testing.T) {
	bothServers(t, func(t *testing.T, s *derpServer) {
		watcher := newTSClient(t, s) // receives from sender, sends to receiver
		sender, receiver, prober := newTSClient(t, s), newTSClient(t, s), newTSClient(t, s)
		sender.reach(watcher)
		watcher.reach(receiver)
		p := randomBytes(64)
		sender.c.Send(watcher.pub(), p)
		watcher.expectPacket(sender.pub(), p)
		watcher.c.Send(receiver.pub(), p)
		receiver.expectPacket(watcher.pub(), p)

		// receiver leaves first; prober learns when the server has noticed.
		receiver.c.Close()
		deadline := time.Now().Add(waitFor)
		for !prober.notHere(receiver.pub(), 200*time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the server never noticed the receiver leaving")
			}
		}
		sender.c.Close()
		g := watcher.nextPeerGone()
		if g.Peer != sender.pub() || g.Reason != derp.PeerGoneReasonDisconnected {
			t.Fatalf("watcher's first PeerGone is %v reason %d, want the sender %v disconnected "+
				"(none for the receiver it only sent to)", g.Peer.ShortString(), g.Reason,
				sender.pub().ShortString())
		}
	})
}

// Two connections with one key both stay up; the last one to send anything
// gets the packets.
func TestDuplicateKeyLastWriterActive(t *testing.T) {
	bothServers(t, func(t *testing.T, s *derpServer) {
		a := newTSClient(t, s)
		k := key.NewNode()
		first := newTSClientWithKey(t, s, k, "")
		second := newTSClientWithKey(t, s, k, "")
		a.reach(second) // the second is registered, and active
		first.reach(a)  // first speaks: active
		second.reach(a) // second speaks: active again
		p1 := randomBytes(50)
		a.c.Send(k.Public(), p1)
		second.expectPacket(a.pub(), p1)

		// first speaks: it becomes the active one, and it was never closed.
		if err := first.c.Send(a.pub(), []byte("hello from first")); err != nil {
			t.Fatal(err)
		}
		a.expectPacket(k.Public(), []byte("hello from first"))
		p2 := randomBytes(50)
		a.c.Send(k.Public(), p2)
		first.expectPacket(a.pub(), p2)
	})
}

// GET/HEAD /derp/probe is a latency probe: 200, no upgrade.
func TestProbeEndpoint(t *testing.T) {
	bothServers(t, func(t *testing.T, s *derpServer) {
		for _, method := range []string{"HEAD", "GET"} {
			req, _ := http.NewRequest(method, "http://"+s.hostPort+"/derp/probe", nil)
			cl := &http.Client{Timeout: waitFor}
			resp, err := cl.Do(req)
			if err != nil {
				t.Fatalf("%s /derp/probe: %v", method, err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("%s /derp/probe: %d, want 200", method, resp.StatusCode)
			}
		}
	})
}

// Derp-Fast-Start: 1 means no 101 head: the ServerKey frame comes first.
func TestFastStart(t *testing.T) {
	bothServers(t, func(t *testing.T, s *derpServer) {
		conn, err := net.DialTimeout("tcp", s.hostPort, waitFor)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(waitFor))
		fmt.Fprintf(conn, "GET /derp HTTP/1.1\r\nHost: derp\r\nUpgrade: DERP\r\nConnection: Upgrade\r\n"+
			"Derp-Fast-Start: 1\r\n\r\n")
		br := bufio.NewReader(conn)
		head := make([]byte, 5+8+32)
		if _, err := io.ReadFull(br, head); err != nil {
			t.Fatal(err)
		}
		if head[0] != 0x01 || !bytes.Equal(head[5:13], []byte(derp.Magic)) {
			t.Fatalf("first bytes %q, want a ServerKey frame", head)
		}
		if got := key.NodePublicFromRaw32(mem.B(head[13:45])); got != s.key {
			t.Fatalf("ServerKey frame carries %v, want %v", got, s.key)
		}
	})
}

// A websocket upgrade: derper serves DERP in websocket frames (for browsers);
// punchlab answers 426 (a documented difference, tests/conformance/CONFORMANCE.md).
func TestWebsocketUpgrade(t *testing.T) {
	status := map[string]int{}
	bothServers(t, func(t *testing.T, s *derpServer) {
		conn, err := net.DialTimeout("tcp", s.hostPort, waitFor)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(waitFor))
		fmt.Fprintf(conn, "GET /derp HTTP/1.1\r\nHost: derp\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"+
			"Sec-WebSocket-Protocol: derp\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		status[s.name] = resp.StatusCode
	})
	if status["derper"] != 101 || status["punchlab"] != 426 {
		t.Fatalf("websocket upgrade answers %v, want derper 101 and punchlab 426", status)
	}
}

// ---- our client through derper ----

type ourClient struct {
	t    *testing.T
	proc *child
	key  key.NodePublic
}

type ourEvent struct {
	Event     string `json:"event"`
	Key       string `json:"key"`
	ServerKey string `json:"server_key"`
	From      string `json:"from"`
	Data      string `json:"data"`
	Reason    string `json:"reason"`
	Endpoint  string `json:"endpoint"`
	Flags     *int   `json:"flags"`
}

func newOurClient(t *testing.T, s *derpServer, extra ...string) *ourClient {
	t.Helper()
	args := append([]string{"derp-client", "--plain-http", "--server", s.hostPort, "--server-key",
		mustText(s.key)}, extra...)
	c := &ourClient{t: t, proc: start(t, punchlabNode(t), args...)}
	ev := c.expect("connected", func(e ourEvent) bool { return e.Event == "connected" })
	if ev.ServerKey != mustText(s.key) {
		t.Fatalf("our client saw server key %s, want %v", ev.ServerKey, s.key)
	}
	if err := c.key.UnmarshalText([]byte(ev.Key)); err != nil {
		t.Fatalf("Tailscale cannot parse our client's key %q: %v", ev.Key, err)
	}
	return c
}

func mustText(k key.NodePublic) string {
	b, _ := k.MarshalText()
	return string(b)
}

func (c *ourClient) expect(what string, want func(ourEvent) bool) ourEvent {
	c.t.Helper()
	deadline := time.Now().Add(waitFor)
	for time.Now().Before(deadline) {
		var e ourEvent
		l := c.proc.line()
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			c.t.Fatalf("derp-client printed %q: %v", l, err)
		}
		if e.Event == "error" || e.Event == "disconnected" {
			c.t.Fatalf("derp-client: %s", l)
		}
		if want(e) {
			return e
		}
	}
	c.t.Fatalf("our client: no %s within %v", what, waitFor)
	return ourEvent{}
}

// Waits until derper relays from c to dst (it registers a client a moment
// after the handshake; earlier packets are dropped).
func (c *ourClient) reach(dst *ourClient) {
	c.t.Helper()
	deadline := time.Now().Add(waitFor)
	for time.Now().Before(deadline) {
		marker := randomBytes(16)
		c.sendTo(dst.key, marker)
		want := hex.EncodeToString(marker)
		wait := time.After(200 * time.Millisecond)
	read:
		for {
			select {
			case l, ok := <-dst.proc.lines:
				if !ok {
					c.t.Fatal("derp-client exited")
				}
				var e ourEvent
				if json.Unmarshal([]byte(l), &e) == nil && e.Event == "recv" && e.Data == want {
					return
				}
			case <-wait:
				break read
			}
		}
	}
	c.t.Fatal("derper never relayed between our clients")
}

func (c *ourClient) sendTo(to key.NodePublic, data []byte) {
	c.proc.send(map[string]string{"op": "send", "to": mustText(to), "data": hex.EncodeToString(data)})
}

func (c *ourClient) expectPacket(from key.NodePublic, data []byte) {
	c.t.Helper()
	c.expect("packet", func(e ourEvent) bool {
		return e.Event == "recv" && e.From == mustText(from) && e.Data == hex.EncodeToString(data)
	})
}

func TestOurClientThroughDerper(t *testing.T) {
	s := startDerper(t, "")
	x, y := newOurClient(t, s), newOurClient(t, s)
	ts := newTSClient(t, s)

	x.reach(y)
	p := randomBytes(200)
	x.sendTo(y.key, p)
	y.expectPacket(x.key, p)
	x.sendTo(ts.pub(), p)
	ts.expectPacket(x.key, p)
	q := randomBytes(64 << 10)
	ts.c.Send(x.key, q)
	x.expectPacket(ts.pub(), q)

	x.proc.send(map[string]string{"op": "ping", "data": "0102030405060708"})
	x.expect("pong", func(e ourEvent) bool { return e.Event == "pong" && e.Data == "0102030405060708" })

	absent := key.NewNode().Public()
	x.sendTo(absent, discoLooking())
	x.expect("PeerGone(not here)", func(e ourEvent) bool {
		return e.Event == "peer_gone" && e.Key == mustText(absent) && e.Reason == "not here"
	})

	// ts sent to x, so x hears when ts leaves.
	ts.c.Close()
	x.expect("PeerGone(disconnected)", func(e ourEvent) bool {
		return e.Event == "peer_gone" && e.Key == mustText(ts.pub()) && e.Reason == "disconnected"
	})
}

// A trusted client (the region's mesh key) that watches connections gets a
// PeerPresent with the peer's address and flags for every connected client.
func TestOurClientWatchesDerper(t *testing.T) {
	meshKey := hex.EncodeToString(randomBytes(32))
	s := startDerper(t, meshKey)
	ts := newTSClient(t, s)
	local, err := ts.c.LocalAddr()
	if err != nil {
		t.Fatal(err)
	}
	w := newOurClient(t, s, "--mesh-key", meshKey, "--watch")
	e := w.expect("PeerPresent", func(e ourEvent) bool {
		return e.Event == "peer_present" && e.Key == mustText(ts.pub())
	})
	if e.Endpoint != local.String() {
		t.Errorf("PeerPresent endpoint %q, want %v", e.Endpoint, local)
	}
	if e.Flags == nil || *e.Flags != int(derp.PeerPresentIsRegular) {
		t.Errorf("PeerPresent flags %v, want %d (regular)", e.Flags, derp.PeerPresentIsRegular)
	}
	ts.c.Close()
	w.expect("PeerGone", func(e ourEvent) bool {
		return e.Event == "peer_gone" && e.Key == mustText(ts.pub())
	})
}

// A client pinned to one server key refuses a server that presents another.
func TestOurClientRefusesAnotherServerKey(t *testing.T) {
	s := startDerper(t, "")
	other := key.NewNode().Public()
	p := start(t, punchlabNode(t), "derp-client", "--plain-http", "--server", s.hostPort, "--server-key", mustText(other))
	l := p.line()
	if !strings.Contains(l, `"disconnected"`) || !strings.Contains(l, "is not the configured") {
		t.Fatalf("derp-client with the wrong server key said %q, want a refusal", l)
	}
}

// ---- over TLS ----

// Tailscale's region client (derphttp, TLS as in production) through our
// derp-server over TLS, the DERP map pinning its self-signed certificate with
// CertName "sha256-raw:<hex>" as Tailscale's DERPNode does; and refused when
// the map pins another certificate.
func TestTailscaleClientOverTLSWithPinnedCert(t *testing.T) {
	s := startOurDerpTLS(t)
	host, portText, _ := net.SplitHostPort(s.hostPort)
	port, _ := strconv.Atoi(portText)
	region := func(certName string) func() *tailcfg.DERPRegion {
		return func() *tailcfg.DERPRegion {
			return &tailcfg.DERPRegion{RegionID: 1, RegionCode: "lab", Nodes: []*tailcfg.DERPNode{{
				Name: "1a", RegionID: 1, HostName: host, IPv4: host, DERPPort: port,
				CertName: certName,
			}}}
		}
	}
	connect := func(certName string) (*derphttp.Client, key.NodePrivate, error) {
		k := key.NewNode()
		c := derphttp.NewRegionClient(k, func(string, ...any) {}, netmon.NewStatic(), region(certName))
		t.Cleanup(func() { c.Close() })
		return c, k, c.Connect(withTimeout(t))
	}
	a, _, err := connect(s.certPin)
	if err != nil {
		t.Fatalf("Tailscale's client over TLS, pinned: %v", err)
	}
	if got := a.ServerPublicKey(); got != s.key {
		t.Fatalf("server key over TLS %v, want %v", got, s.key)
	}
	b, bKey, err := connect(s.certPin)
	if err != nil {
		t.Fatalf("second client: %v", err)
	}
	// b receives; a sends until the server has registered b (bounded).
	got := make(chan []byte, 16)
	go func() {
		for {
			m, err := b.Recv()
			if err != nil {
				close(got)
				return
			}
			if p, ok := m.(derp.ReceivedPacket); ok {
				got <- p.Data
			}
		}
	}()
	deadline := time.After(waitFor)
	for done := false; !done; {
		if err := a.Send(bKey.Public(), []byte("over tls")); err != nil {
			t.Fatalf("send over TLS: %v", err)
		}
		select {
		case data, ok := <-got:
			if !ok || !bytes.Equal(data, []byte("over tls")) {
				t.Fatalf("b got %q (open %v)", data, ok)
			}
			done = true
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no packet over TLS within %v", waitFor)
		}
	}

	other := "sha256-raw:" + strings.Repeat("ab", 32)
	if _, _, err := connect(other); err == nil || !strings.Contains(err.Error(), "cert hash does not match") {
		t.Fatalf("a map pinning another certificate: err %v, want a hash mismatch", err)
	}
}

// Our client (derp-client, TLS by default) through our server over TLS:
// the pin from the server's line accepted, another refused before DERP.
func TestOurClientOverTLSChecksThePin(t *testing.T) {
	s := startOurDerpTLS(t)
	p := start(t, punchlabNode(t), "derp-client", "--server", s.hostPort, "--cert-name", s.certPin,
		"--server-key", mustText(s.key))
	if l := p.line(); !strings.Contains(l, `"event":"connected"`) {
		t.Fatalf("derp-client over TLS said %q, want connected", l)
	}
	other := "sha256-raw:" + strings.Repeat("cd", 32)
	q := start(t, punchlabNode(t), "derp-client", "--server", s.hostPort, "--cert-name", other)
	if l := q.line(); !strings.Contains(l, `"event":"tls_failed"`) || !strings.Contains(l, "is not the pinned") {
		t.Fatalf("derp-client with another pin said %q, want tls_failed", l)
	}
}
