"""Money, prices and balances: plain values, no I/O.

Amounts are integers in ten-thousandths of the gateway's currency unit (`1.44` is 14_400), so sums
and comparisons are exact on every database. A price list prices one message *part* by the
recipient's number: the longest matching number prefix wins, then the operator's name (as number
intelligence names it) within a country, then the country, then the `*` default row. A loaded
list that prices nothing for a number refuses it (errors.Unpriced); with no list at all every
message costs 0.

The CSV an admin loads (header required; `,` or `;` separated; `#` lines are comments):

    country,prefix,operator,price
    RU,,,2.00            every Russian number
    RU,,MegaFon,1.80     MegaFon's numbers (the operator's name as `smsgate numbers` shows it)
    RU,7916,,1.50        numbers starting +7916
    *,,,5.00             anywhere else
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Final

from smsgate.core import errors

SCALE: Final = 10_000  # units per currency unit
MAX_AMOUNT: Final = 10**15  # 100 billion currency units: more than any balance or price
MAX_PRICES: Final = 100_000  # rows in one price list
ANYWHERE: Final = "*"

_AMOUNT: Final = re.compile(r"[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)")
_PREFIX: Final = re.compile(r"\+?[0-9]{1,15}")


def amount(text: str | int | float | Decimal, *, what: str = "the amount") -> int:
    """`"1.44"`, `"1,44"`, `2`, `Decimal("0.0001")` -> units; raises errors.BadParameter."""
    if isinstance(text, bool):
        raise errors.BadParameter(f"{what} is a number, not {str(text).lower()}")
    if isinstance(text, str):
        stripped = text.strip()
        if len(stripped) > 24 or not _AMOUNT.fullmatch(stripped):
            raise errors.BadParameter(f"{what} {stripped[:24]!r} is not an amount like 1.44")
        value = Decimal(stripped.replace(",", "."))
    else:
        try:
            value = Decimal(str(text))
        except InvalidOperation:
            raise errors.BadParameter(f"{what} is not an amount") from None
    if not value.is_finite():
        raise errors.BadParameter(f"{what} is not an amount")
    units = int((value * SCALE).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if abs(units) > MAX_AMOUNT:
        raise errors.BadParameter(f"{what} {value} is out of range")
    return units


def shown(units: int, *, places: int = 2) -> str:
    """Units as text with at least `places` decimals (more when the amount has them): `1.44`."""
    value = Decimal(units) / SCALE
    text = f"{value:.4f}".rstrip("0")
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(places, '0')}" if places or fraction else whole


def decimal(units: int) -> Decimal:
    return Decimal(units) / SCALE


@dataclass(frozen=True, slots=True, kw_only=True)
class Price:
    """What one message part costs to numbers this row matches."""

    country: str  # ISO 3166 alpha-2, or "*" (anywhere)
    prefix: str = ""  # digits of the E.164 number, country code first ("7916"); "" = any
    operator: str = ""  # the operator's name as number intelligence gives it; "" = any
    per_part: int  # units

    @property
    def kind(self) -> str:
        if self.prefix:
            return "prefix"
        if self.operator:
            return "operator"
        return "country" if self.country != ANYWHERE else "default"


class PriceList:
    """Looks a number's price up; built once per loaded list, read on every send."""

    def __init__(self, prices: Iterable[Price] = ()) -> None:
        self.prices: tuple[Price, ...] = tuple(prices)
        self._prefixes: dict[str, Price] = {}
        self._operators: dict[tuple[str, str], Price] = {}
        self._countries: dict[str, Price] = {}
        for price in self.prices:
            if price.prefix:
                self._prefixes[price.prefix] = price
            elif price.operator:
                self._operators[(price.country, price.operator.casefold())] = price
            else:
                self._countries[price.country] = price
        self._longest = max((len(p) for p in self._prefixes), default=0)

    def __bool__(self) -> bool:
        return bool(self.prices)

    def find(self, e164: str, country: str | None, operator: str | None) -> Price | None:
        """The row that prices this number, or None."""
        digits = e164.lstrip("+")
        for size in range(min(self._longest, len(digits)), 0, -1):
            found = self._prefixes.get(digits[:size])
            if found is not None:
                return found
        if operator:
            key = operator.casefold()
            found = self._operators.get((country or "", key)) or self._operators.get(
                (ANYWHERE, key)
            )
            if found is not None:
                return found
        return self._countries.get(country or "") or self._countries.get(ANYWHERE)

    def per_part(self, e164: str, country: str | None, operator: str | None) -> int:
        """Units per part: 0 with no list; raises errors.Unpriced when the list has no row."""
        if not self.prices:
            return 0
        found = self.find(e164, country, operator)
        if found is None:
            raise errors.Unpriced(f"the price list has no price for {e164}")
        return found.per_part


