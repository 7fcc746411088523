"""Curve25519 keys for the three roles -- Node, Disco, Machine -- as
<Role>PrivateKey.generate(rng=None) / <Role>PublicKey.parse(text), and the
random sources: DeterministicRandom(seed) for reproducible scripts,
SystemRandom() (the default) for real keys."""

from ._native import core

_c = core()
RandomSource = _c.RandomSource
DeterministicRandom = _c.DeterministicRandom
SystemRandom = _c.SystemRandom
NodePrivateKey, NodePublicKey = _c.NodePrivateKey, _c.NodePublicKey
DiscoPrivateKey, DiscoPublicKey = _c.DiscoPrivateKey, _c.DiscoPublicKey
MachinePrivateKey, MachinePublicKey = _c.MachinePrivateKey, _c.MachinePublicKey

__all__ = ["RandomSource", "DeterministicRandom", "SystemRandom", "NodePrivateKey",
           "NodePublicKey", "DiscoPrivateKey", "DiscoPublicKey", "MachinePrivateKey",
           "MachinePublicKey"]
