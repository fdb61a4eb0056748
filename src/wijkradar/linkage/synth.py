"""A synthetic population for testing scale and correctness — never for conclusions.

Persons and households per buurt are calibrated on the real Kerncijfers marginals in the warehouse
(inhabitants, age bands, households, household size); provisions (Wmo, Jeugdwet, bijstand, other)
are drawn at rates near the national ones, with a shared household risk so that support stacks in
some households as it does in reality. Limits, stated plainly: ages within a household are
independent draws (a one-person household can be a child), there is no migration, no spatial
correlation beyond the buurt, and the rates are national averages, not local ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from wijkradar.regions import level_mask

# Approximate national shares (CBS Monitor Sociaal Domein, order of magnitude): persons with a Wmo
# provision by age, young people with youth care, households on bijstand.
WMO_RATE = {"0-17": 0.005, "18-64": 0.03, "65+": 0.20}
JEUGD_RATE = 0.10  # of persons under 18
BIJSTAND_RATE = 0.045  # of persons 18-66
OTHER_RATE = 0.02
HOUSEHOLD_RISK_SIGMA = 0.9  # lognormal spread of the shared household risk


@dataclass(frozen=True)
class Marginals:
    """Per buurt: inhabitants, households and age shares."""

    frame: (
        pd.DataFrame
    )  # index buurt code; columns persons, households, p_0_14, p_15_24, p_25_44, p_45_64, p_65


def marginals_from_observations(obs: pd.DataFrame) -> Marginals:
    """Build buurt marginals from Kerncijfers observations (a_inw, a_hh, a_00_14, a_25_44, a_65_oo)."""
    needed = ["a_inw", "a_hh", "a_00_14", "a_25_44", "a_65_oo"]
    buurt = obs[level_mask(obs["region_code"], "buurt") & obs["measure_id"].isin(needed)]
    wide = buurt.pivot_table(index="region_code", columns="measure_id", values="value", aggfunc="last")
    wide = wide.reindex(columns=needed).dropna()
    wide = wide[(wide["a_inw"] > 0) & (wide["a_hh"] > 0)]
    persons = wide["a_inw"]
    frame = pd.DataFrame(
        {
            "persons": persons.round().astype(int),
            "households": np.maximum(np.minimum(wide["a_hh"], persons).round(), 1).astype(int),
            "p_0_14": (wide["a_00_14"] / persons).clip(0, 1),
            "p_25_44": (wide["a_25_44"] / persons).clip(0, 1),
            "p_65": (wide["a_65_oo"] / persons).clip(0, 1),
        }
    )
    rest = (1 - frame["p_0_14"] - frame["p_25_44"] - frame["p_65"]).clip(lower=0)
    frame["p_15_24"] = rest * 0.35  # the remaining 15-24 and 45-64 split as nationally (~35/65)
    frame["p_45_64"] = rest * 0.65
    frame.index = frame.index.astype(str)
    return Marginals(frame)


def generate(
    marginals: Marginals,
    out_dir: Path,
    *,
    period: int = 2023,
    seed: int = 0,
    scale_to: int | None = None,
    chunk_buurten: int = 2000,
) -> tuple[Path, Path, dict[str, int]]:
    """Write persons.parquet and provisions.parquet (raw local ids, as a gemeente would have them).

    ``scale_to`` multiplies every buurt so that the total is about that many persons (for the
    national 18 million). Buurten are generated in chunks, so memory stays flat at any scale.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    frame = marginals.frame
    factor = (scale_to / frame["persons"].sum()) if scale_to else 1.0
    rng = np.random.default_rng(seed)
    persons_path, provisions_path = out_dir / "persons.parquet", out_dir / "provisions.parquet"
    person_writer = provision_writer = None
    next_person = 100_000_000
    next_household = 1
    counts = {"persons": 0, "households": 0, "provisions": 0}
    try:
        for start in range(0, len(frame), chunk_buurten):
            part = frame.iloc[start : start + chunk_buurten]
            persons, provisions, next_person, next_household = _chunk(
                part, rng, factor, period, next_person, next_household
            )
            if person_writer is None:
                person_writer = pq.ParquetWriter(persons_path, persons.schema)
                provision_writer = pq.ParquetWriter(provisions_path, provisions.schema)
            person_writer.write_table(persons)
            assert provision_writer is not None  # noqa: S101
            provision_writer.write_table(provisions)
            counts["persons"] += persons.num_rows
            counts["provisions"] += provisions.num_rows
        counts["households"] = next_household - 1
    finally:
        if person_writer is not None:
            person_writer.close()
        if provision_writer is not None:
            provision_writer.close()
    return persons_path, provisions_path, counts


