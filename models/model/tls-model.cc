#include "model/tls-model.h"

#include <sodium.h>

#include <algorithm>
#include <utility>

#include "punchlab/ascii.h"

namespace punchlab::tlsmodel {

namespace {

constexpr uint8_t kLegacyVersionMajor = 0x03;
constexpr uint8_t kRecordVersion = 0x03;       // 0x0303 on every record ...
constexpr uint8_t kClientHelloVersion = 0x01;  // ... but 0x0301 on a ClientHello
// Records larger than TLS allows are not TLS (RFC 8446 5.2: 2^14 + 256).
constexpr size_t kMaxRecord = (1u << 14) + 256;

}  // namespace

std::string PinOf(ByteView der) {
  uint8_t digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, der.data(), der.size());
  return std::string(TlsDial::kPinPrefix) + ToHex(ByteView(digest, sizeof digest));
}

Certificate::Certificate(std::string name, const std::string& identity)
    : name_(std::move(name)), der_(kDerSize, 0) {
  // What the bytes say does not matter, only that they differ per server
  // (the pin) and have the lab's size.
  const std::string text = "punchlab modelled certificate\n" + name_ + "\n" + identity;
  std::copy_n(text.begin(), std::min(text.size(), der_.size()), der_.begin());
}

std::string Certificate::Pin() const { return PinOf(der_); }

Session::Session(bool client, TlsDial dial, std::shared_ptr<const Certificate> certificate)
    : client_(client), dial_(std::move(dial)), certificate_(std::move(certificate)) {}

Session Session::Client(const TlsDial& dial) { return Session(true, dial, nullptr); }

Session Session::Server(std::shared_ptr<const Certificate> certificate) {
  return Session(false, TlsDial{}, std::move(certificate));
}

void Session::Record(uint8_t type, size_t length, ByteView content) {
  out_.push_back(type);
  out_.push_back(kLegacyVersionMajor);
  out_.push_back(type == kHandshake && client_ ? kClientHelloVersion : kRecordVersion);
  out_.push_back(static_cast<uint8_t>(length >> 8));
  out_.push_back(static_cast<uint8_t>(length & 0xff));
  const size_t start = out_.size();
  out_.resize(start + length, 0);
  std::copy_n(content.begin(), std::min(content.size(), length), out_.begin() + start);
}

void Session::Start() {
  if (!client_ || step_ != 0 || !out_.empty()) return;
  Record(kHandshake, kClientHello);
}

void Session::Feed(ByteView bytes) {
  if (state_ == State::kFailed) return;
  if (state_ == State::kOpen) {
    plain_.insert(plain_.end(), bytes.begin(), bytes.end());
    return;
  }
  in_.insert(in_.end(), bytes.begin(), bytes.end());
  size_t used = 0;
  while (state_ == State::kHandshaking && in_.size() - used >= kRecordHeader) {
    const uint8_t* h = in_.data() + used;
    const size_t length = (size_t{h[3]} << 8) | h[4];
    if (h[1] != kLegacyVersionMajor || length > kMaxRecord) {
      Fail("tls handshake: not a TLS record", true);
      return;
    }
    if (in_.size() - used < kRecordHeader + length) break;  // the rest is on its way
    const ByteView payload(h + kRecordHeader, length);
    used += kRecordHeader + length;
    if (!OnRecord(h[0], payload)) return;
  }
  // Whatever followed the peer's last handshake record is application data.
  if (state_ == State::kOpen) plain_.insert(plain_.end(), in_.begin() + used, in_.end());
  in_.erase(in_.begin(), state_ == State::kOpen ? in_.end() : in_.begin() + used);
}

Bytes Session::TakePlaintext() { return std::exchange(plain_, Bytes{}); }

bool Session::OnRecord(uint8_t type, ByteView payload) {
  // An alert, plaintext or sealed (no handshake record of the flights is
  // as short as a sealed alert).
  if (type == kAlert || (type == kApplicationData && payload.size() == kSealedAlert)) {
    Fail("tls handshake: the peer sent an alert", false);
    return false;
  }
  // The record each step of the peer's flights must be.
  static constexpr uint8_t kFromClient[] = {kHandshake, kChangeCipherSpec, kApplicationData};
  static constexpr uint8_t kFromServer[] = {kHandshake,       kChangeCipherSpec,
                                            kApplicationData, kApplicationData,
                                            kApplicationData, kApplicationData};
  const uint8_t* expected = client_ ? kFromServer : kFromClient;
  const int steps = client_ ? 6 : 3;
  if (step_ >= steps || type != expected[step_]) {
    Fail("tls handshake: unexpected record (type " + std::to_string(type) + ")", true);
    return false;
  }
  const int step = step_++;
  if (!client_) {
    if (step == 0) {  // ClientHello: the whole server flight
      Record(kHandshake, kServerHello);
      Record(kChangeCipherSpec, kCcs);
      Record(kApplicationData, kEncryptedExtensions);
      const Bytes& der = certificate_->der();
      Bytes content{static_cast<uint8_t>(der.size() >> 8), static_cast<uint8_t>(der.size())};
      content.insert(content.end(), der.begin(), der.end());
      Record(kApplicationData, der.size() + kCertificateAround, content);
      Record(kApplicationData, kCertificateVerify);
      Record(kApplicationData, kFinished);
    } else if (step == 2) {  // the client's Finished
      state_ = State::kOpen;
    }
    return true;
  }
  if (step == 3) {  // Certificate: the DER bytes, length first
    if (payload.size() < 2) {
      Fail("tls handshake: bad certificate record", true);
      return false;
    }
    const size_t size = (size_t{payload[0]} << 8) | payload[1];
    peer_der_ = payload.sub(2, size).ToBytes();
  } else if (step == 5) {  // the server's Finished: check, then ours
    const std::string refused = CheckCertificate(peer_der_);
    if (!refused.empty()) {
      Fail(refused, true);
      return false;
    }
    Record(kChangeCipherSpec, kCcs);
    Record(kApplicationData, kFinished);
    state_ = State::kOpen;
  }
  return true;
}

std::string Session::CheckCertificate(ByteView der) const {
  if (dial_.insecure_for_tests) return {};
  if (dial_.cert_name.rfind(TlsDial::kPinPrefix, 0) == 0) {
    const std::string pin = PinOf(der);
    if (pin == LowerAscii(dial_.cert_name)) return {};
    return "tls handshake: certificate " + pin + " is not the pinned " + dial_.cert_name;
  }
  // A name: the model certificate carries its name after the first line.
  const std::string text(der.begin(), der.end());
  const size_t first = text.find('\n');
  const size_t second = first == std::string::npos ? first : text.find('\n', first + 1);
  const std::string name =
      first == std::string::npos ? std::string() : text.substr(first + 1, second - first - 1);
  const std::string wanted = !dial_.cert_name.empty() ? dial_.cert_name : dial_.server_name;
  if (!wanted.empty() && name == wanted) return {};
  return "tls handshake: certificate for '" + name + "' is not valid for '" + wanted + "'";
}

void Session::Fail(const std::string& why, bool alert) {
  state_ = State::kFailed;
  error_ = why;
  // Before the ServerHello an alert is plaintext (2 bytes), after it sealed.
  const bool sealed = step_ > 0;
  if (alert) Record(sealed ? kApplicationData : kAlert, sealed ? kSealedAlert : 2);
  in_.clear();
}

}  // namespace punchlab::tlsmodel
