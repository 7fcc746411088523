package conformance

// STUN both ways: Tailscale's client (net/stun) against our servers, our
// client (punchlab-node stun-probe) against derper's, and our client reading
// responses exactly as Tailscale's server writes them.

import (
	"encoding/json"
	"net"
	"net/netip"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"tailscale.com/net/stun"
)

// Tailscale's binding request to server; the mapped address it parses.
func tailscaleBinding(t *testing.T, server string) (mapped, local netip.AddrPort) {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	raddr, err := net.ResolveUDPAddr("udp", server)
	if err != nil {
		t.Fatal(err)
	}
	tx := stun.NewTxID()
	buf := make([]byte, 1500)
	// Retransmit as netcheck does; a bounded number of tries.
	for try := 0; try < 5; try++ {
		conn.WriteTo(stun.Request(tx), raddr)
		conn.SetReadDeadline(time.Now().Add(time.Duration(100<<try) * time.Millisecond))
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			continue
		}
		gotTx, addr, err := stun.ParseResponse(buf[:n])
		if err != nil {
			t.Fatalf("Tailscale cannot parse the response from %s: %v (%x)", server, err, buf[:n])
		}
		if gotTx != tx {
			t.Fatalf("response for another transaction")
		}
		return addr, conn.LocalAddr().(*net.UDPAddr).AddrPort()
	}
	t.Fatalf("no STUN response from %s", server)
	return
}

func TestTailscaleSTUNClientAgainstOurs(t *testing.T) {
	bothServers(t, func(t *testing.T, s *derpServer) {
		mapped, local := tailscaleBinding(t, s.stun)
		if mapped != local {
			t.Fatalf("%s's STUN says %v, the socket is %v", s.name, mapped, local)
		}
	})
	t.Run("stun-server", func(t *testing.T) {
		port := freePort(t, "udp")
		p := start(t, punchlabNode(t), "stun-server", "--listen", "127.0.0.1:"+strconv.Itoa(port))
		p.line() // ready
		mapped, local := tailscaleBinding(t, "127.0.0.1:"+strconv.Itoa(port))
		if mapped != local {
			t.Fatalf("stun-server says %v, the socket is %v", mapped, local)
		}
	})
}

type probeResult struct {
	Result string `json:"result"`
	Mapped string `json:"mapped"`
	Local  string `json:"local"`
}

func ourProbe(t *testing.T, server string) probeResult {
	t.Helper()
	out, err := exec.Command(punchlabNode(t), "stun-probe", server, "--local", "127.0.0.1:0",
		"--timeout", "3s", "--json").Output()
	var r probeResult
	if jerr := json.Unmarshal(out, &r); jerr != nil {
		t.Fatalf("stun-probe printed %q (%v)", out, err)
	}
	return r
}

// derper answers only requests whose SOFTWARE is "tailnode".
func TestOurSTUNClientAgainstDerper(t *testing.T) {
	s := startDerper(t, "")
	r := ourProbe(t, s.stun)
	if r.Result != "success" || r.Mapped != r.Local {
		t.Fatalf("stun-probe against derper: %+v, want success with mapped == local", r)
	}
}

// Tailscale's server side: its parser takes our request, and our client
// reads its response, here with an IPv4-mapped IPv6 address (which means
// IPv4) and trailing bytes after the attributes (trimmed).
func TestOurSTUNClientReadsTailscaleResponses(t *testing.T) {
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	served := make(chan error, 1)
	go func() {
		buf := make([]byte, 1500)
		conn.SetReadDeadline(time.Now().Add(waitFor))
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			served <- err
			return
		}
		tx, err := stun.ParseBindingRequest(buf[:n])
		if err != nil {
			served <- err
			return
		}
		ap := from.(*net.UDPAddr).AddrPort()
		mapped := netip.AddrPortFrom(netip.AddrFrom16(ap.Addr().As16()), ap.Port())
		resp := append(stun.Response(tx, mapped), []byte("trailing")...)
		_, err = conn.WriteTo(resp, from)
		served <- err
	}()
	r := ourProbe(t, conn.LocalAddr().String())
	if err := <-served; err != nil {
		t.Fatalf("Tailscale's parser refused our request: %v", err)
	}
	if r.Result != "success" || r.Mapped != r.Local {
		t.Fatalf("stun-probe read %+v, want success with mapped == local (IPv4)", r)
	}
}