def _chunk(
    part: pd.DataFrame,
    rng: np.random.Generator,
    factor: float,
    period: int,
    next_person: int,
    next_household: int,
) -> tuple[pa.Table, pa.Table, int, int]:
    n_persons = np.maximum((part["persons"].to_numpy() * factor).round().astype(int), 1)
    n_households = np.clip((part["households"].to_numpy() * factor).round().astype(int), 1, n_persons)
    buurt_of_person = np.repeat(part.index.to_numpy(), n_persons)
    # Household of each person: every household gets one person, the rest are spread so that the
    # mean size matches the buurt's.
    household_local = np.concatenate(
        [
            np.concatenate([np.arange(h), rng.integers(0, h, size=p - h)])
            for p, h in zip(n_persons, n_households, strict=True)
        ]
    )
    offsets = np.repeat(np.cumsum(np.concatenate([[0], n_households[:-1]])), n_persons)
    household = next_household + offsets + household_local
    total = int(n_persons.sum())
    # Age band per person from the buurt's shares.
    shares = part[["p_0_14", "p_15_24", "p_25_44", "p_45_64", "p_65"]].to_numpy()
    shares = shares / shares.sum(axis=1, keepdims=True)
    cumulative = np.repeat(np.cumsum(shares, axis=1), n_persons, axis=0)
    band = (rng.random(total)[:, None] > cumulative).sum(axis=1).clip(0, 4)
    low = np.array([0, 15, 25, 45, 65])[band]
    high = np.array([15, 25, 45, 65, 100])[band]
    age = rng.integers(low, high)
    person_id = np.arange(next_person, next_person + total)
    persons = pa.table(
        {
            "person_id": pa.array(person_id.astype(str)),
            "household_id": pa.array(np.char.add("HH", household.astype(str))),
            "birth_year": pa.array((period - age).astype(np.int32)),
            "sex": pa.array(np.where(rng.random(total) < 0.5, "M", "V")),
            "buurt_code": pa.array(buurt_of_person.astype(str)),
            "period": pa.array(np.full(total, period, dtype=np.int32)),
        }
    )
    # Provisions with a shared household risk, so that support stacks.
    risk = rng.lognormal(
        -(HOUSEHOLD_RISK_SIGMA**2) / 2, HOUSEHOLD_RISK_SIGMA, size=int(household.max() - next_household + 1)
    )
    r = risk[household - next_household]
    wmo_rate = np.where(age < 18, WMO_RATE["0-17"], np.where(age < 65, WMO_RATE["18-64"], WMO_RATE["65+"]))
    draws = {
        "wmo": rng.random(total) < np.minimum(wmo_rate * r, 0.95),
        "jeugd": (age < 18) & (rng.random(total) < np.minimum(JEUGD_RATE * r, 0.95)),
        "bijstand": (age >= 18) & (age < 67) & (rng.random(total) < np.minimum(BIJSTAND_RATE * r, 0.95)),
        "other": rng.random(total) < np.minimum(OTHER_RATE * r, 0.95),
    }
    ids, kinds = [], []
    for kind, hit in draws.items():
        ids.append(person_id[hit])
        kinds.append(np.full(int(hit.sum()), kind))
    pid = np.concatenate(ids)
    kind_arr = np.concatenate(kinds)
    n = len(pid)
    year_start = np.datetime64(f"{period}-01-01")
    # Starts from five years before until the end of the period; a third has ended, some before the period.
    start = year_start - rng.integers(-364, 5 * 365, size=n).astype("timedelta64[D]")
    ended = rng.random(n) < 0.33
    end = start + rng.integers(30, 3 * 365, size=n).astype("timedelta64[D]")
    provisions = pa.table(
        {
            "person_id": pa.array(pid.astype(str)),
            "kind": pa.array(kind_arr),
            "start": pa.array(start.astype("datetime64[D]")),
            "end": pa.array(np.where(ended, end, np.datetime64("NaT")).astype("datetime64[D]")),
        }
    )
    return persons, provisions, next_person + total, int(household.max()) + 1
