#include "punchlab/control/identity.h"

#include <gtest/gtest.h>

#include <sodium.h>

#include <string>

namespace punchlab::control {
namespace {

const Timestamp kExpiry = Timestamp::Zero() + Duration::Seconds(3600);

std::string B64(const std::string& s) {
  std::string out(sodium_base64_ENCODED_LEN(s.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                  '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(s.data()),
                    s.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(out.size() - 1);
  return out;
}

class IdentityTest : public ::testing::Test {
 protected:
  DeterministicRandom rng{7};
  IdentityProvider idp_a{SigningKey::Generate(rng)};
  IdentityProvider idp_b{SigningKey::Generate(rng)};
  TokenVerifier verifier{{{idp_a.verify_key(), {"a.example"}},
                          {idp_b.verify_key(), {"b.example", "c.example"}}}};
  // The node every token here is issued for and presented by, unless a test
  // says otherwise.
  NodePublicKey node = NodePrivateKey::Generate(rng).Public();
  NodePublicKey other_node = NodePrivateKey::Generate(rng).Public();

  std::string Token(const IdentityProvider& idp, const std::string& user,
                    const std::string& domain, Timestamp expires = kExpiry) {
    auto t = idp.Issue({user, domain, node, expires});
    EXPECT_TRUE(t);
    return t.value_or("");
  }
  std::string Refusal(const std::string& token, Timestamp now = Timestamp::Zero()) {
    std::string error;
    EXPECT_FALSE(verifier.Verify(token, node, now, error)) << token;
    return error;
  }
  // Claims JSON naming `node`, as the provider writes it.
  std::string Claims(const std::string& domain, const std::string& expires,
                     const std::string& user) const {
    return R"({"domain":")" + domain + R"(","expires":)" + expires + R"(,"node_key":")" +
           node.ToString() + R"(","user":")" + user + R"("})";
  }
};

TEST_F(IdentityTest, IssuedTokenVerifiesAndCarriesItsClaims) {
  const std::string token = Token(idp_a, "alice", "a.example");
  EXPECT_EQ(token.rfind("pltoken1.", 0), 0u);
  std::string error;
  auto claims = verifier.Verify(token, node, kExpiry - Duration::Nanos(1), error);
  ASSERT_TRUE(claims) << error;
  EXPECT_EQ(*claims, (IdentityClaims{"alice", "a.example", node, kExpiry}));
  // A provider may be trusted for several domains.
  EXPECT_TRUE(
      verifier.Verify(Token(idp_b, "carol", "c.example"), node, Timestamp::Zero(), error));
}

TEST_F(IdentityTest, TokenIsRefusedToAnyOtherNodeKey) {
  const std::string token = Token(idp_a, "alice", "a.example");
  std::string error;
  EXPECT_FALSE(verifier.Verify(token, other_node, Timestamp::Zero(), error));
  EXPECT_EQ(error, "token was issued for " + node.ToString() + ", not for this node (" +
                       other_node.ToString() + "; token of alice@a.example)");
  // The key is part of what is signed: naming another key breaks the signature.
  std::string forged_error;
  const std::string forged = "pltoken1." + B64(R"({"domain":"a.example","expires":)" +
                                                std::to_string(kExpiry.nanos()) +
                                                R"(,"node_key":")" + other_node.ToString() +
                                                R"(","user":"alice"})") +
                             token.substr(token.find('.', 9));
  EXPECT_FALSE(verifier.Verify(forged, other_node, Timestamp::Zero(), forged_error));
  EXPECT_NE(forged_error.find("not signed"), std::string::npos) << forged_error;
}

TEST_F(IdentityTest, ExpiredTokenIsRefusedSayingSo) {
  const std::string error = Refusal(Token(idp_a, "alice", "a.example"), kExpiry);
  EXPECT_NE(error.find("expired"), std::string::npos) << error;
  EXPECT_NE(error.find("alice@a.example"), std::string::npos) << error;
}

