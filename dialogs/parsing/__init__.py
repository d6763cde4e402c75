"""Understanding what a worker types during registration.

Pure, synchronous functions: each parser takes the raw chat text and returns a clean value, or
raises :class:`~dialogs.parsing.errors.ParseError` whose ``hint`` is a friendly Chinese re-prompt.
"""

from dialogs.parsing.errors import ParseError

__all__ = ["ParseError"]
