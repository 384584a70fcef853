"""Typed results that cross a process boundary (an Airflow XCom, the CLI's `--json`) as plain
JSON-ready dicts: `to_dict` on the way out, `from_dict` on the way in, so stages hand each other
dataclasses and only the boundary sees dicts."""

from dataclasses import asdict, fields
from typing import Self


class Record:
    """A dataclass mixin: the record as a dict of its fields, and back."""

    def to_dict(self) -> dict:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, data: dict) -> Self:
        """The record from `to_dict`'s output (keys that are not fields are ignored)."""
        names = {field.name for field in fields(cls)}  # type: ignore[arg-type]
        return cls(**{key: value for key, value in data.items() if key in names})
