#include "realio/tls-session.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <climits>

#include "punchlab/ascii.h"

namespace punchlab::realio {

namespace {

// Where an SSL keeps its TlsSession (for the certificate check).
int SessionIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

std::string PinOf(X509* cert) {
  const int size = i2d_X509(cert, nullptr);
  if (size <= 0) return {};
  Bytes der(static_cast<size_t>(size));
  uint8_t* out = der.data();
  i2d_X509(cert, &out);
  return CertPinOf(der);
}

bool IsPin(const std::string& cert_name) {
  return cert_name.rfind(TlsDial::kPinPrefix, 0) == 0;
}


}  // namespace

TlsSession::TlsSession(SSL* ssl, bool client) : ssl_(ssl), client_(client) {
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  if (in == nullptr || out == nullptr) {
    BIO_free(in);
    BIO_free(out);
    SSL_free(ssl_);
    throw TlsError("tls: BIO_new: " + OpenSslErrors());
  }
  // An empty input BIO means "wait for more", not end of stream.
  BIO_set_mem_eof_return(in, -1);
  SSL_set_bio(ssl_, in, out);
  SSL_set_ex_data(ssl_, SessionIndex(), this);
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

std::unique_ptr<TlsSession> TlsSession::Client(const TlsClientContext& ctx, const TlsDial& dial,
                                               const Endpoint& remote) {
  SSL* ssl = SSL_new(ctx.ctx());
  if (ssl == nullptr) throw TlsError("tls: SSL_new: " + OpenSslErrors());
  std::unique_ptr<TlsSession> s(new TlsSession(ssl, true));
  s->dial_ = dial;
  SSL_set_connect_state(ssl);
  const bool name_is_ip = IpAddress::Parse(dial.server_name).has_value();
  // SNI carries host names only (RFC 6066), never an address.
  if (!dial.server_name.empty() && !name_is_ip) {
    SSL_set_tlsext_host_name(ssl, dial.server_name.c_str());
  }
  if (dial.insecure_for_tests) {
    SSL_set_verify(ssl, SSL_VERIFY_NONE, nullptr);
  } else if (IsPin(dial.cert_name)) {
    // The pin decides alone (Verify); the chain and names do not matter.
    SSL_set_verify(ssl, SSL_VERIFY_PEER, &TlsSession::Verify);
  } else {
    const std::string name = !dial.cert_name.empty()     ? dial.cert_name
                             : !dial.server_name.empty() ? dial.server_name
                                                         : remote.ip.ToString();
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    const int ok = IpAddress::Parse(name) ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                                          : X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0);
    if (ok != 1) throw TlsError("tls: cannot check certificates for '" + name + "'");
    SSL_set_verify(ssl, SSL_VERIFY_PEER, &TlsSession::Verify);
  }
  return s;
}

std::unique_ptr<TlsSession> TlsSession::Server(const TlsServerContext& ctx) {
  SSL* ssl = SSL_new(ctx.ctx());
  if (ssl == nullptr) throw TlsError("tls: SSL_new: " + OpenSslErrors());
  std::unique_ptr<TlsSession> s(new TlsSession(ssl, false));
  SSL_set_accept_state(ssl);
  return s;
}

int TlsSession::Verify(int preverify_ok, X509_STORE_CTX* store) {
  SSL* ssl = static_cast<SSL*>(
      X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* self = static_cast<TlsSession*>(SSL_get_ex_data(ssl, SessionIndex()));
  const int depth = X509_STORE_CTX_get_error_depth(store);
  const int error = X509_STORE_CTX_get_error(store);
  if (!IsPin(self->dial_.cert_name)) {
    if (!preverify_ok && self->verify_error_.empty()) {
      self->verify_error_ = "certificate refused (depth " + std::to_string(depth) +
                            "): " + X509_verify_cert_error_string(error);
    }
    return preverify_ok;
  }
  // Pinned: only the leaf counts, and only its hash and its dates.
  if (depth != 0) return 1;
  if (error == X509_V_ERR_CERT_HAS_EXPIRED || error == X509_V_ERR_CERT_NOT_YET_VALID) {
    self->verify_error_ = std::string("pinned certificate: ") + X509_verify_cert_error_string(error);
    return 0;
  }
  const std::string pin = PinOf(X509_STORE_CTX_get_current_cert(store));
  // Pins compare as Tailscale's do (lowercase hex), but a pin written in
  // uppercase is the same pin.
  if (pin != LowerAscii(self->dial_.cert_name)) {
    self->verify_error_ = "certificate " + pin + " is not the pinned " + self->dial_.cert_name;
    // The peer hears bad_certificate (not "unknown CA": a pin needs no CA).
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
    return 0;
  }
  return 1;
}

void TlsSession::Start() {
  if (client_ && state_ == State::kHandshaking) Advance();
}

void TlsSession::Feed(ByteView ciphertext) {
  if (state_ == State::kFailed || state_ == State::kClosed) return;
  size_t done = 0;
  while (done < ciphertext.size()) {
    const size_t chunk = std::min<size_t>(ciphertext.size() - done, INT_MAX);
    const int n = BIO_write(SSL_get_rbio(ssl_), ciphertext.data() + done, static_cast<int>(chunk));
    if (n <= 0) {
      state_ = State::kFailed;
      error_ = "tls: BIO_write: " + OpenSslErrors();
      return;
    }
    done += static_cast<size_t>(n);
  }
  if (state_ == State::kHandshaking) Advance();
}

void TlsSession::Advance() {
  const int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    state_ = State::kOpen;
    if (X509* peer = SSL_get1_peer_certificate(ssl_)) {
      peer_pin_ = PinOf(peer);
      X509_free(peer);
    }
  } else {
    OnError(r, "handshake");
  }
  Collect();
}

size_t TlsSession::Read(uint8_t* out, size_t capacity) {
  if (state_ != State::kOpen || capacity == 0) return 0;
  const int r = SSL_read(ssl_, out, static_cast<int>(std::min<size_t>(capacity, INT_MAX)));
  if (r > 0) {
    Collect();
    return static_cast<size_t>(r);
  }
  OnError(r, "read");
  Collect();
  return 0;
}

void TlsSession::Write(ByteView plaintext) {
  size_t done = 0;
  while (state_ == State::kOpen && done < plaintext.size()) {
    const size_t chunk = std::min<size_t>(plaintext.size() - done, INT_MAX);
    const int r = SSL_write(ssl_, plaintext.data() + done, static_cast<int>(chunk));
    if (r <= 0) {
      OnError(r, "write");
      break;
    }
    done += static_cast<size_t>(r);
  }
  Collect();
}

void TlsSession::Shutdown() {
  if (state_ != State::kOpen) return;
  SSL_shutdown(ssl_);
  state_ = State::kClosed;
  Collect();
}

void TlsSession::OnError(int result, const char* during) {
  switch (SSL_get_error(ssl_, result)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      return;  // more ciphertext needed (writes never wait on a memory BIO)
    case SSL_ERROR_ZERO_RETURN:
      state_ = State::kClosed;  // close_notify
      return;
    default:
      break;
  }
  state_ = State::kFailed;
  error_ = std::string("tls ") + during + ": " +
           (verify_error_.empty() ? OpenSslErrors() : verify_error_);
  ERR_clear_error();
}

void TlsSession::Collect() {
  BIO* out = SSL_get_wbio(ssl_);
  while (const size_t pending = BIO_ctrl_pending(out)) {
    if (out_sent_ == out_.size()) {
      out_.clear();
      out_sent_ = 0;
    }
    const size_t at = out_.size();
    out_.resize(at + pending);
    const int n = BIO_read(out, out_.data() + at, static_cast<int>(std::min<size_t>(pending, INT_MAX)));
    out_.resize(at + static_cast<size_t>(std::max(n, 0)));
    if (n <= 0) break;
  }
}

void TlsSession::Consume(size_t n) {
  out_sent_ = std::min(out_sent_ + n, out_.size());
  if (out_sent_ == out_.size()) {
    out_.clear();
    out_sent_ = 0;
  }
}

}  // namespace punchlab::realio
