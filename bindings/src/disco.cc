// Disco (Tailscale's hole-punching messages): the plaintext codec
// (disco/message.h) and the sealer that boxes them between disco keys
// (disco/sealer.h). A Python message is a Ping, Pong or CallMeMaybe object.
// Decoding and opening raise DiscoError (a ValueError) naming why the packet
// would have been dropped.
#include <pybind11/stl.h>

#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "bind.h"
#include "punchlab/disco/message.h"
#include "punchlab/disco/sealer.h"
#include "realio/os-random.h"

namespace punchlab::python {
namespace {

class DiscoFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

disco::TxId TxIdFrom(const py::bytes& b) {
  const ByteView v = ViewOf(b);
  if (v.size() != disco::kTxIdSize) throw py::value_error("a disco txid is exactly 12 bytes");
  disco::TxId out{};
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

py::bytes TxIdBytes(const disco::TxId& t) { return ToPyBytes(ByteView(t.data(), t.size())); }

disco::TxId NewTxId(RandomSource* rng) {
  realio::OsRandom os;
  disco::TxId t{};
  (rng ? *rng : static_cast<RandomSource&>(os)).Fill(t.data(), t.size());
  return t;
}

}  // namespace

void BindDisco(py::module_& m) {
  py::module_ d = m.def_submodule("disco", "Disco messages and sealing (Tailscale wire format).");
  py::register_exception<DiscoFailure>(d, "DiscoError", PyExc_ValueError);

  py::class_<disco::Ping>(d, "Ping")
      .def(py::init([](std::optional<py::bytes> txid, const NodePublicKey& node_key, size_t padding,
                       RandomSource* rng) {
             disco::Ping p;
             p.txid = txid ? TxIdFrom(*txid) : NewTxId(rng);
             p.node_key = node_key;
             p.padding = padding;
             return p;
           }),
           py::arg("txid") = py::none(), py::arg("node_key") = NodePublicKey(),
           py::arg("padding") = 0, py::arg("rng") = nullptr,
           "Without txid, 12 random bytes (from rng, else the OS).")
      .def_property(
          "txid", [](const disco::Ping& p) { return TxIdBytes(p.txid); },
          [](disco::Ping& p, const py::bytes& b) { p.txid = TxIdFrom(b); })
      .def_readwrite("node_key", &disco::Ping::node_key)
      .def_readwrite("padding", &disco::Ping::padding)
      .def("__eq__", [](const disco::Ping& a, const disco::Ping& b) { return a == b; })
      .def("__repr__", [](const disco::Ping& p) {
        return "Ping(txid=" + ToHex(ByteView(p.txid.data(), p.txid.size())) +
               ", node_key=" + p.node_key.ShortString() + ", padding=" + std::to_string(p.padding) + ")";
      });

  py::class_<disco::Pong>(d, "Pong")
      .def(py::init([](const py::bytes& txid, const Endpoint& source) {
             return disco::Pong{TxIdFrom(txid), source};
           }),
           py::arg("txid"), py::arg("source"))
      .def_property(
          "txid", [](const disco::Pong& p) { return TxIdBytes(p.txid); },
          [](disco::Pong& p, const py::bytes& b) { p.txid = TxIdFrom(b); })
      .def_readwrite("source", &disco::Pong::source)
      .def("__eq__", [](const disco::Pong& a, const disco::Pong& b) { return a == b; })
      .def("__repr__", [](const disco::Pong& p) {
        return "Pong(txid=" + ToHex(ByteView(p.txid.data(), p.txid.size())) +
               ", source=" + p.source.ToString() + ")";
      });

  py::class_<disco::CallMeMaybe>(d, "CallMeMaybe")
      .def(py::init([](std::vector<Endpoint> endpoints) { return disco::CallMeMaybe{std::move(endpoints)}; }),
           py::arg("endpoints") = std::vector<Endpoint>{})
      .def_readwrite("endpoints", &disco::CallMeMaybe::endpoints)
      .def("__eq__", [](const disco::CallMeMaybe& a, const disco::CallMeMaybe& b) { return a == b; })
      .def("__repr__", [](const disco::CallMeMaybe& c) {
        std::string out = "CallMeMaybe([";
        for (size_t i = 0; i < c.endpoints.size(); ++i) out += (i ? ", " : "") + c.endpoints[i].ToString();
        return out + "])";
      });

  d.def("encode_message", [](const disco::Message& msg) { return ToPyBytes(disco::EncodeMessage(msg)); },
        py::arg("message"), "The plaintext: type || version 0 || payload.");
  d.def(
      "decode_message",
      [](const py::bytes& plaintext) {
        disco::DecodeResult r = disco::DecodeMessage(ViewOf(plaintext));
        if (!r.ok()) throw DiscoFailure(disco::DecodeErrorName(r.error));
        return r.message;
      },
      py::arg("plaintext"));
  d.def("looks_like_disco", [](const py::bytes& p) { return disco::LooksLikeDisco(ViewOf(p)); },
        py::arg("packet"));

  py::enum_<disco::DiscoSealer::AddPeerResult>(d, "AddPeerResult")
      .value("ADDED", disco::DiscoSealer::AddPeerResult::kAdded)
      .value("ALREADY_KNOWN", disco::DiscoSealer::AddPeerResult::kAlreadyKnown)
      .value("FULL", disco::DiscoSealer::AddPeerResult::kFull);

  py::class_<disco::DiscoSealer>(d, "Sealer",
                                 "Seals and opens disco packets for one disco key pair; "
                                 "peers must be added before packets to or from them work.")
      .def(py::init([](const DiscoPrivateKey& key, size_t max_peers) {
             return std::make_unique<disco::DiscoSealer>(key.Clone(), max_peers);
           }),
           py::arg("key"), py::arg("max_peers") = disco::DiscoSealer::kDefaultMaxPeers)
      .def_property_readonly("public_key", &disco::DiscoSealer::public_key)
      .def("add_peer", &disco::DiscoSealer::AddPeer, py::arg("peer"))
      .def("remove_peer", &disco::DiscoSealer::RemovePeer, py::arg("peer"))
      .def("has_peer", &disco::DiscoSealer::HasPeer, py::arg("peer"))
      .def(
          "seal",
          [](disco::DiscoSealer& sealer, const DiscoPublicKey& to, const disco::Message& msg,
             RandomSource* rng) {
            realio::OsRandom os;
            std::optional<Bytes> packet = sealer.Seal(rng ? *rng : static_cast<RandomSource&>(os), to, msg);
            if (!packet) throw DiscoFailure("not a registered peer: " + to.ToString());
            return ToPyBytes(*packet);
          },
          py::arg("to"), py::arg("message"), py::arg("rng") = nullptr,
          "The full packet: magic || my disco key || nonce || box(message).")
      .def(
          "open",
          [](disco::DiscoSealer& sealer, const py::bytes& packet) {
            disco::OpenResult r = sealer.Open(ViewOf(packet));
            if (!r.ok()) throw DiscoFailure(disco::DropReasonName(r.drop));
            return py::make_tuple(r.opened->sender, r.opened->message);
          },
          py::arg("packet"), "(sender DiscoPublicKey, message); raises DiscoError if dropped.")
      .def_property_readonly("stats", [](const disco::DiscoSealer& sealer) {
        const disco::SealerStats& st = sealer.stats();
        py::dict out;
        out["sealed"] = st.sealed;
        out["opened"] = st.opened;
        for (size_t i = 0; i < disco::kDropReasonCount; ++i) {
          out[py::str(std::string("dropped: ") +
                      disco::DropReasonName(static_cast<disco::DropReason>(i)))] = st.dropped[i];
        }
        return out;
      });
}

}  // namespace punchlab::python
