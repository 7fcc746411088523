// Text a user or a peer hands us: node, disco and machine keys (public and
// private), identity-provider keys, identity tokens, durations, IP addresses
// and endpoints. Invariants: whatever parses prints back as text that parses
// to the same value; a key prints as given, its hex lower-cased.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz-check.h"
#include "punchlab/control/identity.h"
#include "punchlab/crypto/keys.h"
#include "punchlab/crypto/sign.h"
#include "punchlab/endpoint.h"
#include "punchlab/time.h"

using namespace punchlab;

namespace {

// Key hex is read in either case (as Tailscale's parser) and written in
// lower case: what parses prints as the input with its hex lower-cased.
std::string LowerHex(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

template <typename Key>
void PublicKeyText(const std::string& text) {
  if (auto k = Key::Parse(text)) {
    const size_t colon = text.find(':');
    FUZZ_CHECK(k->ToString() == text.substr(0, colon) + LowerHex(text.substr(colon)));
    FUZZ_CHECK(Key::Parse(k->ToString()) == k);
  }
}

template <typename Key>
void PrivateKeyText(const std::string& text) {
  (void)Key::Parse(text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  PublicKeyText<NodePublicKey>(text);
  PublicKeyText<DiscoPublicKey>(text);
  PublicKeyText<MachinePublicKey>(text);
  PrivateKeyText<NodePrivateKey>(text);
  PrivateKeyText<DiscoPrivateKey>(text);
  PrivateKeyText<MachinePrivateKey>(text);
  if (auto k = VerifyKey::Parse(text)) {
    const size_t colon = text.find(':');
    FUZZ_CHECK(k->ToString() == text.substr(0, colon) + LowerHex(text.substr(colon)));
  }
  (void)SigningKey::Parse(text);

  std::string error;
  if (auto t = control::ParseToken(text, error)) {
    FUZZ_CHECK(!t->claims.node_key.IsZero());
  } else {
    FUZZ_CHECK(!error.empty());  // a refusal always says why
  }

  if (auto d = Duration::Parse(text)) {
    const auto again = Duration::Parse(d->ToString());
    FUZZ_CHECK(again && *again == *d);
  }
  if (auto ip = IpAddress::Parse(text)) {
    const auto again = IpAddress::Parse(ip->ToString());
    FUZZ_CHECK(again && *again == *ip);
  }
  if (auto ep = Endpoint::Parse(text)) {
    const auto again = Endpoint::Parse(ep->ToString());
    FUZZ_CHECK(again && *again == *ep);
  }
  return 0;
}
