// TLS contexts for realio::Host (OpenSSL): the server's credentials — a
// certificate and key read from PEM files, or a self-signed certificate made
// at start through the OpenSSL API — and the client's settings (the system's
// roots, TLS 1.2 or newer). What a client checks of one server is a TlsDial
// (punchlab/stream-machine.h), applied per connection in tls-session.cc.
//
// A self-signed certificate is pinned, not trusted: its holder publishes
// CertPin() ("sha256-raw:<hex>" of the certificate's DER bytes, Tailscale's
// DERPNode.CertName form) and clients compare it.
//
// A server can log its sessions' secrets (LogKeysTo) in the NSS key log
// format browsers write for SSLKEYLOGFILE, so Wireshark/tshark decrypt its
// captured connections (the lab does so for --pcap runs).
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "punchlab/bytes.h"
#include "punchlab/endpoint.h"
#include "punchlab/stream-machine.h"
#include "realio/key-log-file.h"

struct ssl_ctx_st;
struct ssl_st;

namespace punchlab::realio {

// Thrown when a context cannot be made (bad files, OpenSSL failures); the
// message says which and why.
class TlsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class TlsServerContext {
 public:
  // A new ECDSA P-256 key and a self-signed certificate for `name` (its
  // common name and a DNS subject alternative name) and `ips` (IP subject
  // alternative names), valid from an hour ago for `valid_days`.
  static std::shared_ptr<TlsServerContext> SelfSigned(const std::string& name,
                                                      const std::vector<IpAddress>& ips,
                                                      int valid_days = 365);
  // A PEM certificate chain (leaf first) and its PEM private key.
  static std::shared_ptr<TlsServerContext> FromFiles(const std::string& cert_file,
                                                     const std::string& key_file);
  ~TlsServerContext();
  TlsServerContext(const TlsServerContext&) = delete;
  TlsServerContext& operator=(const TlsServerContext&) = delete;

  // The leaf certificate's DER bytes, and "sha256-raw:<hex>" of them.
  const Bytes& CertDer() const { return cert_der_; }
  std::string CertPin() const;
  // The leaf certificate as PEM (a client that trusts it as a root).
  std::string CertPem() const;
  // The private key as PEM (to hand to a server process; keep it 0600).
  std::string KeyPem() const;
  // From now on, appends every session's secrets to `file` (a KeyLogFile:
  // several processes may share it). Throws TlsError when it cannot be
  // opened.
  void LogKeysTo(const std::string& file);
  ssl_ctx_st* ctx() const { return ctx_; }

 private:
  explicit TlsServerContext(ssl_ctx_st* ctx);
  static void OnKeyLogLine(const ssl_st* ssl, const char* line);
  ssl_ctx_st* ctx_;
  Bytes cert_der_;
  std::unique_ptr<KeyLogFile> keylog_;  // set by LogKeysTo
};

class TlsClientContext {
 public:
  TlsClientContext();
  ~TlsClientContext();
  TlsClientContext(const TlsClientContext&) = delete;
  TlsClientContext& operator=(const TlsClientContext&) = delete;
  ssl_ctx_st* ctx() const { return ctx_; }

 private:
  ssl_ctx_st* ctx_;
};

// "sha256-raw:<64 lowercase hex>" of `der`.
std::string CertPinOf(ByteView der);
// The latest OpenSSL errors of this thread as one line (and clears them).
std::string OpenSslErrors();

}  // namespace punchlab::realio
