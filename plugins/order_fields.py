"""What the boundary models share to check their fields: errors naming a field, numbers
written as people write them, the positive finite number."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from pydantic_core import PydanticCustomError


def invalid_field(field: str, message: str) -> PydanticCustomError:
    """A validation error about one field, found by cross-field checks; `ctx` names the field."""
    template = message.replace("{", "(").replace("}", ")")
    return PydanticCustomError("invalid_order", template, {"field": field})


def number_text(number: float) -> str:
    """A number as people write it: 0.00001, not 1e-05; 5, not 5.0."""
    text = f"{number:.12f}".rstrip("0").rstrip(".")
    return text or "0"


PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
