// Endpoints and the STUN message codec (protocol/include/punchlab/stun/message.h).
// Message mirrors the C++ struct field for field; decode() raises
// StunDecodeError (a ValueError) with the codec's reason instead of returning
// an error code, since a script wants the exception.
#include <pybind11/stl.h>

#include <array>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>

#include "bind.h"
#include "punchlab/endpoint.h"
#include "punchlab/stun/message.h"
#include "realio/os-random.h"

namespace punchlab::python {
namespace {

class StunDecodeFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

Endpoint ParseEndpoint(const std::string& text) {
  std::optional<Endpoint> e = Endpoint::Parse(text);
  if (!e) throw py::value_error("not an endpoint: '" + text + "' (write 1.2.3.4:5 or [2001:db8::1]:5)");
  return *e;
}

std::array<uint8_t, 16> TransactionBytes(const py::bytes& b) {
  const ByteView v = ViewOf(b);
  if (v.size() != 16) throw py::value_error("a transaction id is the 16 bytes after the length field");
  std::array<uint8_t, 16> out{};
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

}  // namespace

void BindStun(py::module_& m) {
  py::class_<Endpoint>(m, "Endpoint", "An IP address (v4 or v6) and a port; str() is '1.2.3.4:5'.")
      .def(py::init(&ParseEndpoint), py::arg("text"))
      .def(py::init([](const std::string& ip, uint16_t port) {
             std::optional<IpAddress> a = IpAddress::Parse(ip);
             if (!a) throw py::value_error("not an IP address: '" + ip + "'");
             return Endpoint(*a, port);
           }),
           py::arg("ip"), py::arg("port"))
      .def_property_readonly("ip", [](const Endpoint& e) { return e.ip.ToString(); })
      .def_readonly("port", &Endpoint::port)
      .def("__str__", &Endpoint::ToString)
      .def("__repr__", [](const Endpoint& e) { return "Endpoint('" + e.ToString() + "')"; })
      .def("__eq__", [](const Endpoint& a, const Endpoint& b) { return a == b; })
      .def("__hash__", [](const Endpoint& e) { return std::hash<Endpoint>{}(e); });
  py::implicitly_convertible<py::str, Endpoint>();

  py::module_ s = m.def_submodule("stun", "The STUN message codec (RFC 5389/8489, 5780, 3489).");
  py::register_exception<StunDecodeFailure>(s, "StunDecodeError", PyExc_ValueError);
  s.attr("MAGIC_COOKIE") = stun::kMagicCookie;
  s.attr("METHOD_BINDING") = stun::kMethodBinding;

  py::enum_<stun::MessageClass>(s, "MessageClass")
      .value("REQUEST", stun::MessageClass::kRequest)
      .value("INDICATION", stun::MessageClass::kIndication)
      .value("SUCCESS_RESPONSE", stun::MessageClass::kSuccessResponse)
      .value("ERROR_RESPONSE", stun::MessageClass::kErrorResponse);

  py::class_<stun::ChangeRequest>(s, "ChangeRequest")
      .def(py::init([](bool ip, bool port) { return stun::ChangeRequest{ip, port}; }),
           py::arg("change_ip") = false, py::arg("change_port") = false)
      .def_readwrite("change_ip", &stun::ChangeRequest::change_ip)
      .def_readwrite("change_port", &stun::ChangeRequest::change_port)
      .def("__eq__", [](const stun::ChangeRequest& a, const stun::ChangeRequest& b) { return a == b; })
      .def("__repr__", [](const stun::ChangeRequest& c) {
        return std::string("ChangeRequest(change_ip=") + (c.change_ip ? "True" : "False") +
               ", change_port=" + (c.change_port ? "True" : "False") + ")";
      });

  py::class_<stun::ErrorCode>(s, "ErrorCode")
      .def(py::init([](uint16_t code, std::string reason) {
             return stun::ErrorCode{code, std::move(reason)};
           }),
           py::arg("code"), py::arg("reason") = "")
      .def_readwrite("code", &stun::ErrorCode::code)
      .def_readwrite("reason", &stun::ErrorCode::reason)
      .def("__eq__", [](const stun::ErrorCode& a, const stun::ErrorCode& b) { return a == b; })
      .def("__repr__", [](const stun::ErrorCode& e) {
        return "ErrorCode(" + std::to_string(e.code) + ", '" + e.reason + "')";
      });

  py::class_<stun::RawAttribute>(s, "RawAttribute", "An attribute the codec does not model, verbatim.")
      .def(py::init([](uint16_t type, const py::bytes& value) {
             return stun::RawAttribute{type, ViewOf(value).ToBytes()};
           }),
           py::arg("type"), py::arg("value"))
      .def_readwrite("type", &stun::RawAttribute::type)
      .def_property(
          "value", [](const stun::RawAttribute& a) { return ToPyBytes(a.value); },
          [](stun::RawAttribute& a, const py::bytes& v) { a.value = ViewOf(v).ToBytes(); })
      .def("__eq__", [](const stun::RawAttribute& a, const stun::RawAttribute& b) { return a == b; });

  using stun::Message;
  py::class_<Message>(s, "Message", "One STUN message; see protocol/include/punchlab/stun/message.h.")
      .def(py::init<>())
      .def_static(
          "binding_request",
          [](RandomSource* rng, bool classic) {
            realio::OsRandom os;
            RandomSource& r = rng ? *rng : os;
            Message msg;
            msg.transaction_id =
                classic ? stun::TransactionId::RandomClassic(r) : stun::TransactionId::Random(r);
            return msg;
          },
          py::arg("rng") = nullptr, py::arg("classic") = false,
          "A Binding request with a fresh transaction id (RFC 3489 form if classic).")
      .def_static(
          "decode",
          [](const py::bytes& datagram) {
            stun::DecodeResult r = stun::DecodeMessage(ViewOf(datagram));
            if (!r) throw StunDecodeFailure(std::string(stun::ToString(r.error)) + ": " + r.reason);
            return std::move(*r.message);
          },
          py::arg("datagram"))
      .def("encode", [](const Message& msg) { return ToPyBytes(stun::EncodeMessage(msg)); })
      .def_readwrite("method", &Message::method)
      .def_readwrite("cls", &Message::cls)
      .def_property(
          "transaction_id",
          [](const Message& msg) { return ToPyBytes(ByteView(msg.transaction_id.wire().data(), 16)); },
          [](Message& msg, const py::bytes& b) { msg.transaction_id = stun::TransactionId(TransactionBytes(b)); })
      .def_property_readonly("classic", &Message::classic)
      .def_readwrite("xor_mapped_address", &Message::xor_mapped_address)
      .def_readwrite("mapped_address", &Message::mapped_address)
      .def_readwrite("response_origin", &Message::response_origin)
      .def_readwrite("other_address", &Message::other_address)
      .def_readwrite("source_address", &Message::source_address)
      .def_readwrite("changed_address", &Message::changed_address)
      .def_readwrite("change_request", &Message::change_request)
      .def_readwrite("response_port", &Message::response_port)
      .def_readwrite("padding", &Message::padding)
      .def_readwrite("software", &Message::software)
      .def_readwrite("username", &Message::username)
      .def_readwrite("error_code", &Message::error_code)
      .def_readwrite("unknown_attributes", &Message::unknown_attributes)
      .def_property_readonly("message_integrity",
                             [](const Message& msg) -> std::optional<py::bytes> {
                               if (!msg.message_integrity) return std::nullopt;
                               return ToPyBytes(ByteView(msg.message_integrity->data(), 20));
                             })
      .def_readwrite("fingerprint", &Message::fingerprint)
      .def_readwrite("other_attributes", &Message::other_attributes)
      .def_readonly("unknown_required", &Message::unknown_required)
      .def("mapped_endpoint", &Message::MappedEndpoint,
           "XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS: the address the server saw.")
      .def("__repr__", [](const Message& msg) {
        std::string out = "<stun.Message method=" + std::to_string(msg.method) + " class=" +
                          std::to_string(static_cast<int>(msg.cls)) + " txid=" +
                          msg.transaction_id.ToString();
        if (std::optional<Endpoint> mapped = msg.MappedEndpoint()) out += " mapped=" + mapped->ToString();
        return out + ">";
      });

  s.def("looks_like_stun", [](const py::bytes& d) { return stun::LooksLikeStun(ViewOf(d)); },
        py::arg("datagram"), "The cheap demultiplexing test: modern STUN header, length matches.");
}

}  // namespace punchlab::python
