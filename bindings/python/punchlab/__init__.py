"""punchlab: scenarios, simulated runs, results and the protocol codecs from Python.

    import punchlab
    scenario = punchlab.load_scenario("scenarios/field/home-vs-office.yaml")
    results = punchlab.run(scenario, out_dir="out/home-vs-office")
    for verdict in results.expectations:
        print(verdict.ok, verdict.text, verdict.observed)

The C++ core is the extension punchlab._core (bindings/src/); this package
re-exports it in areas -- punchlab.nat, punchlab.stun, punchlab.disco,
punchlab.keys -- and adds run(). punchlab.analysis (plots, the HTML report)
and punchlab.report (`python3 -m punchlab.report`) read files only and do
not need the extension, which is therefore loaded on first use.
"""

_CORE_NAMES = {
    # scenarios
    "load_scenario", "load_scenario_text", "validate_scenario", "validate_scenario_text",
    "pair_scenario_yaml", "ScenarioError", "Diagnostic", "Scenario", "PathKind", "CheckKind",
    "TargetKind", "Action", "HopKind",
    # results
    "Results", "PairSummary", "PathChange", "Probe", "ExpectationResult", "RttPercentiles",
    "Mode", "read_results_json", "parse_results_json", "ResultsError",
    # endpoints
    "Endpoint",
}
_RUN_NAMES = {"run", "RunError"}
_AREAS = {"nat", "stun", "disco", "keys"}

__all__ = sorted(_CORE_NAMES | _RUN_NAMES | _AREAS | {"analysis"})


def __getattr__(name):
    # PEP 562: the extension is imported only when something needs it.
    if name in _CORE_NAMES:
        from ._native import core
        return getattr(core(), name)
    if name in _RUN_NAMES:
        from . import simulate
        return getattr(simulate, name)
    if name in _AREAS or name == "analysis":
        import importlib
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'punchlab' has no attribute '{name}'")
