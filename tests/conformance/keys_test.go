package conformance

// Key text forms: what punchlab prints, Tailscale parses, and the reverse.

import (
	"strings"
	"testing"

	"tailscale.com/types/key"
)

func TestKeyTextBothWays(t *testing.T) {
	c := newCodec(t)
	node := key.NewNode()
	machine := key.NewMachine()
	disco := key.NewDisco()
	text := func(m interface{ MarshalText() ([]byte, error) }) string {
		b, err := m.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	cases := []struct {
		name, text, kind, public string
	}{
		{"node private", text(node), "private", text(node.Public())},
		{"node public", text(node.Public()), "node-public", text(node.Public())},
		{"machine private", text(machine), "private", text(node.Public())},
		{"machine public", text(machine.Public()), "machine-public", text(machine.Public())},
		{"disco public", text(disco.Public()), "disco-public", text(disco.Public())},
	}
	for _, tc := range cases {
		for _, form := range []string{tc.text, upperHex(tc.text)} {
			ans := c.ask(map[string]any{"op": "key", "text": form})
			if ans["ok"] != true || ans["kind"] != tc.kind {
				t.Errorf("%s %q: punchlab says %v", tc.name, form, ans)
				continue
			}
			if ans["text"] != tc.text {
				t.Errorf("%s: punchlab writes %v, Tailscale %s", tc.name, ans["text"], tc.text)
			}
			want := tc.public
			pub := ans["public"]
			if tc.name == "machine private" {
				want, pub = text(machine.Public()), ans["machine_public"]
			}
			if pub != want {
				t.Errorf("%s: punchlab derives %v, Tailscale %s", tc.name, pub, want)
			}
		}
	}

	// What punchlab-node gen-key prints, Tailscale reads as the same pair.
	out := runOut(t, punchlabNode(t), "gen-key", "--kind", "node")
	lines := strings.Fields(out)
	if len(lines) != 2 {
		t.Fatalf("gen-key printed %q", out)
	}
	var priv key.NodePrivate
	var pub key.NodePublic
	if err := priv.UnmarshalText([]byte(lines[0])); err != nil {
		t.Fatalf("Tailscale cannot parse our private key: %v", err)
	}
	if err := pub.UnmarshalText([]byte(lines[1])); err != nil {
		t.Fatalf("Tailscale cannot parse our public key: %v", err)
	}
	if priv.Public() != pub {
		t.Fatalf("Tailscale derives %v from our private key, we printed %v", priv.Public(), pub)
	}
}

// Tailscale's hex parser takes either case; so does punchlab now.
func upperHex(s string) string {
	i := strings.IndexByte(s, ':')
	return s[:i+1] + strings.ToUpper(s[i+1:])
}
