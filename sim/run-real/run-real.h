// Runs a validated scenario in the real lab (needs root): the scenario's
// topology as network namespaces with nftables NATs and firewalls, real
// punchlab-node processes (a DERP server with STUN per region, the control
// server, one node per scenario node), its traffic as probes, its events
// applied at their times in real time; then the observations in a
// results::Results with the verdicts filled in (EvaluateExpectations), mode
// "real". `punchlab run --real` and `punchlab compare` call it.
//
// The lab (run-real/lab-plan.h has the address plan):
//   * the internet is a namespace with a bridge (203.0.113.0/24) that routes;
//     NATs and firewalls are router namespaces with a LAN bridge behind them
//     (10.<k>.0.0/24 behind NAT k); nodes, DERP servers and the control
//     server are namespaces with one veth each.
//   * NATs: the nftables NAT of lab/nat-ruleset.h nearest to the knobs (one
//     per preset, hairpinning, a paired address pool); knobs the lab cannot
//     build and Linux's differences from the model are notes
//     (run-real/nat-translation.h). Firewalls: run-real/firewall-ruleset.h.
//   * Links: TAP pairs joined by `punchlab-node wire`, which applies the
//     simulation's link model (link/link-model.h) seeded by the run's seed;
//     $PUNCHLAB_LAB_LINKS=kernel uses veths shaped by netem/tbf/nftables
//     instead (lab/link-shaper.h; no netem: latency and jitter are not
//     applied, and a note says so). See run-real/README.md.
//   * Time: t=0 is when the servers are up; every node process gets that
//     instant (--epoch-unix-ns) and reports on it; events run at their time
//     in real time (the run takes stop_time of wall time). An event that
//     runs more than 250 ms late is noted.
//   * Probes: each traffic entry is a --flow of its sender (id = the entry's
//     index); receivers echo them (results/probe.h payloads).
//   * Not deterministic: the seed does not pin real time or the kernel's
//     port choices; the wire's loss and jitter draw from it.
//
// Errors: throws results::RunError when the run cannot happen (not root,
// punchlab-node missing, the scenario does not fit the address plan, a lab
// command or server fails); the message names the command or the scenario
// entry (file:line:col). The lab is always deleted (also on an exception
// and on SIGINT/SIGTERM/SIGHUP, after which the process ends with that
// signal, as lab/interrupt.h describes).
//
// Options: seed is recorded only; with out_dir, the processes' command lines
// (secrets blanked), stdout and stderr go to <out_dir>/lab-logs/; with pcap,
// every link is captured (dumpcap, on the child side of each veth) into
// <out_dir>/pcap/<link>.pcap, e.g. node-alice.pcap, nat-home.pcap, the DERP
// servers log their TLS keys to pcap/tls-keys.log, the control server and
// the nodes the control frames they seal to pcap/control-keys.log and (with
// the scenario's disco_log) the nodes the disco messages they send to
// pcap/disco-keys.log, as the simulation writes them (results/key-log.h),
// and at the end pcap/all.pcapng merges every link with named interfaces
// and the TLS key log inside (run-real/merged-capture.h). The blanking of
// secrets stops at lab-logs/: control-keys.log holds each node's sealed
// register message, identity token and claims, in plain hex (files 0600).
// punchlab-node is found via $PUNCHLAB_NODE_BIN, next to the running binary,
// or on PATH.
#pragma once

#include "results/results.h"
#include "results/run-options.h"
#include "scenario/scenario.h"

namespace punchlab::runreal {

results::Results RunInLab(const scenario::Scenario& scenario, const results::RunOptions& options);

}  // namespace punchlab::runreal
