"""Mobile country and network codes (MCC/MNC, ITU-T E.212) where they can be known offline.

phonenumbers names a number's country and its original operator, not its codes: the country's
MCC is listed here for most countries; the MNC only for operators listed below (by the name
phonenumbers gives them), mostly those of the former USSR. Numbers ported to another operator
keep their original operator's codes: no lookup here can see a port.
"""

from __future__ import annotations

from typing import Final

MCC: Final[dict[str, str]] = {
    "RU": "250", "UA": "255", "BY": "257", "MD": "259", "KZ": "401", "UZ": "434", "KG": "437",
    "TJ": "436", "TM": "438", "AM": "283", "AZ": "400", "GE": "282", "LV": "247", "LT": "246",
    "EE": "248", "FI": "244", "SE": "240", "NO": "242", "DK": "238", "DE": "262", "FR": "208",
    "GB": "234", "IE": "272", "NL": "204", "BE": "206", "LU": "270", "CH": "228", "AT": "232",
    "IT": "222", "ES": "214", "PT": "268", "PL": "260", "CZ": "230", "SK": "231", "HU": "216",
    "RO": "226", "BG": "284", "GR": "202", "CY": "280", "TR": "286", "RS": "220", "HR": "219",
    "SI": "293", "IL": "425", "AE": "424", "SA": "420", "EG": "602", "ZA": "655", "IN": "404",
    "CN": "460", "JP": "440", "KR": "450", "TH": "520", "VN": "452", "ID": "510", "MY": "502",
    "SG": "525", "PH": "515", "MN": "428", "US": "310", "CA": "302", "MX": "334", "BR": "724",
    "AR": "722", "CL": "730", "AU": "505", "NZ": "530",
}  # fmt: skip

# (region, operator name as phonenumbers gives it) -> MNC
MNC: Final[dict[tuple[str, str], str]] = {
    ("RU", "MTS"): "01", ("RU", "MegaFon"): "02", ("RU", "Beeline"): "99", ("RU", "T2"): "20",
    ("RU", "Tele2"): "20", ("RU", "Yota"): "11", ("RU", "Motiv"): "35",
    ("UA", "Vodafone"): "01", ("UA", "Kyivstar"): "03", ("UA", "lifecell"): "06",
    ("BY", "Velcom"): "01", ("BY", "MTS"): "02", ("BY", "life:)"): "04",
    ("KZ", "Beeline"): "01", ("KZ", "Kcell/Activ"): "02", ("KZ", "T2"): "77",
    ("UZ", "Beeline"): "04", ("UZ", "Ucell"): "05", ("UZ", "MobiUZ"): "07",
}  # fmt: skip


def codes(region: str | None, operator: str | None) -> tuple[str | None, str | None]:
    """(MCC, MNC) as far as known: the MCC of the country, the MNC of a listed operator."""
    if not region:
        return None, None
    mcc = MCC.get(region)
    mnc = MNC.get((region, operator)) if operator and mcc else None
    return mcc, mnc
