// Command testcontrol-lab is Tailscale's test control server
// (tailscale.com/tstest/integration/testcontrol, as it is in the module
// go.mod pins) on a lab address, handing out a DERP map with one region: the
// lab's own DERP server (punchlab's), so tailscaled relays through it.
// Tailscale's cmd/testcontrol listens on 127.0.0.1 and runs its own DERP
// server; in the lab the nodes are in other network namespaces.
//
//	testcontrol-lab --listen 203.0.113.5:9911 --derp 203.0.113.2 --cert-name sha256-raw:HEX
//
// DERP is TLS on --derp-port with the server's self-signed certificate
// pinned by --cert-name (Tailscale's DERPNode.CertName; without it the map
// says InsecureForTests and any certificate is taken), STUN on --stun-port.
// Nodes register without authentication (testcontrol's default) and all see
// each other.
package main

import (
	"flag"
	"log"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"tailscale.com/tailcfg"
	"tailscale.com/tstest/integration/testcontrol"
)

func main() {
	listen := flag.String("listen", "", "ip:port to serve the control protocol on (required)")
	derp := flag.String("derp", "", "the DERP server's IPv4 address (required)")
	derpPort := flag.Int("derp-port", 3340, "the DERP server's port (TLS)")
	certName := flag.String("cert-name", "", "the DERP server's certificate: sha256-raw:HEX pins it (empty: InsecureForTests)")
	stunPort := flag.Int("stun-port", 3478, "the DERP server's STUN port")
	regionCode := flag.String("region", "lab", "the DERP region's code")
	flag.Parse()
	if *listen == "" || *derp == "" {
		log.Fatal("testcontrol-lab: --listen and --derp are required")
	}
	derpIP, err := netip.ParseAddr(*derp)
	if err != nil || !derpIP.Is4() {
		log.Fatalf("testcontrol-lab: --derp %q is not an IPv4 address", *derp)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("testcontrol-lab: %v", err)
	}
	control := &testcontrol.Server{
		DERPMap: &tailcfg.DERPMap{
			// Only this region: no Tailscale defaults, no fallback to the internet.
			OmitDefaultRegions: true,
			Regions: map[int]*tailcfg.DERPRegion{
				1: {
					RegionID:   1,
					RegionCode: *regionCode,
					RegionName: *regionCode,
					Nodes: []*tailcfg.DERPNode{{
						Name:     "1a",
						RegionID: 1,
						HostName: *derp,
						IPv4:     *derp,
						IPv6:     "none",
						DERPPort: *derpPort,
						STUNPort: *stunPort,
						// The lab's certificate is self-signed: pinned by its hash,
						// or, with no pin given, not checked at all.
						CertName:         *certName,
						InsecureForTests: *certName == "",
					}},
				},
			},
		},
		ExplicitBaseURL: "http://" + ln.Addr().String(),
		AllOnline:       true,
	}
	// testcontrol panics (in a goroutine: the process dies) on a path it
	// does not serve; answer 404 instead so one stray request keeps the
	// tailnet up.
	served := []string{"/key", "/machine/", "/ts2021", "/c2n/", "/generate_204"}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, p := range served {
			if r.URL.Path == p || (strings.HasSuffix(p, "/") && strings.HasPrefix(r.URL.Path, p)) {
				control.ServeHTTP(w, r)
				return
			}
		}
		log.Printf("testcontrol-lab: 404 for %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
	})
	log.Printf("testcontrol-lab: control on http://%s, DERP region %s at https://%s:%d (cert %q, STUN %d)",
		ln.Addr(), *regionCode, *derp, *derpPort, *certName, *stunPort)
	log.Fatal(http.Serve(ln, handler))
}
