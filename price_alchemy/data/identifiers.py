"""Table and dataset names that go into SQL: only plain identifiers are accepted, so a name from
the settings can be quoted into a statement without escaping."""

import re

from price_alchemy.errors import ConfigurationError

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,1023}$")


def check_identifier(value: str, what: str) -> str:
    """`value` if it is a plain SQL identifier, else a ConfigurationError naming the setting."""
    if not IDENTIFIER.match(value):
        raise ConfigurationError(f"invalid {what} {value!r}: use letters, digits and underscores")
    return value
