// The machine targets' honest set-up, hoisted out of the per-input path.
//
// Every input of the machine targets (derp-server, derp-client,
// control-server, control-client, and wireguard's two devices) starts the
// same honest world: the same keys, the same handshakes, the same tokens. Much of an input's time went
// into redoing that world's public-key cryptography (X25519 key agreement,
// key derivation, Ed25519 checks of the same tokens). These targets are
// linked with -Wl,--wrap for the libsodium calls the protocol makes
// (tests/fuzz/CMakeLists.txt), so a call comes here first: one seen before,
// byte for byte, is answered from memory with what libsodium answered then;
// any other goes to libsodium and is remembered.
// The machines run unchanged and every invariant is still checked against
// real cryptography: only repeated arithmetic is skipped. A fuzzer's own keys
// and signatures are real calls too; the memo is emptied when it reaches
// kMaxEntries, so it stays small however long the run.
//
// This file is compiled without coverage instrumentation: whether a call hit
// the memo depends on earlier inputs, and must not look like new behaviour.
#include <cstddef>
#include <cstring>
#include <initializer_list>
#include <string>
#include <unordered_map>
#include <utility>

extern "C" {
int __real_crypto_box_beforenm(unsigned char* k, const unsigned char* pk, const unsigned char* sk);
int __real_crypto_scalarmult_base(unsigned char* q, const unsigned char* n);
int __real_crypto_scalarmult(unsigned char* q, const unsigned char* n, const unsigned char* p);
int __real_crypto_box_seed_keypair(unsigned char* pk, unsigned char* sk,
                                   const unsigned char* seed);
int __real_crypto_sign_seed_keypair(unsigned char* pk, unsigned char* sk,
                                    const unsigned char* seed);
int __real_crypto_sign_detached(unsigned char* sig, unsigned long long* siglen,
                                const unsigned char* m, unsigned long long mlen,
                                const unsigned char* sk);
int __real_crypto_sign_verify_detached(const unsigned char* sig, const unsigned char* m,
                                       unsigned long long mlen, const unsigned char* pk);
}

namespace {

// libsodium's sizes for the calls wrapped here.
constexpr size_t kX25519 = 32;     // keys, shared secret, seed
constexpr size_t kEd25519Pk = 32;  // public key, seed
constexpr size_t kEd25519Sk = 64;  // secret key
constexpr size_t kEd25519Sig = 64;
constexpr size_t kMaxEntries = 4096;

struct Answer {
  int status = 0;
  std::string out;
};

class Memo {
 public:
  // The answer to the call named by `tag` with inputs `parts`, computing it
  // with `call` (which fills `out_size` bytes) the first time.
  template <typename Call>
  int Get(char tag, std::initializer_list<std::pair<const void*, size_t>> parts,
          unsigned char* out, size_t out_size, Call call) {
    std::string key(1, tag);
    for (const auto& [data, size] : parts) key.append(static_cast<const char*>(data), size);
    auto it = map_.find(key);
    if (it == map_.end()) {
      Answer a;
      a.out.resize(out_size);
      a.status = call(reinterpret_cast<unsigned char*>(a.out.data()));
      if (map_.size() >= kMaxEntries) map_.clear();
      it = map_.emplace(std::move(key), std::move(a)).first;
    }
    if (out_size > 0) std::memcpy(out, it->second.out.data(), out_size);
    return it->second.status;
  }

 private:
  std::unordered_map<std::string, Answer> map_;
};

Memo& TheMemo() {
  static Memo* memo = new Memo();  // never destroyed: calls may come at exit
  return *memo;
}

}  // namespace

extern "C" {

int __wrap_crypto_box_beforenm(unsigned char* k, const unsigned char* pk,
                               const unsigned char* sk) {
  return TheMemo().Get('b', {{pk, kX25519}, {sk, kX25519}}, k, kX25519,
                       [&](unsigned char* out) { return __real_crypto_box_beforenm(out, pk, sk); });
}

int __wrap_crypto_scalarmult_base(unsigned char* q, const unsigned char* n) {
  return TheMemo().Get('m', {{n, kX25519}}, q, kX25519,
                       [&](unsigned char* out) { return __real_crypto_scalarmult_base(out, n); });
}

int __wrap_crypto_scalarmult(unsigned char* q, const unsigned char* n, const unsigned char* p) {
  return TheMemo().Get('x', {{n, kX25519}, {p, kX25519}}, q, kX25519,
                       [&](unsigned char* out) { return __real_crypto_scalarmult(out, n, p); });
}

int __wrap_crypto_box_seed_keypair(unsigned char* pk, unsigned char* sk,
                                   const unsigned char* seed) {
  unsigned char both[2 * kX25519];
  const int status =
      TheMemo().Get('k', {{seed, kX25519}}, both, sizeof both, [&](unsigned char* out) {
        return __real_crypto_box_seed_keypair(out, out + kX25519, seed);
      });
  std::memcpy(pk, both, kX25519);
  std::memcpy(sk, both + kX25519, kX25519);
  return status;
}

int __wrap_crypto_sign_seed_keypair(unsigned char* pk, unsigned char* sk,
                                    const unsigned char* seed) {
  unsigned char both[kEd25519Pk + kEd25519Sk];
  const int status =
      TheMemo().Get('s', {{seed, kEd25519Pk}}, both, sizeof both, [&](unsigned char* out) {
        return __real_crypto_sign_seed_keypair(out, out + kEd25519Pk, seed);
      });
  std::memcpy(pk, both, kEd25519Pk);
  std::memcpy(sk, both + kEd25519Pk, kEd25519Sk);
  return status;
}

int __wrap_crypto_sign_detached(unsigned char* sig, unsigned long long* siglen,
                                const unsigned char* m, unsigned long long mlen,
                                const unsigned char* sk) {
  // Ed25519 signatures are deterministic: the same key and message give the
  // same signature.
  if (siglen != nullptr) *siglen = kEd25519Sig;
  return TheMemo().Get('d', {{sk, kEd25519Sk}, {m, static_cast<size_t>(mlen)}}, sig, kEd25519Sig,
                       [&](unsigned char* out) {
                         return __real_crypto_sign_detached(out, nullptr, m, mlen, sk);
                       });
}

int __wrap_crypto_sign_verify_detached(const unsigned char* sig, const unsigned char* m,
                                       unsigned long long mlen, const unsigned char* pk) {
  return TheMemo().Get('v', {{sig, kEd25519Sig}, {pk, kEd25519Pk}, {m, static_cast<size_t>(mlen)}},
                       nullptr, 0, [&](unsigned char*) {
                         return __real_crypto_sign_verify_detached(sig, m, mlen, pk);
                       });
}

}  // extern "C"
