#include "realio/tls-context.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace punchlab::realio {

namespace {

struct FreeKey {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct FreeCert {
  void operator()(X509* p) const { X509_free(p); }
};
struct FreeBio {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct FreeName {
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
};

[[noreturn]] void Fail(const std::string& what) {
  throw TlsError("tls: " + what + ": " + OpenSslErrors());
}

SSL_CTX* NewContext(const SSL_METHOD* method) {
  SSL_CTX* ctx = SSL_CTX_new(method);
  if (ctx == nullptr) Fail("SSL_CTX_new");
  // TLS 1.2 or newer (Tailscale's clients speak 1.3).
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // Writes of any size into memory BIOs; a retried write may come from a
  // moved buffer (the host's queue compacts).
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  return ctx;
}

void AddName(GENERAL_NAMES* names, int type, ASN1_STRING* value) {
  GENERAL_NAME* name = GENERAL_NAME_new();
  if (name == nullptr) {
    ASN1_STRING_free(value);
    Fail("GENERAL_NAME_new");
  }
  GENERAL_NAME_set0_value(name, type, value);
  sk_GENERAL_NAME_push(names, name);
}

void SetSubjectAltNames(X509* cert, const std::string& name, const std::vector<IpAddress>& ips) {
  std::unique_ptr<GENERAL_NAMES, FreeName> names(GENERAL_NAMES_new());
  if (!names) Fail("GENERAL_NAMES_new");
  if (!name.empty()) {
    ASN1_IA5STRING* dns = ASN1_IA5STRING_new();
    if (dns == nullptr || !ASN1_STRING_set(dns, name.data(), static_cast<int>(name.size()))) {
      Fail("subject alternative name " + name);
    }
    AddName(names.get(), GEN_DNS, dns);
  }
  for (const IpAddress& ip : ips) {
    ASN1_OCTET_STRING* raw = ASN1_OCTET_STRING_new();
    const uint8_t* bytes = ip.bytes().data();
    if (raw == nullptr || !ASN1_OCTET_STRING_set(raw, bytes, static_cast<int>(ip.size()))) {
      Fail("subject alternative name " + ip.ToString());
    }
    AddName(names.get(), GEN_IPADD, raw);
  }
  if (!X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, 0)) {
    Fail("subject alternative names");
  }
}

Bytes DerOf(X509* cert) {
  const int size = i2d_X509(cert, nullptr);
  if (size <= 0) Fail("i2d_X509");
  Bytes der(static_cast<size_t>(size));
  uint8_t* out = der.data();
  i2d_X509(cert, &out);
  return der;
}

}  // namespace

std::string OpenSslErrors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(e, text, sizeof(text));
    if (!out.empty()) out += "; ";
    out += text;
  }
  return out.empty() ? "no OpenSSL error recorded" : out;
}

std::string CertPinOf(ByteView der) {
  uint8_t digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (!EVP_Digest(der.data(), der.size(), digest, &size, EVP_sha256(), nullptr)) {
    Fail("sha256");
  }
  return std::string(TlsDial::kPinPrefix) + ToHex(ByteView(digest, size));
}

// ---- server ------------------------------------------------------------------------

TlsServerContext::TlsServerContext(SSL_CTX* ctx) : ctx_(ctx) {
  // No session tickets: a DERP connection lives long and is never resumed,
  // and without them nothing is written after the handshake unasked.
  SSL_CTX_set_num_tickets(ctx_, 0);
  SSL_CTX_set_options(ctx_, SSL_OP_NO_TICKET);
}

TlsServerContext::~TlsServerContext() { SSL_CTX_free(ctx_); }

void TlsServerContext::LogKeysTo(const std::string& file) {
  try {
    keylog_ = std::make_unique<KeyLogFile>(file);
  } catch (const std::runtime_error& e) {
    throw TlsError(std::string("tls: ") + e.what());
  }
  SSL_CTX_set_app_data(ctx_, this);
  SSL_CTX_set_keylog_callback(ctx_, &TlsServerContext::OnKeyLogLine);
}

void TlsServerContext::OnKeyLogLine(const SSL* ssl, const char* line) {
  const auto* self =
      static_cast<const TlsServerContext*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  if (self == nullptr || !self->keylog_) return;
  self->keylog_->Append(line);
}

