"""NAT behaviour: RFC 4787 knobs as enums (Dependence, PortAssignment, Pooling,
Refresh, Protocol), NatConfig (dataclass-like; NatConfig.parse("symmetric,
hairpin=on") reads a SPEC), the presets (presets(), preset("cgnat")) and
FirewallConfig / PortRule. Durations are float seconds in *_s attributes."""

from ._native import core, reexport

reexport(globals(), core().nat)
