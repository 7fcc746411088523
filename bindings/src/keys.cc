// Random sources and the three key roles (node, disco, machine). Every
// function that draws randomness takes an optional `rng`: a
// DeterministicRandom(seed) makes a script reproducible, the default is the
// OS CSPRNG (realio::OsRandom).
#include <pybind11/stl.h>

#include <optional>
#include <string>

#include "bind.h"
#include "punchlab/crypto/keys.h"
#include "punchlab/random.h"
#include "realio/os-random.h"

namespace punchlab::python {
namespace {

template <typename Role>
void BindRole(py::module_& m, const std::string& role) {
  using Public = PublicKey<Role>;
  using Private = PrivateKey<Role>;
  const std::string pub_name = role + "PublicKey";
  const std::string priv_name = role + "PrivateKey";

  py::class_<Public>(m, pub_name.c_str(),
                     ("A Curve25519 public " + role + " key; str() is its text form.").c_str())
      .def_static(
          "parse",
          [pub_name](const std::string& text) {
            std::optional<Public> key = Public::Parse(text);
            if (!key) {
              throw py::value_error("not a " + pub_name + ": expected '" +
                                    Role::kPublicPrefix + "' and 64 lowercase hex digits");
            }
            return *key;
          },
          py::arg("text"))
      .def_static(
          "from_bytes",
          [](const py::bytes& raw) {
            std::optional<Public> key = Public::FromBytes(ViewOf(raw));
            if (!key) throw py::value_error("a public key is exactly 32 bytes");
            return *key;
          },
          py::arg("raw"))
      .def_property_readonly("raw", [](const Public& k) { return ToPyBytes(k.view()); })
      .def("short", &Public::ShortString)
      .def("__str__", &Public::ToString)
      .def("__repr__", [pub_name](const Public& k) { return pub_name + "('" + k.ToString() + "')"; })
      .def("__eq__", [](const Public& a, const Public& b) { return a == b; })
      .def("__hash__", [](const Public& k) { return std::hash<Public>{}(k); });

  py::class_<Private>(m, priv_name.c_str(),
                      ("A Curve25519 private " + role +
                       " key. Never printed: its text form is to_secret_string().")
                          .c_str())
      .def_static(
          "generate",
          [](RandomSource* rng) {
            if (rng) return Private::Generate(*rng);
            realio::OsRandom os;
            return Private::Generate(os);
          },
          py::arg("rng") = nullptr)
      .def_static(
          "parse",
          [priv_name](const std::string& text) {
            std::optional<Private> key = Private::Parse(text);
            if (!key) {
              throw py::value_error("not a " + priv_name + ": expected '" +
                                    Role::kPrivatePrefix + "' and 64 lowercase hex digits");
            }
            return std::move(*key);
          },
          py::arg("text"))
      .def_property_readonly("public", [](const Private& k) { return k.Public(); })
      .def("to_secret_string", &Private::ToSecretString)
      .def("__repr__", [priv_name](const Private& k) {
        return "<" + priv_name + " of " + k.Public().ToString() + ">";
      });
}

}  // namespace

void BindKeys(py::module_& m) {
  py::class_<RandomSource>(m, "RandomSource", "Where keys, nonces and transaction ids come from.")
      .def(
          "bytes",
          [](RandomSource& rng, size_t n) {
            Bytes out(n);
            rng.Fill(out.data(), n);
            return ToPyBytes(out);
          },
          py::arg("n"));
  py::class_<DeterministicRandom, RandomSource>(
      m, "DeterministicRandom", "A seeded ChaCha20 stream: the same seed draws the same bytes.")
      .def(py::init<uint64_t>(), py::arg("seed"))
      .def("fork", &DeterministicRandom::Fork, py::arg("label"));
  py::class_<realio::OsRandom, RandomSource>(m, "SystemRandom", "The OS CSPRNG (libsodium).")
      .def(py::init<>());

  BindRole<NodeKeyRole>(m, "Node");
  BindRole<DiscoKeyRole>(m, "Disco");
  BindRole<MachineKeyRole>(m, "Machine");
}

}  // namespace punchlab::python
