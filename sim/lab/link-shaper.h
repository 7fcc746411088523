// Link properties for a lab veth pair, one direction at a time: delay and
// jitter (tc netem), a rate (netem's own, or tbf when the kernel has no
// netem), random loss and "the link is down" (an nftables netdev ingress
// chain at the receiving end).
//
// Why loss and down live in nftables rather than netem: they then work on
// kernels without sch_netem (this lab's CI kernel has none), and a link that
// is down stays configured — `ip link set down` would also delete the routes
// through it. A direction a->b is delayed and rate-limited as it leaves a
// (egress qdisc on a's interface) and thinned or cut as it enters b (ingress
// hook on b's interface), so each packet is shaped exactly once per crossing.
//
// Without netem, delay and jitter cannot be applied: Apply() skips them and
// says so (ShapeResult), and the caller turns that into a note.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "lab/netns-lab.h"
#include "link/link-model.h"
#include "punchlab/time.h"

namespace punchlab::lab {

// One direction of a link: the link model's (link/include/link/link-model.h).
using LinkShape = link::Shape;

struct LinkEnd {
  Namespace ns;
  std::string ifname;
};

// What the kernel could not do for one Apply().
struct ShapeResult {
  bool delay_skipped = false;   // delay or jitter asked for, no netem
};

// The tc command that gives `ifname` (in namespace `ns_full`) the egress side
// of `shape`: "replace ... root netem delay ...", "replace ... root tbf ..."
// without netem, or "del ... root" when nothing is left to shape (only
// meaningful when a qdisc was installed before). Empty: nothing to install.
std::vector<std::string> EgressCommand(const std::string& ns_full, const std::string& ifname,
                                       const LinkShape& shape, bool netem, bool installed);
// The nft input that gives `ifname` the ingress side of `shape` (loss, down)
// in its own table, replacing what that table held; or deletes the table when
// there is nothing to do. Empty when nothing was installed and nothing is needed.
std::string IngressRuleset(const std::string& ifname, const LinkShape& shape, bool installed);
// The table IngressRuleset uses for `ifname`.
std::string IngressTable(const std::string& ifname);

// Whether tc can make a netem qdisc here (probed once on ns's loopback).
bool NetemAvailable(const Namespace& ns);

// A veth pair between a and b whose two directions are shaped independently.
// Remembers what it installed, so Set() only changes what changed.
class ShapedLink {
 public:
  ShapedLink(LinkEnd a, LinkEnd b) : a_(std::move(a)), b_(std::move(b)) {}

  // a_to_b: delayed at a's egress, lost at b's ingress; b_to_a the other way.
  ShapeResult Set(const LinkShape& a_to_b, const LinkShape& b_to_a, bool netem);

  const LinkEnd& a() const { return a_; }
  const LinkEnd& b() const { return b_; }
  const LinkShape& a_to_b() const { return a_to_b_; }
  const LinkShape& b_to_a() const { return b_to_a_; }

 private:
  struct EndState {
    bool qdisc = false;
    bool table = false;
  };
  ShapeResult ApplyDirection(const LinkEnd& from, EndState& from_state, const LinkEnd& to,
                             EndState& to_state, const LinkShape& shape, bool netem);

  LinkEnd a_;
  LinkEnd b_;
  LinkShape a_to_b_;
  LinkShape b_to_a_;
  EndState a_state_;
  EndState b_state_;
};

}  // namespace punchlab::lab