TEST_F(IdentityTest, ProviderOfOneDomainCannotVouchForAnother) {
  // idp_b is trusted for b.example, and signs a claim about a.example.
  const std::string error = Refusal(Token(idp_b, "mallory", "a.example"));
  EXPECT_NE(error.find("not signed by an identity provider trusted for domain \"a.example\""),
            std::string::npos)
      << error;
}

TEST_F(IdentityTest, UnknownDomainAndUntrustedSignatureGetTheSameAnswer) {
  // A stranger must not learn which domains exist: z.example is served by
  // nobody, a.example is, and neither token is signed by its provider.
  const std::string unknown = Refusal(Token(idp_b, "eve", "z.example"));
  const std::string untrusted = Refusal(Token(idp_b, "eve", "a.example"));
  EXPECT_EQ(unknown,
            "identity token for eve@z.example is not signed by an identity provider trusted for "
            "domain \"z.example\"");
  std::string same = untrusted;
  same.replace(same.find("a.example"), 9, "z.example");
  same.replace(same.rfind("a.example"), 9, "z.example");
  EXPECT_EQ(unknown, same);
}

TEST_F(IdentityTest, TamperedClaimsOrSignatureAreRefused) {
  const std::string token = Token(idp_a, "alice", "a.example");
  const size_t dot = token.find('.', 9);
  const std::string sig = token.substr(dot + 1);
  // Same signature over different claims.
  const std::string forged_claims =
      "pltoken1." + B64(Claims("a.example", "999999999999999", "alice")) + "." + sig;
  EXPECT_NE(Refusal(forged_claims).find("not signed"), std::string::npos);
  // Flip a bit of the signature.
  std::string bad_sig = token;
  bad_sig[dot + 5] = bad_sig[dot + 5] == 'A' ? 'B' : 'A';
  EXPECT_NE(Refusal(bad_sig).find("not signed"), std::string::npos);
  // Signature of another token.
  const std::string other = Token(idp_a, "bob", "a.example");
  EXPECT_NE(Refusal(token.substr(0, dot + 1) + other.substr(other.find('.', 9) + 1))
                .find("not signed"),
            std::string::npos);
}