@dataclass(frozen=True, slots=True, kw_only=True)
class Balance:
    """What an account may still spend. No Balance at all means unlimited."""

    amount: int  # units; may go down to -credit
    credit: int = 0  # units the account may owe

    @property
    def available(self) -> int:
        return self.amount + self.credit


@dataclass(frozen=True, slots=True, kw_only=True)
class Quote:
    """What a send would cost: per recipient, and in all."""

    parts: int  # parts of one message
    costs: tuple[tuple[str, int], ...]  # (E.164, units) per recipient

    @property
    def total(self) -> int:
        return sum(c for _, c in self.costs)


# --- the CSV an admin loads -----------------------------------------------------------------------

HEADER: Final = ("country", "prefix", "operator", "price")


def parse_csv(text: str) -> list[Price]:
    """The rows of a price list; raises errors.BadParameter naming the line of the first problem."""
    lines = [
        line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise errors.BadParameter("the price list is empty (a header and rows are needed)")
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter)
    header = [h.strip().lower().lstrip("\ufeff") for h in next(reader)]
    missing = [h for h in ("country", "price") if h not in header]
    if missing:
        raise errors.BadParameter(
            f"the price list's header needs {', '.join(missing)} (columns: {', '.join(HEADER)})"
        )
    where: dict[str, int] = {name: header.index(name) for name in HEADER if name in header}
    prices: dict[tuple[str, str, str], Price] = {}
    for number, row in enumerate(reader, start=2):
        if len(prices) >= MAX_PRICES:
            raise errors.BadParameter(f"a price list holds at most {MAX_PRICES} rows")
        price = _row(row, where, number)
        prices[(price.country, price.prefix, price.operator.casefold())] = price
    return list(prices.values())


def _cell(row: Sequence[str], where: dict[str, int], name: str) -> str:
    index = where.get(name)
    return row[index].strip() if index is not None and index < len(row) else ""


def _row(row: Sequence[str], where: dict[str, int], line: int) -> Price:
    country = _cell(row, where, "country").upper() or ANYWHERE
    if country != ANYWHERE and not re.fullmatch(r"[A-Z]{2}", country):
        raise errors.BadParameter(
            f"line {line}: the country {country!r} is not a 2-letter code or *"
        )
    prefix = _cell(row, where, "prefix")
    if prefix and not _PREFIX.fullmatch(prefix):
        raise errors.BadParameter(f"line {line}: the prefix {prefix!r} is not digits")
    operator = _cell(row, where, "operator")
    if len(operator) > 100:
        raise errors.BadParameter(f"line {line}: the operator's name is over 100 characters")
    raw = _cell(row, where, "price")
    if not raw:
        raise errors.BadParameter(f"line {line}: the price is missing")
    try:
        per_part = amount(raw, what="the price")
    except errors.BadParameter as exc:
        raise errors.BadParameter(f"line {line}: {exc.detail}") from None
    if per_part < 0:
        raise errors.BadParameter(f"line {line}: a price cannot be negative")
    return Price(country=country, prefix=prefix.lstrip("+"), operator=operator, per_part=per_part)


def to_csv(prices: Sequence[Price]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for p in prices:
        writer.writerow((p.country, p.prefix, p.operator, shown(p.per_part)))
    return out.getvalue()
