"""run(): a scenario in the ns-3 simulation, from Python.

The C++ run releases the GIL (other threads keep running) and is
deterministic: the same scenario and seed give the same Results.
"""

import os
from typing import Optional, Union

from ._native import core


def _run_error():
    c = core()
    if not getattr(c, "HAVE_RUN_SIM", False):
        raise NotImplementedError("this punchlab._core was built without the ns-3 scenario "
                                  "runner (sim/run-sim); rebuild the punchlab_core target")
    return c.RunError


def __getattr__(name):
    if name == "RunError":
        return _run_error()
    raise AttributeError(f"module 'punchlab.simulate' has no attribute '{name}'")


def run(scenario: Union["Scenario", str, os.PathLike], *, seed: Optional[int] = None,
        out_dir: Optional[Union[str, os.PathLike]] = None, pcap: bool = False):
    """Runs `scenario` (a Scenario, or the path of a scenario file) and returns its Results.

    seed overrides the scenario's. With out_dir, the results directory
    (results.json, latency.csv, junit.xml; pcap/ with pcap=True) is written
    there, as `punchlab run` does. Raises ScenarioError for a bad file and
    RunError when the world cannot be built.
    """
    c = core()
    _run_error()
    if isinstance(scenario, (str, os.PathLike)):
        scenario = c.load_scenario(os.fspath(scenario))
    if pcap and out_dir is None:
        raise ValueError("pcap=True needs out_dir: the captures are written there")
    return c.run_simulation(scenario, seed=seed,
                            out_dir="" if out_dir is None else os.fspath(out_dir), pcap=pcap)
