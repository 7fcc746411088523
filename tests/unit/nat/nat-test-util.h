// Shorthands for the NAT core tests: endpoints from text, times in seconds.
#pragma once

#include <stdexcept>
#include <string>

#include "punchlab/endpoint.h"
#include "punchlab/nat/nat-config.h"
#include "punchlab/time.h"

namespace punchlab {
namespace nat {
namespace testing {

inline Endpoint Ep(const std::string& text) { return *Endpoint::Parse(text); }
inline IpAddress Ip(const std::string& text) { return *IpAddress::Parse(text); }
inline Timestamp Sec(int64_t s) { return Timestamp::FromNanos(s * 1000000000); }

// A preset by name, with knobs on top (asserts the spec parses).
inline NatConfig Config(const std::string& spec) {
  NatSpecResult r = ParseNatSpec(spec);
  if (!r) throw std::runtime_error("bad test spec: " + r.error);
  return *r.config;
}

}  // namespace testing
}  // namespace nat
}  // namespace punchlab
