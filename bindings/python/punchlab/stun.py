"""The STUN codec (RFC 5389/8489, 5780, 3489): Message.binding_request(),
Message.decode(bytes) (raises StunDecodeError), message.encode(),
looks_like_stun(). Endpoint is here too, as in punchlab.Endpoint."""

from ._native import core, reexport

reexport(globals(), core().stun)
Endpoint = core().Endpoint
__all__.append("Endpoint")  # noqa: F821 (defined by reexport)
