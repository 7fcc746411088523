// The exceptions the lab throws. Every message names what was attempted:
// a failed command quotes its argv, exit status and stderr, so a broken lab
// setup reads like a shell transcript rather than "setup failed".
#pragma once

#include <stdexcept>
#include <string>

namespace punchlab::lab {

class LabError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A SIGINT, SIGTERM or SIGHUP arrived while the lab was waiting. It is thrown
// from that wait so that the stack unwinds through the Lab's destructor,
// which deletes everything the lab made; see interrupt.h.
class Interrupted : public LabError {
 public:
  explicit Interrupted(int signal)
      : LabError("interrupted by signal " + std::to_string(signal)), signal_(signal) {}
  int signal() const { return signal_; }

 private:
  int signal_;
};

}  // namespace punchlab::lab
