#!/usr/bin/env python3
"""Population study: which share of symmetric NATs reproduces the field's
direct-connection rates?

    PYTHONPATH=build/python /usr/bin/python3 analysis/examples/population-study.py \
        --bin build/sim/punchlab --out out/population-study

Assumptions (the answer depends on every one of them):
* Every peer is behind a NAT of its own (no public peers, no shared NAT,
  no firewall that blocks UDP); pairs are independent.
* A NAT is "symmetric" (address-and-port-dependent mapping, random ports)
  with probability s; otherwise it is a cone NAT, split 60% port-restricted,
  25% restricted, 15% full cone (our assumption: port-restricted is what
  Linux and most home routers do; the field papers do not give the split).
* Default NAT timeouts, 20 ms internet latency, one DERP region, 20
  simulated seconds per pair with 10 probes/s each way; a pair counts as
  direct when its final path is direct.
* Ford, Srisuresh & Kegel (USENIX 2005) found 82% of NATs support UDP hole
  punching, i.e. map endpoint-independently: s = 0.18 in these terms.
* libp2p's DCUtR measurement (arXiv 2510.27500) found 70% +/- 7.1% of
  hole-punching attempts succeed (4.4 M attempts), a rate per pair.
For each s the script draws `--draws` scenarios of `--pairs` pairs, runs
them through punchlab.sweep, and reports the direct-pair rate with its 95%
Wilson interval. The dashed line is what the NAT matrix alone predicts for
the same population (a pair fails only when one side is symmetric and the
other symmetric or port-restricted), to check the runs against.
"""

import argparse
import json
import os
import sys

from punchlab import population

CONE = {"port-restricted-cone": 0.60, "restricted-cone": 0.25, "full-cone": 0.15}
DCUTR = (0.70, 0.071)
FORD_SYMMETRIC = 0.18


def population_for(s: float) -> population.Population:
    presets = {name: (1 - s) * w for name, w in CONE.items()}
    presets["symmetric"] = s
    return population.Population({k: v for k, v in presets.items() if v > 0})


def predicted(s: float) -> float:
    pr = (1 - s) * CONE["port-restricted-cone"]
    return 1 - s * s - 2 * s * pr


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bin", help="the punchlab binary (else PUNCHLAB_BIN or PATH)")
    p.add_argument("--out", default="out/population-study")
    p.add_argument("--pairs", type=int, default=50)
    p.add_argument("--draws", type=int, default=2)
    p.add_argument("--jobs", type=int)
    p.add_argument("--png", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "population-direct-rate.png"))
    args = p.parse_args()
    if args.bin:
        os.environ["PUNCHLAB_BIN"] = os.path.abspath(args.bin)
    shares = [0.0, 0.1, 0.18, 0.26, 0.35, 0.5]
    rows = []
    for s in shares:
        study = population.run(population_for(s), os.path.join(args.out, f"s{s:.2f}"),
                               pairs=args.pairs, draws=args.draws, seeds=[1], jobs=args.jobs)
        lo, hi = study.interval
        rows.append({"symmetric_share": s, "pairs": study.pairs, "direct": study.direct,
                     "rate": study.rate, "lo": lo, "hi": hi, "predicted": predicted(s),
                     "population": study.population.describe()})
        print(f"s={s:.2f}: {study.direct}/{study.pairs} direct = {study.rate:.1%} "
              f"[{lo:.1%}, {hi:.1%}] (matrix predicts {predicted(s):.1%})", flush=True)
    with open(os.path.join(args.out, "study.json"), "w") as f:
        json.dump(rows, f, indent=2)

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.2))
    xs = [r["symmetric_share"] for r in rows]
    ax.errorbar(xs, [r["rate"] for r in rows],
                yerr=[[r["rate"] - r["lo"] for r in rows], [r["hi"] - r["rate"] for r in rows]],
                fmt="o", capsize=4, color="tab:blue",
                label=f"simulated ({args.draws} draws x {args.pairs} pairs, 95% Wilson)")
    fine = [i / 100 for i in range(0, 61)]
    ax.plot(fine, [predicted(s) for s in fine], "--", color="grey", label="NAT matrix prediction")
    ax.axhspan(DCUTR[0] - DCUTR[1], DCUTR[0] + DCUTR[1], color="tab:orange", alpha=0.2,
               label="libp2p DCUtR: 70% +/- 7.1%")
    ax.axvline(FORD_SYMMETRIC, color="tab:green", linestyle=":",
               label="Ford et al. 2005: 82% of NATs punchable")
    ax.set_xlabel("share of symmetric NATs (rest: 60% port-restricted, 25% restricted, 15% full cone)")
    ax.set_ylabel("pairs that end direct")
    ax.set_ylim(0, 1.05)
    ax.set_xlim(-0.02, 0.6)
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title("Direct-path rate by NAT population")
    fig.tight_layout()
    fig.savefig(args.png, dpi=110)
    print(f"wrote {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
