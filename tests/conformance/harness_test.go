// The conformance suite holds punchlab's protocol core against Tailscale's own
// code (module tailscale.com, the version go.mod pins): its DERP server
// (cmd/derper) and DERP client (derp/derphttp), its disco and STUN codecs and
// its key types. punchlab's side is the punchlab-node binary
// (PUNCHLAB_NODE); derper is built from the module by run.sh (DERPER).
// Everything listens on 127.0.0.1 and every wait is bounded.
package conformance

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"tailscale.com/types/key"
)

// How long any single wait may take before the test fails.
const waitFor = 10 * time.Second

func binary(t *testing.T, env string) string {
	t.Helper()
	p := os.Getenv(env)
	if p == "" {
		t.Fatalf("%s is not set (run tests/conformance/run.sh)", env)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s: %v", env, err)
	}
	return p
}

func punchlabNode(t *testing.T) string { return binary(t, "PUNCHLAB_NODE") }

// A child process whose stdout is read line by line; killed at test end.
type child struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	mu    sync.Mutex
	log   []string // stderr, for failure messages
}

func start(t *testing.T, path string, args ...string) *child {
	t.Helper()
	cmd := exec.Command(path, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &child{t: t, cmd: cmd, stdin: stdin, lines: make(chan string, 1024)}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			c.mu.Lock()
			c.log = append(c.log, sc.Text())
			c.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			c.mu.Lock()
			t.Logf("%s stderr:\n%s", filepath.Base(path), strings.Join(c.log, "\n"))
			c.mu.Unlock()
		}
	})
	return c
}

// Next stdout line, or fails after waitFor.
func (c *child) line() string {
	c.t.Helper()
	select {
	case l, ok := <-c.lines:
		if !ok {
			c.t.Fatalf("%s exited", c.cmd.Path)
		}
		return l
	case <-time.After(waitFor):
		c.t.Fatalf("%s: no output within %v", c.cmd.Path, waitFor)
	}
	return ""
}

// Writes one JSON line to the child's stdin.
func (c *child) send(v any) {
	c.t.Helper()
	b, _ := json.Marshal(v)
	if _, err := c.stdin.Write(append(b, '\n')); err != nil {
		c.t.Fatalf("write to %s: %v", c.cmd.Path, err)
	}
}

// A DERP server under test: where it listens and the key it presents.
type derpServer struct {
	name     string
	hostPort string // DERP over plain HTTP
	stun     string // its STUN server (UDP)
	key      key.NodePublic
	proc     *child
	certPin  string // over TLS: "sha256-raw:<hex>" of its certificate
}

func (s *derpServer) url() string { return "http://" + s.hostPort + "/derp" }

var listeningLine = regexp.MustCompile(`listening on (\S+), stun (\S+), key (nodekey:[0-9a-f]{64})(?:, cert (sha256-raw:[0-9a-f]{64}))?`)

// punchlab-node derp-server on loopback, with its STUN server, over plain
// HTTP as Tailscale's own tests run derper (startOurDerpTLS: over TLS).
func startOurDerp(t *testing.T, extra ...string) *derpServer {
	t.Helper()
	return startOurDerpWith(t, append([]string{"--plain-http"}, extra...)...)
}

// The same over TLS (the server's default): a self-signed certificate, its
// pin in certPin.
func startOurDerpTLS(t *testing.T) *derpServer {
	t.Helper()
	s := startOurDerpWith(t)
	if s.certPin == "" {
		t.Fatal("derp-server over TLS printed no certificate pin")
	}
	return s
}

func startOurDerpWith(t *testing.T, extra ...string) *derpServer {
	t.Helper()
	args := append([]string{"derp-server", "--listen", "127.0.0.1:0", "--stun", "127.0.0.1:0"}, extra...)
	p := start(t, punchlabNode(t), args...)
	l := p.line()
	m := listeningLine.FindStringSubmatch(l)
	if m == nil {
		t.Fatalf("derp-server said %q", l)
	}
	var k key.NodePublic
	if err := k.UnmarshalText([]byte(m[3])); err != nil {
		t.Fatalf("Tailscale cannot parse our server key %q: %v", m[3], err)
	}
	return &derpServer{name: "punchlab", hostPort: m[1], stun: m[2], key: k, proc: p, certPin: m[4]}
}

func freePort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Tailscale's derper (built from the module) on loopback, plain HTTP, with
// a key we chose and, when meshKey is set, that mesh pre-shared key.
func startDerper(t *testing.T, meshKey string) *derpServer {
	t.Helper()
	dir := t.TempDir()
	priv := key.NewNode()
	cfg, _ := json.Marshal(map[string]any{"PrivateKey": priv})
	if err := os.WriteFile(filepath.Join(dir, "derper.json"), cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePort(t, "tcp")
	stunPort := freePort(t, "udp")
	args := []string{"-a", fmt.Sprintf("127.0.0.1:%d", port), "-http-port", "-1",
		"-stun-port", fmt.Sprint(stunPort), "-c", filepath.Join(dir, "derper.json"),
		"-certdir", dir, "-home", "blank"}
	if meshKey != "" {
		psk := filepath.Join(dir, "mesh.key")
		os.WriteFile(psk, []byte(meshKey), 0o600)
		args = append(args, "-mesh-psk-file", psk)
	} else {
		args = append(args, "-mesh-psk-file", "")
	}
	p := start(t, binary(t, "DERPER"), args...)
	s := &derpServer{name: "derper", hostPort: fmt.Sprintf("127.0.0.1:%d", port),
		stun: fmt.Sprintf("127.0.0.1:%d", stunPort), key: priv.Public(), proc: p}
	deadline := time.Now().Add(waitFor)
	for {
		c, err := net.DialTimeout("tcp", s.hostPort, time.Second)
		if err == nil {
			c.Close()
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("derper did not listen on %s within %v", s.hostPort, waitFor)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Both servers, for tests that hold ours to what derper does.
func bothServers(t *testing.T, f func(t *testing.T, s *derpServer)) {
	t.Run("derper", func(t *testing.T) { f(t, startDerper(t, "")) })
	t.Run("punchlab", func(t *testing.T) { f(t, startOurDerp(t)) })
}

func withTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	t.Cleanup(cancel)
	return ctx
}

func runOut(t *testing.T, path string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, args...).Output()
	if err != nil {
		t.Fatalf("%s %v: %v", path, args, err)
	}
	return string(out)
}
