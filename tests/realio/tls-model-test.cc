// The simulation's TLS handshake (models/model/tls-model.h) held against
// OpenSSL's with the lab's settings (realio::TlsSession, a self-signed ECDSA
// P-256 certificate as the lab makes per DERP region, pinned): the same
// flights, record by record (types and sizes; the certificate and its
// signature may differ by the few bytes a DER signature varies), the client
// done after one flight of the server's, and the certificate checked as
// realio checks it.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "model/tls-model.h"
#include "realio/tls-context.h"
#include "realio/tls-session.h"

namespace punchlab {
namespace {

namespace model = ::punchlab::tlsmodel;

struct Record {
  uint8_t type;
  size_t length;
};

std::vector<Record> Records(ByteView flight) {
  std::vector<Record> out;
  size_t p = 0;
  while (p + model::kRecordHeader <= flight.size()) {
    const size_t length = (size_t{flight[p + 3]} << 8) | flight[p + 4];
    out.push_back({flight[p], length});
    p += model::kRecordHeader + length;
  }
  EXPECT_EQ(p, flight.size()) << "a flight ends on a record boundary";
  return out;
}

std::string Show(const std::vector<Record>& records) {
  std::string s;
  for (const Record& r : records) s += "[" + std::to_string(r.type) + " " + std::to_string(r.length) + "]";
  return s;
}

// The three flights of one handshake, and whether the client was done (could
// send application data) right after the server's one flight.
struct Flights {
  Bytes client_hello, server, client_finished;
  bool client_open_after_server_flight = false;
  bool server_open = false;
};

const IpAddress kDerpIp = IpAddress::V4(203, 0, 113, 10);

Flights OpenSslFlights() {
  // As the lab's runner makes one (sim/run-real/lab-processes.cc).
  const auto server_ctx = realio::TlsServerContext::SelfSigned("derp-fra", {kDerpIp});
  realio::TlsClientContext client_ctx;
  TlsDial dial;
  dial.cert_name = server_ctx->CertPin();
  auto client = realio::TlsSession::Client(client_ctx, dial, Endpoint(kDerpIp, 3340));
  auto server = realio::TlsSession::Server(*server_ctx);
  auto take = [](realio::TlsSession& s) {
    Bytes b = s.Output().ToBytes();
    s.Consume(b.size());
    return b;
  };
  Flights f;
  client->Start();
  f.client_hello = take(*client);
  server->Feed(f.client_hello);
  f.server = take(*server);
  client->Feed(f.server);
  f.client_open_after_server_flight = client->open();
  f.client_finished = take(*client);
  server->Feed(f.client_finished);
  f.server_open = server->open();
  return f;
}

Flights ModelFlights(model::Session client, model::Session server) {
  auto take = [](model::Session& s) {
    Bytes b = s.Output().ToBytes();
    s.ClearOutput();
    return b;
  };
  Flights f;
  client.Start();
  f.client_hello = take(client);
  server.Feed(f.client_hello);
  f.server = take(server);
  client.Feed(f.server);
  f.client_open_after_server_flight = client.open();
  f.client_finished = take(client);
  server.Feed(f.client_finished);
  f.server_open = server.open();
  return f;
}

std::shared_ptr<const model::Certificate> ModelCert(const std::string& name = "derp-fra") {
  return std::make_shared<const model::Certificate>(name, "nodekey:0123");
}

TlsDial Pinned(const std::string& pin) {
  TlsDial dial;
  dial.cert_name = pin;
  return dial;
}

TEST(TlsModel, FlightsAreOpenSslsRecordByRecord) {
  const Flights real = OpenSslFlights();
  const auto cert = ModelCert();
  const Flights model = ModelFlights(model::Session::Client(Pinned(cert->Pin())), model::Session::Server(cert));
  ASSERT_TRUE(real.client_open_after_server_flight && real.server_open);
  EXPECT_TRUE(model.client_open_after_server_flight);
  EXPECT_TRUE(model.server_open);

  // The client's flights are the same to the byte in size.
  EXPECT_EQ(Show(Records(model.client_hello)), Show(Records(real.client_hello)));
  EXPECT_EQ(Show(Records(model.client_finished)), Show(Records(real.client_finished)));
  EXPECT_EQ(model.client_hello.size(), real.client_hello.size());
  EXPECT_EQ(model.client_finished.size(), real.client_finished.size());

  // The server's: the same records; the Certificate (4th) and
  // CertificateVerify (5th) carry DER signatures of 70-72 bytes.
  const std::vector<Record> r = Records(real.server);
  const std::vector<Record> m = Records(model.server);
  ASSERT_EQ(m.size(), r.size()) << "model " << Show(m) << ", OpenSSL " << Show(r);
  for (size_t i = 0; i < r.size(); ++i) {
    EXPECT_EQ(m[i].type, r[i].type) << "record " << i << ": model " << Show(m) << ", OpenSSL " << Show(r);
    const size_t slack = (i == 3 || i == 4) ? 2 : 0;
    EXPECT_LE(m[i].length, r[i].length + slack) << "record " << i << ": model " << Show(m) << ", OpenSSL " << Show(r);
    EXPECT_GE(m[i].length + slack, r[i].length) << "record " << i << ": model " << Show(m) << ", OpenSSL " << Show(r);
  }
  EXPECT_LE(model.server.size(), real.server.size() + 4);
  EXPECT_GE(model.server.size() + 4, real.server.size());
}

TEST(TlsModel, ApplicationBytesFollowTheClientsFinished) {
  const auto cert = ModelCert();
  model::Session client = model::Session::Client(Pinned(cert->Pin()));
  model::Session server = model::Session::Server(cert);
  client.Start();
  server.Feed(client.Output());
  client.ClearOutput();
  ASSERT_TRUE(client.TakePlaintext().empty());
  client.Feed(server.Output());
  server.ClearOutput();
  ASSERT_TRUE(client.open());
  // The Finished and the first request arrive in one segment, split anywhere.
  Bytes wire = client.Output().ToBytes();
  const std::string request = "GET /derp HTTP/1.1\r\n\r\n";
  wire.insert(wire.end(), request.begin(), request.end());
  for (size_t i = 0; i < wire.size(); i += 7) {
    server.Feed(ByteView(wire.data() + i, std::min<size_t>(7, wire.size() - i)));
  }
  ASSERT_TRUE(server.open());
  const Bytes plain = server.TakePlaintext();
  EXPECT_EQ(std::string(plain.begin(), plain.end()), request);
  EXPECT_TRUE(server.Output().empty()) << "no session tickets, as the lab's server";
}

TEST(TlsModel, ARefusedPinFailsWithASealedAlert) {
  const auto cert = ModelCert();
  const std::string other = ModelCert("derp-other")->Pin();
  ASSERT_NE(other, cert->Pin());
  model::Session client = model::Session::Client(Pinned(other));
  model::Session server = model::Session::Server(cert);
  client.Start();
  server.Feed(client.Output());
  client.ClearOutput();
  client.Feed(server.Output());
  EXPECT_EQ(client.state(), model::Session::State::kFailed);
  EXPECT_NE(client.error().find("is not the pinned " + other), std::string::npos) << client.error();
  // The alert a TLS 1.3 client sends once it has the handshake keys: 24 bytes.
  ASSERT_EQ(Show(Records(client.Output())), "[23 19]");
  server.ClearOutput();
  server.Feed(client.Output());
  EXPECT_EQ(server.state(), model::Session::State::kFailed);
  EXPECT_TRUE(server.Output().empty()) << "no alert for an alert";
}

TEST(TlsModel, ANameIsCheckedAgainstTheCertificatesName) {
  const auto cert = ModelCert("derp.example");
  for (const auto& [name, ok] : std::vector<std::pair<std::string, bool>>{
           {"derp.example", true}, {"derp.other", false}}) {
    TlsDial dial;
    dial.cert_name = name;
    const Flights f = ModelFlights(model::Session::Client(dial), model::Session::Server(cert));
    EXPECT_EQ(f.client_open_after_server_flight, ok) << name;
  }
  TlsDial insecure;
  insecure.insecure_for_tests = true;
  EXPECT_TRUE(ModelFlights(model::Session::Client(insecure), model::Session::Server(cert)).server_open);
}

TEST(TlsModel, PlainHttpToATlsServerFailsItsHandshake) {
  model::Session server = model::Session::Server(ModelCert());
  const std::string request = "GET /derp HTTP/1.1\r\nUpgrade: DERP\r\n\r\n";
  server.Feed(Bytes(request.begin(), request.end()));
  EXPECT_EQ(server.state(), model::Session::State::kFailed);
  EXPECT_NE(server.error().find("not a TLS record"), std::string::npos) << server.error();
  // Before any key is agreed an alert is plaintext.
  EXPECT_EQ(Show(Records(server.Output())), "[21 2]");
}

TEST(TlsModel, ThePinIsTheSha256OfTheCertificatesBytesAsRealiosIs) {
  const auto cert = ModelCert();
  EXPECT_EQ(cert->der().size(), model::Certificate::kDerSize);
  EXPECT_EQ(cert->Pin(), realio::CertPinOf(cert->der()));
}

}  // namespace
}  // namespace punchlab
