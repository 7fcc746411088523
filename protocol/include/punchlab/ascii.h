// ASCII text helpers for the protocols' text formats (HTTP heads, URLs,
// SSDP): their names and tokens compare case-insensitively in ASCII only,
// whatever the C locale says.
#pragma once

#include <string>

namespace punchlab {

// `s` with ASCII letters lowered and every other byte as it was: HTTP's field
// names, schemes and tokens compare case-insensitively (used by every HTTP
// reader here: DERP's upgrade, UPnP's HTTP and SSDP).
std::string LowerAscii(std::string s);

}  // namespace punchlab
