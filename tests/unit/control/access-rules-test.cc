// The access rules' text (ParseAccessRules): what the real control server
// reads with --acls. The shapes it refuses are in control-plane-test.cc
// (AccessRulesText); these are the repeats nlohmann would otherwise take
// silently (it keeps the last of two keys), and a raw NUL (where it stops).
#include "punchlab/control/access-rules.h"

#include <gtest/gtest.h>

#include <string>

namespace punchlab::control {
namespace {

TEST(AccessRulesText, RefusesADomainListedTwice) {
  std::string error;
  EXPECT_FALSE(ParseAccessRules(R"({"corp": [{"src": ["alice"], "dst": ["bob"]}],
                                    "corp": []})",
                                error));
  EXPECT_EQ(error, "domain 'corp' is listed twice; give each domain one list");
}

TEST(AccessRulesText, RefusesARuleNamingAKeyTwice) {
  std::string error;
  EXPECT_FALSE(ParseAccessRules(R"({"corp": [{"src": ["alice"], "dst": ["bob"], "src": ["*"]}]})",
                                error));
  EXPECT_EQ(error, "a rule names 'src' twice; give it once");
}

// A policy, a NUL and more: nlohmann would stop at the NUL and take the
// policy before it (here one allowing everyone), ignoring what follows.
TEST(AccessRulesText, RefusesARawNulWithItsPosition) {
  std::string error;
  const std::string text = std::string("{\"corp\": [{\"src\": [\"*\"], \"dst\": [\"*\"]}]}\n") +
                           '\0' + "\"and rules nobody reads\"";
  EXPECT_FALSE(ParseAccessRules(text, error));
  EXPECT_EQ(error, "a raw NUL byte at line 2, column 1 (JSON has none; in a string it is "
                   "written \\u0000)");
}

// The same key in different objects is no repeat.
TEST(AccessRulesText, SameKeysInDifferentObjectsAreFine) {
  std::string error;
  const auto rules = ParseAccessRules(
      R"({"a.example": [{"src": ["alice"], "dst": ["bob"]}, {"src": ["*"], "dst": ["carol"]}],
          "b.example": [{"src": ["alice"], "dst": ["bob"]}]})",
      error);
  ASSERT_TRUE(rules) << error;
  const AccessRules want = {
      {"a.example", {{{"alice"}, {"bob"}}, {{kAnyUser}, {"carol"}}}},
      {"b.example", {{{"alice"}, {"bob"}}}}};
  EXPECT_EQ(*rules, want);
}

}  // namespace
}  // namespace punchlab::control
