#include "punchlab/clone-on-copy.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <utility>

namespace punchlab {
namespace {

// Move-only, like the key types; Clone() copies on purpose and says so.
struct Secret {
  explicit Secret(int v) : value(v) {}
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  Secret(Secret&&) = default;
  Secret& operator=(Secret&&) = default;
  Secret Clone() const {
    Secret s(value);
    s.clones = clones + 1;
    return s;
  }
  int value;
  int clones = 0;
};

TEST(CloneOnCopy, CopiesAMoveOnlyValueByItsClone) {
  CloneOnCopy<Secret> a(Secret(7));
  CloneOnCopy<Secret> b(a);
  EXPECT_EQ(b.value, 7);
  EXPECT_EQ(b.clones, 1);
  EXPECT_EQ(a.clones, 0);
  CloneOnCopy<Secret> c(Secret(1));
  c = b;
  EXPECT_EQ(c.value, 7);
  EXPECT_EQ(c.clones, 2);
  CloneOnCopy<Secret> moved(std::move(c));  // a move is a move, not a clone
  EXPECT_EQ(moved.clones, 2);
}

TEST(CloneOnCopy, CopiesAnOptionalSecretAndAnEmptyOne) {
  CloneOnCopy<std::optional<Secret>> a(std::optional<Secret>(Secret(3)));
  CloneOnCopy<std::optional<Secret>> b(a);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->value, 3);
  EXPECT_EQ(b->clones, 1);
  CloneOnCopy<std::optional<Secret>> none;
  CloneOnCopy<std::optional<Secret>> still_none(none);
  EXPECT_FALSE(still_none.has_value());
  b = none;
  EXPECT_FALSE(b.has_value());
}

TEST(CloneOnCopy, CopiesWhatAUniquePtrHoldsIntoANewObject) {
  CloneOnCopy<std::unique_ptr<int>> a(std::make_unique<int>(5));
  CloneOnCopy<std::unique_ptr<int>> b(a);
  ASSERT_NE(b.get(), nullptr);
  EXPECT_NE(b.get(), a.get());
  EXPECT_EQ(*b, 5);
  *b = 6;
  EXPECT_EQ(*a, 5);
  CloneOnCopy<std::unique_ptr<int>> empty;
  CloneOnCopy<std::unique_ptr<int>> still_empty(empty);
  EXPECT_EQ(still_empty.get(), nullptr);
}

}  // namespace
}  // namespace punchlab
