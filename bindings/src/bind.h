// One Bind* function per area, each in its own file; module.cc calls them in
// dependency order (a type must be registered before a signature uses it).
#pragma once

#include <pybind11/pybind11.h>

#include <cmath>
#include <string>
#include <utility>

#include "punchlab/bytes.h"
#include "punchlab/time.h"

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

// str() of an enum as the word files use ("direct", "symmetric"). Assigned,
// not def()'d: def() would add an overload behind pybind11's own __str__,
// which always matches first.
template <typename E, typename F>
void SetEnumStr(py::enum_<E>& e, F&& to_word) {
  e.attr("__str__") = py::cpp_function(std::forward<F>(to_word), py::name("__str__"), py::is_method(e));
}

// Durations cross into Python as float seconds, in attributes named *_s,
// the convention results.json uses too.
inline double Seconds(Duration d) { return d.seconds(); }
// Rounds to the nanosecond; `what` names the attribute in the error.
inline Duration FromSeconds(double s, const std::string& what) {
  if (!std::isfinite(s) || s < 0 || s > 9.2e9) {
    throw py::value_error(what + ": expected a non-negative number of seconds, got " +
                          std::to_string(s));
  }
  return Duration::Nanos(std::llround(s * 1e9));
}

}  // namespace punchlab::python
