// Overloaded{...}: one visitor from several lambdas, for std::visit over a
// machine's event variant when every kind is handled (protocol/README.md,
// "Events"). The compiler then rejects a visit that misses a kind.
#pragma once

namespace punchlab {

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

}  // namespace punchlab
