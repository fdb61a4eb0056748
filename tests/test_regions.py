from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wijkradar.regions import gemeente_of, is_valid_code, level_of, parents_of, parse_level, wijk_of


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("NL01", True),
        ("GM0034", True),
        ("WK003401", True),
        ("BU00340101", True),
        ("BU0363AA01", True),  # Amsterdam's 2022 alphanumeric codes
        ("GM34", False),
        ("BU003401", False),
        ("gm0034", False),
        ("XX0034", False),
        ("", False),
    ],
)
def test_code_validation(code: str, valid: bool) -> None:
    assert is_valid_code(code) is valid


def test_hierarchy_from_code() -> None:
    assert level_of("BU01530404") == "buurt"
    assert gemeente_of("BU01530404") == "GM0153"
    assert wijk_of("BU01530404") == "WK015304"
    assert parents_of("BU01530404") == ["NL01", "GM0153", "WK015304"]
    assert parents_of("GM0034") == ["NL01"]
    assert parents_of("NL01") == []


def test_parse_level_accepts_plurals_and_rejects_nonsense() -> None:
    assert parse_level("Buurten") == "buurt"
    with pytest.raises(ValueError, match="onbekend niveau"):
        parse_level("provincie")


@given(st.integers(0, 9999), st.integers(0, 99), st.integers(0, 99))
def test_buurt_parents_are_consistent(gm: int, wk: int, bu: int) -> None:
    code = f"BU{gm:04d}{wk:02d}{bu:02d}"
    assert is_valid_code(code)
    parent_gm, parent_wk = parents_of(code)[1:]
    assert parent_wk == wijk_of(code) and parent_wk.startswith("WK" + code[2:6])
    assert parent_gm == gemeente_of(parent_wk)
