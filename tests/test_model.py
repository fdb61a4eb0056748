from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wijkradar.errors import InputError
from wijkradar.sources.model import normalise_period, parse_values, split_camel, year_from_path


def test_cbs_symbols_become_flags_never_numbers() -> None:
    raw = pd.Series(["  48.2", ".", "x", "-", "?", "", None, "-99999999", "-99995", "0"])
    values, status = parse_values(raw, file="f.csv", column="Eenzaam_28", first_row=2)
    assert status.tolist() == [
        "published",
        "missing",
        "suppressed",
        "nil",
        "unreliable",
        "missing",
        "missing",
        "missing",
        "missing",
        "published",
    ]
    assert values[0] == 48.2 and values[-1] == 0.0
    assert np.isnan(values[1:9]).all()


def test_numeric_columns_with_sentinels() -> None:
    values, status = parse_values(pd.Series([1.5, -99999997.0, np.nan]), file="f", column="c", first_row=2)
    assert status.tolist() == ["published", "missing", "missing"]
    assert values[0] == 1.5


def test_text_in_numeric_cell_names_file_row_column_value() -> None:
    with pytest.raises(InputError) as info:
        parse_values(pd.Series(["1.0", "2.0", "veel"]), file="kwb.csv", column="a_inw", first_row=2)
    message = str(info.value)
    assert "kwb.csv" in message and "rij 4" in message and "'a_inw'" in message and "'veel'" in message
    assert "Oplossing" in message


@pytest.mark.parametrize("word", ["nan", "inf", "-Infinity", "NaN"])
def test_words_a_number_parser_reads_are_text_here(word: str) -> None:
    """Arrow's cast reads these as numbers; in a CBS table they are text, and refused as such."""
    with pytest.raises(InputError) as info:
        parse_values(pd.Series(["1.5", "x", word, "2"]), file="f.csv", column="c", first_row=2)
    assert "rij 4" in str(info.value) and f"'{word}'" in str(info.value)


def test_every_form_of_a_plain_number_is_read() -> None:
    values, status = parse_values(
        pd.Series(["1e3", "+2", ".5", "1.", "-0.25", " 7 "]), file="f", column="c", first_row=2
    )
    assert values.tolist() == [1000.0, 2.0, 0.5, 1.0, -0.25, 7.0]
    assert set(status) == {"published"}


def test_decimal_comma() -> None:
    values, _ = parse_values(
        pd.Series(["48,2", "1.234,5"]), file="f", column="c", first_row=2, decimal_comma=True
    )
    assert values.tolist() == [48.2, 1234.5]


def test_period_and_label_helpers() -> None:
    assert normalise_period("2020JJ00") == "2020"
    assert normalise_period("2021KW02") == "2021-K2"
    assert year_from_path(["cbs-kwb-buurten-2017", "kwb2017_buurten.csv"]) == 2017
    assert year_from_path(["data", "buurten.csv"]) is None
    assert split_camel("ErnstigZeerErnstigEenzaam_29") == "Ernstig zeer ernstig eenzaam"
