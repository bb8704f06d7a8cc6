"""Prices, amounts and the price list's CSV: pure."""

from __future__ import annotations

import pytest

from smsgate.core import billing, errors, numbers, segments

CSV = """country,prefix,operator,price
# a comment
RU,,,2.00
RU,,MegaFon,1.75
RU,7903,,1.10
*,,,5
"""


def test_amounts_are_exact_and_shown_with_two_places_at_least() -> None:
    assert billing.amount("1.44") == 14_400
    assert billing.amount("1,5") == 15_000
    assert billing.amount(" 2 ") == 20_000
    assert billing.amount("0.0001") == 1
    assert billing.shown(14_400) == "1.44"
    assert billing.shown(20_000) == "2.00"
    assert billing.shown(12_345) == "1.2345"
    assert billing.shown(-5_000) == "-0.50"
    for bad in ("", "abc", "1.2.3", "1e5", "nan", "9" * 30):
        with pytest.raises(errors.BadParameter):
            billing.amount(bad)


def test_the_longest_prefix_then_the_operator_then_the_country_then_the_default() -> None:
    prices = billing.PriceList(billing.parse_csv(CSV))
    assert prices.per_part("+79031234567", "RU", "Beeline") == 11_000  # prefix
    assert prices.per_part("+79261234567", "RU", "MegaFon") == 17_500  # operator
    assert prices.per_part("+79521234567", "RU", "T2") == 20_000  # country
    assert prices.per_part("+380501234567", "UA", "Vodafone") == 50_000  # default


def test_no_list_costs_nothing_and_a_list_without_a_row_refuses() -> None:
    assert billing.PriceList().per_part("+79031234567", "RU", "") == 0
    only_ru = billing.PriceList(billing.parse_csv("country,price\nRU,1\n"))
    with pytest.raises(errors.Unpriced):
        only_ru.per_part("+380501234567", "UA", "")


def test_semicolons_and_a_byte_order_mark_are_read() -> None:
    found = billing.parse_csv("\ufeffcountry;operator;price\nRU;MTS;1,20\n")
    assert found == [billing.Price(country="RU", operator="MTS", per_part=12_000)]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty"),
        ("prefix,operator\n7,x\n", "country, price"),
        ("country,price\nRUS,1\n", "line 2"),
        ("country,prefix,price\nRU,79a,1\n", "line 2"),
        ("country,price\nRU,\n", "price is missing"),
        ("country,price\nRU,-1\n", "negative"),
        ("country,price\nRU,1\nUA,x\n", "line 3"),
    ],
)
def test_a_bad_price_list_names_its_problem(text: str, says: str) -> None:
    with pytest.raises(errors.BadParameter) as caught:
        billing.parse_csv(text)
    assert says in caught.value.detail


def test_the_csv_round_trips() -> None:
    found = billing.parse_csv(CSV)
    assert billing.parse_csv(billing.to_csv(found)) == found


def test_a_two_part_cyrillic_message_to_megafon() -> None:
    text = "Здравствуйте! Ваш заказ №1234 собран и ждёт вас в пункте выдачи до пятницы."
    assert segments.measure(text).segments == 2
    info = numbers.intelligence("+79261234567")
    assert (info.country, info.operator, info.kind, info.mccmnc) == (
        "RU",
        "MegaFon",
        "mobile",
        "25002",
    )
    prices = billing.PriceList(billing.parse_csv(CSV))
    assert prices.per_part("+79261234567", info.country, info.operator) * 2 == billing.amount(
        "3.50"
    )


def test_number_intelligence_where_phonenumbers_knows_it() -> None:
    moscow = numbers.intelligence("+74951234567")
    assert (moscow.kind, moscow.region, moscow.operator, moscow.mccmnc) == (
        "fixed_line",
        "Moscow",
        "",
        "250",
    )
    kyiv = numbers.intelligence("+380501234567")
    assert (kyiv.country, kyiv.operator, kyiv.mcc, kyiv.mnc) == ("UA", "Vodafone", "255", "01")
    assert numbers.country_name("RU", "ru") == "Россия"
