"""Disco, Tailscale's hole-punching messages: Ping, Pong, CallMeMaybe,
encode_message()/decode_message() for the plaintext and Sealer for the
boxed packets between disco keys (raises DiscoError when a packet would be
dropped)."""

from ._native import core, reexport

reexport(globals(), core().disco)
