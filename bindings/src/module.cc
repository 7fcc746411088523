// punchlab._core: the C++ half of the `punchlab` Python package. Scripts use
// the package (bindings/python/punchlab), which wraps this module.
#include "bind.h"

PYBIND11_MODULE(_core, m) {
  m.doc() = "punchlab's C++ core: scenarios, runs, STUN/disco codecs, keys, NAT presets";
  using namespace punchlab::python;
  BindKeys(m);
  BindStun(m);
  BindDisco(m);
  BindNat(m);
  BindScenario(m);
  BindResults(m);
  // run.cc is built only once the ns-3 scenario runner (sim/run-sim) exists.
#ifdef PUNCHLAB_HAVE_RUN_SIM
  BindRun(m);
  m.attr("HAVE_RUN_SIM") = true;
#else
  m.attr("HAVE_RUN_SIM") = false;
#endif
}
