"""The one error analysis raises for bad input."""


class InputError(Exception):
    """A results or matrix directory that cannot be read.

    str() names the file (and the key or line) and says what is wrong, e.g.
    "out/results.json: pairs[0]: missing key 'a'"; `punchlab report` prints
    it as it is, without a traceback.
    """