TEST_F(IdentityTest, ParsingIsStrict) {
  const std::string token = Token(idp_a, "alice", "a.example");
  const size_t dot = token.find('.', 9);
  const std::string claims = token.substr(9, dot - 9);
  const std::string sig = token.substr(dot + 1);
  const std::string good_json = Claims("a.example", "1", "alice");
  const std::string key_hex = node.ToString().substr(8);
  const std::string bad[] = {
      "",
      token.substr(1),
      "pltoken2." + claims + "." + sig,
      "pltoken1." + claims,
      "pltoken1." + claims + "." + sig + "=",
      "pltoken1." + claims + "." + sig + ".x",
      "pltoken1." + claims + ". " + sig,
      "pltoken1." + claims + "." + sig.substr(0, sig.size() - 2),
      " " + token,
      token + "\n",
      std::string("pltoken1.") + "!!!!" + "." + sig,
      "pltoken1." + B64("not json") + "." + sig,
      "pltoken1." + B64(R"({"domain":"a.example","expires":1})") + "." + sig,
      // The claims of a token from before tokens were bound to a node.
      "pltoken1." + B64(R"({"domain":"a.example","expires":1,"user":"alice"})") + "." + sig,
      "pltoken1." + B64(R"({"domain":"a.example","expires":1,"node_key":"nodekey:)" + key_hex +
                        R"(","user":"alice","admin":true})") + "." + sig,
      "pltoken1." + B64(R"({"domain":"a.example","expires":1,"node_key":"discokey:)" + key_hex +
                        R"(","user":"alice"})") + "." + sig,
      "pltoken1." + B64(R"({"domain":"a.example","expires":1,"node_key":")" + key_hex +
                        R"(","user":"alice"})") + "." + sig,
      "pltoken1." + B64(R"({"domain":"a.example","expires":1,"node_key":"nodekey:)" +
                        std::string(64, '0') + R"(","user":"alice"})") + "." + sig,
      "pltoken1." + B64(R"({"domain":"a.example","expires":1,"node_key":"nodekey:)" +
                        std::string(64, 'A') + R"(","user":"alice"})") + "." + sig,
      "pltoken1." + B64(R"({"domain":"a.example","expires":1,"node_key":7,"user":"alice"})") +
          "." + sig,
      "pltoken1." + B64(R"({"domain":"a.example","expires":1,"user":"alice","admin":true})") +
          "." + sig,
      "pltoken1." + B64(R"({"user":"alice","domain":"a.example","expires":1})") + "." + sig,
      "pltoken1." + B64(R"({"domain":"a.example", "expires":1,"user":"alice"})") + "." + sig,
      "pltoken1." + B64(R"({"domain":"a.example","expires":1.5,"user":"alice"})") + "." + sig,
      "pltoken1." + B64(R"({"domain":"a.example","expires":"1","user":"alice"})") + "." + sig,
      "pltoken1." + B64(R"({"domain":"A.example","expires":1,"user":"alice"})") + "." + sig,
      "pltoken1." + B64(R"({"domain":"a.example","expires":1,"user":"al ice"})") + "." + sig,
      "pltoken1." + B64(R"({"domain":"a.example","expires":1,"user":""})") + "." + sig,
      "pltoken1." + B64(R"({"domain":"a.example","expires":18446744073709551615,"user":"a"})") +
          "." + sig,
      "pltoken1." + B64(good_json) + "." + B64(std::string(63, 'x')),
      "pltoken1." + claims + "." + sig + std::string(3000, 'A'),
  };
  for (const std::string& t : bad) {
    std::string error;
    EXPECT_FALSE(ParseToken(t, error)) << t;
    EXPECT_FALSE(error.empty()) << t;
  }
  std::string error;
  auto parsed = ParseToken("pltoken1." + B64(good_json) + "." + sig, error);
  ASSERT_TRUE(parsed) << error;  // well-formed; the signature is checked later
  EXPECT_EQ(parsed->claims,
            (IdentityClaims{"alice", "a.example", node, Timestamp::FromNanos(1)}));
}

// Claims followed by a raw NUL and more are not JSON (JSON allows a raw NUL
// nowhere; nlohmann's lexer alone would stop at it and read the claims, and
// only the canonical-form check would refuse them): refused as claims that
// are not the object they must be.
TEST_F(IdentityTest, ClaimsWithARawNulAreNotJson) {
  const std::string token = Token(idp_a, "alice", "a.example");
  const std::string sig = token.substr(token.find('.', 9) + 1);
  const std::string good_json = Claims("a.example", "1", "alice");
  for (const std::string& claims :
       {good_json + std::string(1, '\0') + "x", good_json + std::string(1, '\0')}) {
    std::string error;
    EXPECT_FALSE(ParseToken("pltoken1." + B64(claims) + "." + sig, error));
    EXPECT_EQ(error,
              "token claims must be an object with exactly user, domain, node_key and expires");
  }
}

TEST_F(IdentityTest, ProviderRefusesToIssueInvalidNames) {
  EXPECT_FALSE(idp_a.Issue({"", "a.example", node, kExpiry}));
  EXPECT_FALSE(idp_a.Issue({"al ice", "a.example", node, kExpiry}));
  EXPECT_FALSE(idp_a.Issue({"alice", "A.Example", node, kExpiry}));
  EXPECT_FALSE(idp_a.Issue({"alice", "a.example", NodePublicKey(), kExpiry}));
  EXPECT_TRUE(IsValidUser("bob.smith+ci@a.example"));
  EXPECT_FALSE(IsValidDomain(std::string(254, 'a')));
}

}  // namespace
}  // namespace punchlab::control
