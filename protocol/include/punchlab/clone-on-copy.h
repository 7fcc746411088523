// CloneOnCopy<T>: a T that copies by cloning. The stream machines' Clone()
// (derp::Server, derp::Client, ControlServer, ControlClient) is their copy
// constructor, defaulted, so a member added later is copied too and cannot be
// forgotten. Their members that do not copy by themselves sit in this
// wrapper:
//   * a move-only secret (PrivateKey, SharedKey; or an optional of one),
//     copied by its Clone(): the key types stay move-only everywhere else,
//     so a secret is still copied only on purpose (the machines' copy
//     constructors are private: Clone() is the way to use them);
//   * a std::unique_ptr to a type that copies (a machine's private session
//     struct), copied as a new object holding a copy of the pointee.
// It is a T (derived from it), so the members are used as before.
#pragma once

#include <memory>
#include <optional>
#include <utility>

namespace punchlab {

template <class T>
T CloneOf(const T& value) {
  return value.Clone();
}
template <class T>
std::optional<T> CloneOf(const std::optional<T>& value) {
  return value ? std::optional<T>(CloneOf(*value)) : std::nullopt;
}
template <class T>
std::unique_ptr<T> CloneOf(const std::unique_ptr<T>& value) {
  return value ? std::make_unique<T>(*value) : nullptr;
}

template <class T>
class CloneOnCopy : public T {
 public:
  using T::T;
  using T::operator=;
  CloneOnCopy() = default;
  CloneOnCopy(T&& from) : T(std::move(from)) {}  // NOLINT: implicit, as T
  CloneOnCopy(const CloneOnCopy& other) : T(CloneOf(static_cast<const T&>(other))) {}
  CloneOnCopy(CloneOnCopy&&) = default;
  CloneOnCopy& operator=(const CloneOnCopy& other) {
    T::operator=(CloneOf(static_cast<const T&>(other)));
    return *this;
  }
  CloneOnCopy& operator=(CloneOnCopy&&) = default;
  ~CloneOnCopy() = default;
};

}  // namespace punchlab
