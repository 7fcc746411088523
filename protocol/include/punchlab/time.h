// Virtual or real time as the host hands it in. protocol/ never reads a clock:
// every input carries `now`, and machines answer PollTimeout() with the next
// instant they want to be woken.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace punchlab {

// A signed span of time in nanoseconds.
class Duration {
 public:
  constexpr Duration() = default;
  static constexpr Duration Nanos(int64_t n) { return Duration(n); }
  static constexpr Duration Micros(int64_t n) { return Duration(n * 1000); }
  static constexpr Duration Millis(int64_t n) { return Duration(n * 1000000); }
  static constexpr Duration Seconds(int64_t n) { return Duration(n * 1000000000); }
  static constexpr Duration Zero() { return Duration(0); }
  static constexpr Duration Max() { return Duration(std::numeric_limits<int64_t>::max()); }

  constexpr int64_t nanos() const { return ns_; }
  constexpr double seconds() const { return static_cast<double>(ns_) / 1e9; }
  constexpr double millis() const { return static_cast<double>(ns_) / 1e6; }

  constexpr Duration operator+(Duration o) const { return Duration(ns_ + o.ns_); }
  constexpr Duration operator-(Duration o) const { return Duration(ns_ - o.ns_); }
  constexpr Duration operator*(int64_t k) const { return Duration(ns_ * k); }
  constexpr Duration operator/(int64_t k) const { return Duration(ns_ / k); }
  constexpr Duration& operator+=(Duration o) { ns_ += o.ns_; return *this; }
  constexpr Duration& operator-=(Duration o) { ns_ -= o.ns_; return *this; }
  constexpr bool operator==(Duration o) const { return ns_ == o.ns_; }
  constexpr bool operator!=(Duration o) const { return ns_ != o.ns_; }
  constexpr bool operator<(Duration o) const { return ns_ < o.ns_; }
  constexpr bool operator<=(Duration o) const { return ns_ <= o.ns_; }
  constexpr bool operator>(Duration o) const { return ns_ > o.ns_; }
  constexpr bool operator>=(Duration o) const { return ns_ >= o.ns_; }

  // "2s", "1500ms", "20us", "7ns": the largest unit that keeps the value whole,
  // for logs and JSON.
  std::string ToString() const;
  // The inverse, as people write durations in flags, NAT specs and scenarios:
  // a non-negative decimal and a unit (ns, us, ms, s, m, h), e.g. "30s",
  // "1.5s", "250ms". Exact: the value must be a whole number of nanoseconds.
  // nullopt for anything else (no sign, no spaces, no missing unit, no overflow).
  static std::optional<Duration> Parse(std::string_view text);

 private:
  constexpr explicit Duration(int64_t ns) : ns_(ns) {}
  int64_t ns_ = 0;
};

// A monotonic instant in nanoseconds since an epoch chosen by the host
// (simulation start in ns-3, process start on real sockets).
class Timestamp {
 public:
  constexpr Timestamp() = default;
  static constexpr Timestamp FromNanos(int64_t n) { return Timestamp(n); }
  static constexpr Timestamp Zero() { return Timestamp(0); }
  // "Never": later than any instant a run reaches.
  static constexpr Timestamp Max() { return Timestamp(std::numeric_limits<int64_t>::max()); }

  constexpr int64_t nanos() const { return ns_; }
  constexpr double seconds() const { return static_cast<double>(ns_) / 1e9; }

  constexpr Timestamp operator+(Duration d) const { return Timestamp(ns_ + d.nanos()); }
  constexpr Timestamp operator-(Duration d) const { return Timestamp(ns_ - d.nanos()); }
  constexpr Duration operator-(Timestamp o) const { return Duration::Nanos(ns_ - o.ns_); }
  constexpr Timestamp& operator+=(Duration d) { ns_ += d.nanos(); return *this; }
  constexpr bool operator==(Timestamp o) const { return ns_ == o.ns_; }
  constexpr bool operator!=(Timestamp o) const { return ns_ != o.ns_; }
  constexpr bool operator<(Timestamp o) const { return ns_ < o.ns_; }
  constexpr bool operator<=(Timestamp o) const { return ns_ <= o.ns_; }
  constexpr bool operator>(Timestamp o) const { return ns_ > o.ns_; }
  constexpr bool operator>=(Timestamp o) const { return ns_ >= o.ns_; }

 private:
  constexpr explicit Timestamp(int64_t ns) : ns_(ns) {}
  int64_t ns_ = 0;
};

}  // namespace punchlab
