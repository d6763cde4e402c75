"""The one error every parser raises."""

from __future__ import annotations


class ParseError(ValueError):
    """The text could not be understood.

    ``hint`` is shown to the person as it is: a short, friendly Chinese sentence saying exactly
    what to type, usually with an example.
    """

    def __init__(self, hint: str) -> None:
        super().__init__(hint)
        self.hint = hint
