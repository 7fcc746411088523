// Internal to the loader: the passes over a scenario file's sections. Each
// reads what it can, reports every problem to the Reader and leaves the
// model filled with whatever was valid, so later passes can still check
// names (a node with a bad key is still a node).
#pragma once

#include "scenario/scenario.h"
#include "scenario/yaml-reader.h"

namespace punchlab {
namespace scenario {

// internet, derp, control, defaults, nats, firewalls, nodes; resolves every
// `behind` into a chain. Needs s.stop_time.
void ReadTopology(Reader& r, const Fields& top, Scenario& s);

// traffic, events, expect, checked against the topology in `s`.
void ReadActivity(Reader& r, const Fields& top, Scenario& s);

SourcePos PositionOf(const YAML::Mark& mark);

}  // namespace scenario
}  // namespace punchlab