std::string TlsServerContext::CertPin() const { return CertPinOf(cert_der_); }

std::string TlsServerContext::CertPem() const {
  const uint8_t* in = cert_der_.data();
  std::unique_ptr<X509, FreeCert> cert(d2i_X509(nullptr, &in, static_cast<long>(cert_der_.size())));
  std::unique_ptr<BIO, FreeBio> bio(BIO_new(BIO_s_mem()));
  if (!cert || !bio || !PEM_write_bio_X509(bio.get(), cert.get())) Fail("PEM_write_bio_X509");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

std::string TlsServerContext::KeyPem() const {
  std::unique_ptr<BIO, FreeBio> bio(BIO_new(BIO_s_mem()));
  EVP_PKEY* key = SSL_CTX_get0_privatekey(ctx_);
  if (!bio || key == nullptr ||
      !PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr)) {
    Fail("PEM_write_bio_PrivateKey");
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

std::shared_ptr<TlsServerContext> TlsServerContext::SelfSigned(const std::string& name,
                                                               const std::vector<IpAddress>& ips,
                                                               int valid_days) {
  std::unique_ptr<EVP_PKEY, FreeKey> key(EVP_EC_gen("P-256"));
  if (!key) Fail("EVP_EC_gen P-256");
  std::unique_ptr<X509, FreeCert> cert(X509_new());
  if (!cert) Fail("X509_new");
  X509_set_version(cert.get(), 2);  // v3: extensions
  uint8_t serial[16];
  if (RAND_bytes(serial, sizeof(serial)) != 1) Fail("RAND_bytes");
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  if (bn == nullptr || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()))) {
    BN_free(bn);
    Fail("serial number");
  }
  BN_free(bn);
  // From an hour ago: a peer whose clock is a little behind still accepts it.
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(valid_days) * 24 * 3600);
  X509_NAME* subject = X509_get_subject_name(cert.get());
  const std::string cn = name.empty() ? "punchlab" : name;
  if (!X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                  reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0) ||
      !X509_set_issuer_name(cert.get(), subject)) {
    Fail("subject name " + cn);
  }
  SetSubjectAltNames(cert.get(), name, ips);
  if (!X509_set_pubkey(cert.get(), key.get())) Fail("X509_set_pubkey");
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) Fail("X509_sign");

  std::shared_ptr<TlsServerContext> out(new TlsServerContext(NewContext(TLS_server_method())));
  if (SSL_CTX_use_certificate(out->ctx_, cert.get()) != 1 ||
      SSL_CTX_use_PrivateKey(out->ctx_, key.get()) != 1) {
    Fail("installing the self-signed certificate");
  }
  out->cert_der_ = DerOf(cert.get());
  return out;
}

std::shared_ptr<TlsServerContext> TlsServerContext::FromFiles(const std::string& cert_file,
                                                              const std::string& key_file) {
  std::shared_ptr<TlsServerContext> out(new TlsServerContext(NewContext(TLS_server_method())));
  if (SSL_CTX_use_certificate_chain_file(out->ctx_, cert_file.c_str()) != 1) {
    Fail("certificate chain " + cert_file);
  }
  if (SSL_CTX_use_PrivateKey_file(out->ctx_, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    Fail("private key " + key_file);
  }
  if (SSL_CTX_check_private_key(out->ctx_) != 1) {
    Fail("private key " + key_file + " does not belong to " + cert_file);
  }
  out->cert_der_ = DerOf(SSL_CTX_get0_certificate(out->ctx_));
  return out;
}

// ---- client ------------------------------------------------------------------------

TlsClientContext::TlsClientContext() : ctx_(NewContext(TLS_client_method())) {
  // Names that are neither pinned nor insecure are checked against the
  // system's roots (ca-certificates), as Tailscale's clients do.
  if (SSL_CTX_set_default_verify_paths(ctx_) != 1) {
    SSL_CTX_free(ctx_);
    Fail("the system's certificate roots");
  }
}

TlsClientContext::~TlsClientContext() { SSL_CTX_free(ctx_); }

}  // namespace punchlab::realio
