// One Bind* function per area, each in its own file; module.cc calls them in
// dependency order (a type must be registered before a signature uses it).
#pragma once

#include <pybind11/pybind11.h>


#include "punchlab/bytes.h"

namespace punchlab::python {

namespace py = pybind11;

void BindKeys(py::module_& m);      // keys.cc: random sources, node/disco/machine keys
void BindStun(py::module_& m);      // stun.cc: endpoints, the STUN message codec
void BindDisco(py::module_& m);     // disco.cc: disco messages and the sealer
void BindNat(py::module_& m);       // nat.cc: NAT knobs as enums, NatConfig, presets
void BindScenario(py::module_& m);  // scenario.cc: loading and validating scenarios
void BindResults(py::module_& m);   // results.cc: what a run produced
void BindRun(py::module_& m);       // run.cc: running a scenario in ns-3

// Python bytes <-> punchlab::Bytes. The view borrows from `b`: keep `b` alive.
inline ByteView ViewOf(const py::bytes& b) {
  char* data = nullptr;
  Py_ssize_t size = 0;
  if (PyBytes_AsStringAndSize(b.ptr(), &data, &size) != 0) throw py::error_already_set();
  return ByteView(reinterpret_cast<const uint8_t*>(data), static_cast<size_t>(size));
}
inline py::bytes ToPyBytes(ByteView v) {
  return py::bytes(reinterpret_cast<const char*>(v.data()), v.size());
}

}  // namespace punchlab::python
