"""Text encoding and segment count: GSM-7 160/153 (extension characters count twice), UCS-2 70/67."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from smsgate.core import errors

GSM7_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION: Final = frozenset("^{}\\[~]|€\f")

GSM7: Final = "gsm7"
UCS2: Final = "ucs2"

MAX_SEGMENTS: Final = 255  # the concatenation header counts parts in one byte


@dataclass(frozen=True, slots=True)
class Encoded:
    encoding: str
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def _costs(text: str) -> tuple[str, list[int]]:
    costs: list[int] = []
    for ch in text:
        if ch in GSM7_BASIC:
            costs.append(1)
        elif ch in GSM7_EXTENSION:
            costs.append(2)  # escape + character, never split across parts
        else:
            return UCS2, [2 if ord(c) > 0xFFFF else 1 for c in text]  # surrogate pairs stay whole
    return GSM7, costs


def _parts(costs: list[int], part_size: int) -> int:
    parts, used = 1, 0
    for cost in costs:
        if used + cost > part_size:
            parts, used = parts + 1, 0
        used += cost
    return parts


def measure(text: str) -> Encoded:
    encoding, costs = _costs(text)
    units = sum(costs)
    single, part = (160, 153) if encoding == GSM7 else (70, 67)
    return Encoded(encoding, units, 1 if units <= single else _parts(costs, part))


def checked(text: str | None) -> tuple[str, Encoded]:
    """The text as it will be sent, measured; raises for an empty or over-long text."""
    if text is None or not text.strip():
        raise errors.EmptyText("the message text is empty")
    encoded = measure(text)
    if encoded.segments > MAX_SEGMENTS:
        raise errors.TextTooLong(
            f"the text needs {encoded.segments} parts; at most {MAX_SEGMENTS} can be joined"
        )
    return text, encoded
