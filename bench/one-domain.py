#!/usr/bin/env python3
"""Prints a scenario with N nodes in ONE control domain (each behind its own
NAT, the four classic presets in turn), each sending to the next 3 nodes
every second for 60 simulated seconds: the probe for costs that grow with a
domain's size (control-server netmaps, each node's per-peer state).

    python3 bench/one-domain.py 300 > /tmp/one-domain-300.yaml
    /usr/bin/time -v build/sim/punchlab run --out /tmp/od scenarios/... /tmp/one-domain-300.yaml
"""
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
presets = ["full-cone", "restricted-cone", "port-restricted-cone", "symmetric"]
out = [f"name: one-domain-{n}",
       f"description: {n} nodes in one domain, each sending to the next 3",
       "stop_time: 60s", "seed: 1", "internet: {latency: 20ms}",
       "derp:", "  regions: [{id: 1, name: fra, latency: 10ms}]",
       "control:", "  domains: [corp]", "nats:"]
out += [f"  nat{i}: {{preset: {presets[i % 4]}}}" for i in range(n)]
out.append("nodes:")
out += [f"  n{i}: {{behind: nat{i}, domain: corp}}" for i in range(n)]
out.append("traffic:")
for i in range(n):
    for k in (1, 2, 3):
        out.append(f"  - {{from: n{i}, to: n{(i + k) % n}, start: 1s, every: 1s, size: 200B}}")
print("\n".join(out))
