// TlsModel: the TLS 1.3 handshake the lab's DERP connections run, as bytes
// on a simulated TCP stream. ns-3 has no TLS, and the lab's DERP client
// (realio::TlsSession, OpenSSL 3) spends one round trip on it before the HTTP
// upgrade: without it the simulation relays its first packet one round trip
// early. MachineHost runs one of these under every TLS stream (ConnectTls,
// ListenTls) with the interface of realio::TlsSession: ciphertext in through
// Feed(), handshake bytes out through Output(), and the machine hears of the
// connection only once state() is kOpen.
//
// The flights are what OpenSSL 3 sends with the lab's settings (TLS 1.3, no
// SNI, no session tickets, an ECDSA P-256 self-signed certificate; measured
// with realio::TlsSession, kept true by realio.TlsModel.* tests), record by
// record with OpenSSL's record sizes, so bandwidth-limited links and pcaps
// see them:
//   client  ClientHello                                              293 B
//   server  ServerHello, ChangeCipherSpec, EncryptedExtensions,
//           Certificate, CertificateVerify, Finished                 ~695 B
//   client  ChangeCipherSpec, Finished                                80 B
// then the client's first application bytes go at once (TLS 1.3: 1 RTT).
// A refused certificate sends an alert (24 B) and fails.
//
// The certificate is checked as realio checks it (TlsDial): its "DER bytes"
// travel in the Certificate record and a "sha256-raw:" pin is compared with
// their SHA-256; another cert_name must be the certificate's name;
// insecure_for_tests checks nothing.
//
// What is not modelled: encryption (the records carry zeros and the model
// certificate), and records around application data (a real record adds 22 B
// per write of up to 16 KiB): application bytes follow the handshake as
// plaintext, so simulated captures stay readable.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "punchlab/bytes.h"
#include "punchlab/stream-machine.h"

namespace punchlab::tlsmodel {

// Record content types and the legacy versions on the wire (RFC 8446 5.1).
constexpr uint8_t kChangeCipherSpec = 20;
constexpr uint8_t kAlert = 21;
constexpr uint8_t kHandshake = 22;
constexpr uint8_t kApplicationData = 23;
constexpr size_t kRecordHeader = 5;
// An encrypted record's plaintext grows by its content type (1) and the
// AEAD tag (16): TLS_AES_256_GCM_SHA384, OpenSSL's first choice.
constexpr size_t kSealOverhead = 17;

// Record payload sizes (the length field) of OpenSSL 3's TLS 1.3 flights.
constexpr size_t kClientHello = 288;
constexpr size_t kServerHello = 122;
constexpr size_t kCcs = 1;
constexpr size_t kEncryptedExtensions = 23;
// Certificate: message header 4, context 1, list 3, entry length 3,
// extensions 2 around the DER bytes, then the seal.
constexpr size_t kCertificateAround = 13 + kSealOverhead;
// CertificateVerify with an ECDSA P-256 signature of 71 bytes (70-72 in DER).
constexpr size_t kCertificateVerify = 96;
constexpr size_t kFinished = 69;  // SHA-384 verify data 48 + header 4 + seal
constexpr size_t kSealedAlert = 2 + kSealOverhead;

// What a modelled server presents: the lab's certificate's size (ECDSA P-256,
// self-signed for "derp-<name>" and one address) and its name.
class Certificate {
 public:
  static constexpr size_t kDerSize = 324;
  // Deterministic bytes from `name` and `identity` (e.g. the server's key).
  Certificate(std::string name, const std::string& identity);
  const std::string& name() const { return name_; }
  const Bytes& der() const { return der_; }
  // "sha256-raw:<hex>" of der(), as realio's CertPin.
  std::string Pin() const;

 private:
  std::string name_;
  Bytes der_;
};

// "sha256-raw:<64 lowercase hex>" of `der`.
std::string PinOf(ByteView der);

class Session {
 public:
  enum class State { kHandshaking, kOpen, kFailed };

  static Session Client(const TlsDial& dial);
  static Session Server(std::shared_ptr<const Certificate> certificate);

  // A client's first flight (ClientHello) into Output().
  void Start();
  // Bytes from the peer. During the handshake, whole records advance it (a
  // partial one waits); once open, bytes are the application's: they, and
  // any that followed the last handshake record, go to TakePlaintext().
  void Feed(ByteView bytes);
  Bytes TakePlaintext();

  ByteView Output() const { return out_; }
  void ClearOutput() { out_.clear(); }

  State state() const { return state_; }
  bool open() const { return state_ == State::kOpen; }
  const std::string& error() const { return error_; }

 private:
  Session(bool client, TlsDial dial, std::shared_ptr<const Certificate> certificate);
  void Record(uint8_t type, size_t length, ByteView content = {});
  // One whole record from the peer; false once failed.
  bool OnRecord(uint8_t type, ByteView payload);
  void Fail(const std::string& why, bool alert);
  std::string CheckCertificate(ByteView der) const;

  bool client_;
  TlsDial dial_;
  std::shared_ptr<const Certificate> certificate_;
  State state_ = State::kHandshaking;
  int step_ = 0;  // records of the peer's flights seen so far
  std::string error_;
  Bytes in_;      // a partial record
  Bytes plain_;   // application bytes for the machine
  Bytes out_;
  Bytes peer_der_;
};

}  // namespace punchlab::tlsmodel
