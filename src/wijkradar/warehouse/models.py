"""The models repository: trained risk models (metrics and card decoded from JSON) and their estimates."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from wijkradar.renamed import upgrade_keys
from wijkradar.warehouse.core import Part, now

PROGNOSES_SINCE = 6  # the schema version that added the prognoses table
PROGNOSIS_INPUTS_SINCE = 8  # ... and the one that added the periods each prognose read
PROGNOSIS_COLUMNS = ["region_code", "period", "estimate", "lower", "upper", "kerncijfers"]


class Models(Part):
    """Risk models and the estimates they made, one stored model per target."""

    def save(
        self, record: dict[str, Any], estimates: pd.DataFrame, prognoses: pd.DataFrame | None = None
    ) -> int:
        """Store a trained model, its estimates and prognoses, replacing an earlier one for the same target.

        ``record`` holds the target, ``algorithm``, ``artifact`` (text) and ``metrics`` and ``card``
        (dicts); each estimate's ``contributions`` is a list of dicts. Both are stored as JSON.
        ``prognoses`` has ``region_code``, ``period``, ``estimate``, ``lower``, ``upper`` and
        ``kerncijfers`` (the periods of the other tables it read, comma-separated) for years after
        the model's survey round.
        """
        key = [record["measure_id"], record["population_group"], record["level"], record["period"]]
        with self.wh.transaction():
            old = self.con.execute(
                "SELECT model_id FROM models WHERE measure_id = ? AND population_group = ? "
                "AND level = ? AND period = ?",
                key,
            ).fetchall()
            for (model_id,) in old:
                self.con.execute("DELETE FROM prognoses WHERE model_id = ?", [model_id])
                self.con.execute("DELETE FROM estimates WHERE model_id = ?", [model_id])
                self.con.execute("DELETE FROM models WHERE model_id = ?", [model_id])
            row = self.con.execute(
                "INSERT INTO models (measure_id, population_group, level, period, algorithm, created_at, "
                "metrics, card, artifact) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING model_id",
                [
                    *key,
                    record["algorithm"],
                    now(),
                    _json(record["metrics"]),
                    _json(record["card"]),
                    record["artifact"],
                ],
            ).fetchall()[0]
            assert row is not None  # noqa: S101
            model_id = int(row[0])
            frame = estimates.assign(  # noqa: F841  # used by name in SQL
                model_id=model_id, contributions=[_json(c) for c in estimates["contributions"]]
            )
            self.con.execute(
                "INSERT INTO estimates SELECT model_id, region_code, period, estimate, expected, lower, "
                "upper, survey, survey_lower, survey_upper, contributions FROM frame"
            )
            if prognoses is not None and len(prognoses):
                later = prognoses.assign(model_id=model_id)  # noqa: F841  # used by name in SQL
                self.con.execute(
                    "INSERT INTO prognoses SELECT model_id, period, region_code, estimate, lower, upper, "
                    "kerncijfers FROM later"
                )
        return model_id

    def get(
        self, measure_id: str, population_group: str, level: str, period: str | None = None
    ) -> dict[str, Any] | None:
        """Return the stored model for a target (the newest period unless one is named)."""
        clause = "AND period = ?" if period else ""
        params = [measure_id, population_group, level] + ([period] if period else [])
        return self._remember(
            ("model", measure_id, population_group, level, period),
            lambda: _decoded(
                self._one(
                    "SELECT * FROM models WHERE measure_id = ? AND population_group = ? AND level = ? "  # noqa: S608
                    f"{clause} ORDER BY period DESC, created_at DESC LIMIT 1",
                    params,
                )
            ),
        )

    def by_id(self, model_id: int) -> dict[str, Any] | None:
        """Return one stored model by id."""
        return _decoded(self._one("SELECT * FROM models WHERE model_id = ?", [model_id]))

    def table(self) -> pd.DataFrame:
        """Every stored model without its artifact (``metrics`` as dicts)."""
        frame = self._frame(
            "SELECT model_id, measure_id, population_group, level, period, algorithm, created_at, metrics "
            "FROM models ORDER BY measure_id, population_group, level, period"
        )
        frame["metrics"] = [_loads(m) for m in frame["metrics"]]
        return frame

    def estimates(self, model_id: int, region_codes: list[str] | None = None) -> pd.DataFrame:
        """Return a model's estimates (``contributions`` as lists), optionally for some regions only.

        A model's estimates are read and decoded once per data version; pages take their regions
        from that (the lists inside ``contributions`` are shared: read them, do not change them).
        """
        every = self._remember(("estimates", model_id), lambda: self._estimates(model_id), shared=True)
        if region_codes is None:
            return every.copy()
        return every[every["region_code"].isin(set(region_codes))].reset_index(drop=True)

    def forecasts(self, model_id: int, region_codes: list[str] | None = None) -> pd.DataFrame:
        """Return a model's prognoses by period and region.

        Columns: region_code, period, estimate, lower, upper and kerncijfers (the periods of the
        other tables the prognose read, comma-separated; empty for a model stored before that was kept).
        """
        every = self._remember(("prognoses", model_id), lambda: self._prognoses(model_id), shared=True)
        if region_codes is None:
            return every.copy()
        return every[every["region_code"].isin(set(region_codes))].reset_index(drop=True)

    def _prognoses(self, model_id: int) -> pd.DataFrame:
        version = self.wh.schema_version()
        if version < PROGNOSES_SINCE:  # a file read-only from before prognoses were kept
            return pd.DataFrame(columns=PROGNOSIS_COLUMNS)
        read = "kerncijfers" if version >= PROGNOSIS_INPUTS_SINCE else "'' AS kerncijfers"
        return self._frame(
            f"SELECT region_code, period, estimate, lower, upper, {read} FROM prognoses "  # noqa: S608
            "WHERE model_id = ? ORDER BY period, region_code",
            [model_id],
        )

    def _estimates(self, model_id: int) -> pd.DataFrame:
        frame = self._frame("SELECT * FROM estimates WHERE model_id = ? ORDER BY region_code", [model_id])
        frame["contributions"] = pd.Series([json.loads(c) for c in frame["contributions"]], dtype=object)
        return frame


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _decoded(stored: dict[str, Any] | None) -> dict[str, Any] | None:
    """Return a stored model with its metrics and card as dicts."""
    if stored is None:
        return None
    return {**stored, "metrics": _loads(stored["metrics"]), "card": _loads(stored["card"])}


def _loads(stored: str) -> Any:
    """Decode stored JSON, an older wijkradar's Dutch keys under their English names."""
    return upgrade_keys(json.loads(stored))
