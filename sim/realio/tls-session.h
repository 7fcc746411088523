// One TLS connection over memory BIOs (OpenSSL): bytes in, bytes out, no
// socket. realio::Host runs one under every TLS stream: what the socket reads
// goes to Feed(), plaintext comes out of Read(); what the machine writes goes
// to Write(), ciphertext comes out of Output(). The handshake runs inside Feed()
// (and Start() for a client), so a host only moves bytes and asks state().
//
// A client checks the server's certificate as its TlsDial says (pinned by
// SHA-256, by name against the system's roots, or not at all); a refused
// certificate fails the handshake with a bad_certificate alert (in Output(),
// for the host to send before it closes) and error() says why.
#pragma once

#include <memory>
#include <string>

#include "punchlab/bytes.h"
#include "punchlab/endpoint.h"
#include "punchlab/stream-machine.h"
#include "realio/tls-context.h"

struct ssl_st;
struct x509_store_ctx_st;

namespace punchlab::realio {

class TlsSession {
 public:
  enum class State { kHandshaking, kOpen, kClosed, kFailed };

  static std::unique_ptr<TlsSession> Client(const TlsClientContext& ctx, const TlsDial& dial,
                                            const Endpoint& remote);
  static std::unique_ptr<TlsSession> Server(const TlsServerContext& ctx);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // A client's first flight (ClientHello) into Output().
  void Start();
  // Ciphertext from the peer; advances the handshake.
  void Feed(ByteView ciphertext);
  // Plaintext that arrived: up to `capacity` bytes into `out`; 0 when none is
  // ready now (check state(): the peer may have closed, or failed).
  size_t Read(uint8_t* out, size_t capacity);
  // Encrypts `plaintext` (open sessions only) into Output().
  void Write(ByteView plaintext);
  // Queues close_notify.
  void Shutdown();

  // Ciphertext to send, in order; Consume() what the socket took.
  ByteView Output() const { return ByteView(out_.data() + out_sent_, out_.size() - out_sent_); }
  size_t OutputSize() const { return out_.size() - out_sent_; }
  void Consume(size_t n);

  State state() const { return state_; }
  bool open() const { return state_ == State::kOpen; }
  // Why the session failed (the certificate check, an alert, a bad record).
  const std::string& error() const { return error_; }
  // The peer's leaf certificate pin ("sha256-raw:<hex>"), once known.
  const std::string& peer_pin() const { return peer_pin_; }

 private:
  TlsSession(ssl_st* ssl, bool client);
  void Advance();
  void Collect();  // moves what OpenSSL wrote into out_
  void OnError(int result, const char* during);
  static int Verify(int preverify_ok, ::x509_store_ctx_st* store);

  ssl_st* ssl_;
  bool client_;
  State state_ = State::kHandshaking;
  TlsDial dial_;
  std::string error_;
  std::string peer_pin_;
  std::string verify_error_;  // set by Verify: the reason a certificate was refused
  Bytes out_;
  size_t out_sent_ = 0;
};

}  // namespace punchlab::realio
