package conformance

// Disco packets: sealed by punchlab with a given nonce they must be the very
// bytes Tailscale's code seals with that nonce, and each side opens what the
// other sealed, for every message type punchlab implements.

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"reflect"
	"testing"

	"go4.org/mem"
	"golang.org/x/crypto/nacl/box"
	"tailscale.com/disco"
	"tailscale.com/types/key"
)

type discoCase struct {
	name string
	msg  disco.Message
	json map[string]any // the same message in punchlab-node codec's form
}

func discoCases() []discoCase {
	tx := [12]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	node := key.NewNode().Public()
	txHex := hex.EncodeToString(tx[:])
	return []discoCase{
		{"ping", &disco.Ping{TxID: tx, NodeKey: node},
			map[string]any{"type": "ping", "txid": txHex, "node_key": mustText(node)}},
		{"ping-padded", &disco.Ping{TxID: tx, NodeKey: node, Padding: 100},
			map[string]any{"type": "ping", "txid": txHex, "node_key": mustText(node), "padding": 100}},
		{"pong-v4", &disco.Pong{TxID: tx, Src: netip.MustParseAddrPort("203.0.113.7:41641")},
			map[string]any{"type": "pong", "txid": txHex, "source": "203.0.113.7:41641"}},
		{"pong-v6", &disco.Pong{TxID: tx, Src: netip.MustParseAddrPort("[2001:db8::9]:41641")},
			map[string]any{"type": "pong", "txid": txHex, "source": "[2001:db8::9]:41641"}},
		{"call-me-maybe", &disco.CallMeMaybe{MyNumber: []netip.AddrPort{
			netip.MustParseAddrPort("198.51.100.1:1234"), netip.MustParseAddrPort("10.0.0.2:41641"),
			netip.MustParseAddrPort("[2001:db8::1]:5")}},
			map[string]any{"type": "call_me_maybe", "endpoints": []string{"198.51.100.1:1234",
				"10.0.0.2:41641", "[2001:db8::1]:5"}}},
		{"call-me-maybe-empty", &disco.CallMeMaybe{},
			map[string]any{"type": "call_me_maybe", "endpoints": []string{}}},
	}
}

// Seals m from priv to peer with the given nonce, as magicsock lays a disco
// packet out: magic || sender disco key || nonce || box.
func tailscaleSeal(priv *[32]byte, from key.DiscoPublic, peer key.DiscoPublic, nonce *[24]byte, m disco.Message) []byte {
	peerRaw := peer.Raw32()
	pkt := append([]byte(disco.Magic), from.AppendTo(nil)...)
	pkt = append(pkt, nonce[:]...)
	return box.Seal(pkt, m.AppendMarshal(nil), nonce, &peerRaw, priv)
}

func TestDiscoSealedAlikeAndOpenedBothWays(t *testing.T) {
	c := newCodec(t)
	var ourRaw [32]byte
	copy(ourRaw[:], randomBytes(32))
	ours := key.DiscoPrivateFromRaw32(mem.B(ourRaw[:]))
	theirs := key.NewDisco()
	for _, tc := range discoCases() {
		t.Run(tc.name, func(t *testing.T) {
			var nonce [24]byte
			copy(nonce[:], randomBytes(24))
			ans := c.ask(map[string]any{"op": "disco-seal", "private": hex.EncodeToString(ourRaw[:]),
				"to": discoText(theirs.Public()), "nonce": hex.EncodeToString(nonce[:]), "message": tc.json})
			if ans["ok"] != true {
				t.Fatalf("punchlab cannot seal: %v", ans)
			}
			got, _ := hex.DecodeString(ans["packet"].(string))
			want := tailscaleSeal(&ourRaw, ours.Public(), theirs.Public(), &nonce, tc.msg)
			if !bytes.Equal(got, want) {
				t.Fatalf("same nonce, different bytes:\npunchlab  %x\ntailscale %x", got, want)
			}
			// Tailscale opens ours the way magicsock does.
			if !disco.LooksLikeDiscoWrapper(got) {
				t.Fatal("Tailscale does not take our packet for disco")
			}
			src, _ := disco.Source(got)
			if !bytes.Equal(src, ours.Public().AppendTo(nil)) {
				t.Fatal("Tailscale reads another sender key")
			}
			plain, ok := theirs.Shared(ours.Public()).Open(got[len(disco.Magic)+32:])
			if !ok {
				t.Fatal("Tailscale cannot open our box")
			}
			m, err := disco.Parse(plain)
			if err != nil {
				t.Fatalf("Tailscale cannot parse our %s: %v", tc.name, err)
			}
			if !reflect.DeepEqual(normalize(m), normalize(tc.msg)) {
				t.Fatalf("Tailscale read %#v, want %#v", m, tc.msg)
			}

			// punchlab opens Tailscale's (random nonce, DiscoShared.Seal).
			pkt := append([]byte(disco.Magic), theirs.Public().AppendTo(nil)...)
			pkt = append(pkt, theirs.Shared(ours.Public()).Seal(tc.msg.AppendMarshal(nil))...)
			ans = c.ask(map[string]any{"op": "disco-open", "private": hex.EncodeToString(ourRaw[:]),
				"packet": hex.EncodeToString(pkt)})
			if ans["ok"] != true {
				t.Fatalf("punchlab cannot open Tailscale's %s: %v", tc.name, ans)
			}
			if ans["sender"] != discoText(theirs.Public()) {
				t.Fatalf("punchlab reads sender %v", ans["sender"])
			}
			if !sameJSON(ans["message"], tc.json) {
				t.Fatalf("punchlab read %v, want %v", ans["message"], tc.json)
			}
		})
	}
}

// A box sealed to someone else does not open (and is not read as a message).
func TestDiscoForeignBoxRefused(t *testing.T) {
	c := newCodec(t)
	var ourRaw [32]byte
	copy(ourRaw[:], randomBytes(32))
	ours := key.DiscoPrivateFromRaw32(mem.B(ourRaw[:]))
	theirs, stranger := key.NewDisco(), key.NewDisco()
	m := &disco.Ping{TxID: [12]byte{9}, NodeKey: key.NewNode().Public()}
	pkt := append([]byte(disco.Magic), theirs.Public().AppendTo(nil)...)
	pkt = append(pkt, theirs.Shared(stranger.Public()).Seal(m.AppendMarshal(nil))...)
	ans := c.ask(map[string]any{"op": "disco-open", "private": hex.EncodeToString(ourRaw[:]),
		"packet": hex.EncodeToString(pkt)})
	if ans["ok"] != false {
		t.Fatalf("punchlab opened a box sealed to another key: %v", ans)
	}
	_ = ours
}

func discoText(k key.DiscoPublic) string {
	b, _ := k.MarshalText()
	return string(b)
}

// Addresses as Tailscale parses them (IPv4 unmapped), padding as a count.
func normalize(m disco.Message) string { return fmt.Sprintf("%v", disco.MessageSummary(m)) + fmt.Sprintf("%#v", m) }

func sameJSON(a any, b map[string]any) bool {
	ab, _ := json.Marshal(a)
	var am, bm map[string]any
	json.Unmarshal(ab, &am)
	bb, _ := json.Marshal(b)
	json.Unmarshal(bb, &bm)
	if _, ok := bm["padding"]; !ok && am["padding"] == float64(0) {
		delete(am, "padding")
	}
	return reflect.DeepEqual(am, bm)
}
