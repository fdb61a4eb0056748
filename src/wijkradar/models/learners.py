"""The two model families: gradient boosting (LightGBM) and a regularised linear model (GLM).

Both fit on a feature frame with missing values, predict, give per-feature contributions (SHAP
values for LightGBM, coefficient x centred value for the GLM), and turn into a JSON-able artifact
that the warehouse stores, so scoring needs no pickles.
"""

from __future__ import annotations

import json
import warnings
from typing import Any, Protocol

import numpy as np
import pandas as pd


class Learner(Protocol):
    """What validation and scoring need from a model."""

    name: str
    columns: list[str]  # the features it reads, in its order

    def fit(self, X: pd.DataFrame, y: np.ndarray, weight: np.ndarray | None = None) -> Learner: ...  # noqa: D102

    def predict(self, X: pd.DataFrame) -> np.ndarray: ...  # noqa: D102

    def contributions(self, X: pd.DataFrame) -> np.ndarray: ...  # noqa: D102

    def artifact(self) -> str: ...  # noqa: D102


class GradientBoosting:
    """LightGBM regression with settings that suit a few thousand regions and many features."""

    name = "lightgbm"

    def __init__(
        self, n_rows: int, seed: int = 0, booster: Any = None, columns: list[str] | None = None
    ) -> None:
        small = n_rows < 1000
        self.params = {
            "objective": "regression",
            "learning_rate": 0.05,
            "max_bin": 63,
            "num_leaves": 15 if small else 31,
            "min_data_in_leaf": 10 if small else 20,
            "feature_fraction": 0.5,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "lambda_l2": 1.0,
            "seed": seed,
            "num_threads": 2,
            "verbose": -1,
            "deterministic": True,
        }
        self.rounds = 300 if small else 450
        self.booster = booster
        self.columns = columns or []

    def fit(self, X: pd.DataFrame, y: np.ndarray, weight: np.ndarray | None = None) -> GradientBoosting:
        """Train on the rows given (each counting as much as its weight)."""
        import lightgbm as lgb  # heavy import, only when training

        self.columns = list(X.columns)
        data = lgb.Dataset(
            X.to_numpy(dtype=float),
            label=y,
            weight=weight,
            feature_name=_safe(self.columns),
            free_raw_data=True,
        )
        self.booster = lgb.train(self.params, data, num_boost_round=self.rounds)
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Predict for the rows given."""
        return np.asarray(self.booster.predict(X[self.columns].to_numpy(dtype=float)))

    def contributions(self, X: pd.DataFrame) -> np.ndarray:
        """SHAP values per feature, with the expected value in the last column."""
        return np.asarray(self.booster.predict(X[self.columns].to_numpy(dtype=float), pred_contrib=True))

    def artifact(self) -> str:
        """Serialise the booster in LightGBM's text format, with the column names."""
        return json.dumps(
            {"kind": self.name, "columns": self.columns, "model": self.booster.model_to_string()}
        )

    @classmethod
    def load(cls, payload: dict[str, Any]) -> GradientBoosting:
        """Rebuild from :meth:`artifact`."""
        import lightgbm as lgb

        booster = lgb.Booster(model_str=payload["model"])
        return cls(n_rows=0, booster=booster, columns=list(payload["columns"]))


class RidgeGLM:
    """Ridge regression on standardised features, missing values imputed by the median plus indicators."""

    name = "glm"

    def __init__(self) -> None:
        self.columns: list[str] = []
        self.medians = np.empty(0)
        self.means = np.empty(0)
        self.scales = np.empty(0)
        self.coef = np.empty(0)
        self.intercept = 0.0
        self.alpha = 1.0

    def _design(self, X: pd.DataFrame) -> np.ndarray:
        values = X[self.columns].to_numpy(dtype=float)
        missing = np.isnan(values)
        filled = np.where(missing, self.medians, values)
        return np.hstack([filled, missing.astype(float)])

    def fit(self, X: pd.DataFrame, y: np.ndarray, weight: np.ndarray | None = None) -> RidgeGLM:
        """Choose the penalty by internal cross-validation and fit (rows counting as their weight)."""
        from sklearn.linear_model import RidgeCV

        self.columns = list(X.columns)
        values = X.to_numpy(dtype=float)
        with warnings.catch_warnings():
            # a feature without any value in this fold: its median is NaN and becomes 0 below
            warnings.simplefilter("ignore", RuntimeWarning)
            medians = np.nanmedian(values, axis=0)
        self.medians = np.where(np.isnan(medians), 0.0, medians)
        design = self._design(X)
        self.means = design.mean(axis=0)
        scales = design.std(axis=0)
        self.scales = np.where(scales > 0, scales, 1.0)
        model = RidgeCV(alphas=np.logspace(-2, 4, 25)).fit(
            (design - self.means) / self.scales, y, sample_weight=weight
        )
        self.coef = np.asarray(model.coef_, dtype=float)
        self.intercept = float(model.intercept_)
        self.alpha = float(model.alpha_)
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Predict for the rows given."""
        return ((self._design(X) - self.means) / self.scales) @ self.coef + self.intercept

    def contributions(self, X: pd.DataFrame) -> np.ndarray:
        """Coefficient x standardised value per feature (indicator terms folded in), expected value last."""
        parts = ((self._design(X) - self.means) / self.scales) * self.coef
        n = len(self.columns)
        per_feature = parts[:, :n] + parts[:, n:]
        return np.hstack([per_feature, np.full((len(X), 1), self.intercept)])

    def artifact(self) -> str:
        """Serialise the fitted parameters as JSON."""
        return json.dumps(
            {
                "kind": self.name,
                "columns": self.columns,
                "medians": self.medians.tolist(),
                "means": self.means.tolist(),
                "scales": self.scales.tolist(),
                "coef": self.coef.tolist(),
                "intercept": self.intercept,
                "alpha": self.alpha,
            }
        )

    @classmethod
    def load(cls, payload: dict[str, Any]) -> RidgeGLM:
        """Rebuild from :meth:`artifact`."""
        model = cls()
        model.columns = list(payload["columns"])
        for key in ("medians", "means", "scales", "coef"):
            setattr(model, key, np.asarray(payload[key], dtype=float))
        model.intercept = float(payload["intercept"])
        model.alpha = float(payload["alpha"])
        return model


class BottomUp:
    """A wijk or gemeente model stored with the buurt model its estimates are mixed with.

    How the two are mixed is :mod:`wijkradar.models.bottomup`'s business; this only keeps them.
    """

    name = "bottom_up"

    def __init__(self, own: Learner, buurten: Learner) -> None:
        self.own = own
        self.buurten = buurten

    def artifact(self) -> str:
        """Serialise both models as JSON."""
        return json.dumps(
            {"kind": self.name, "own": self.own.artifact(), "buurt_model": self.buurten.artifact()}
        )


def load_learner(artifact: str) -> Learner | BottomUp:
    """Rebuild a stored model."""
    payload = json.loads(artifact)
    if payload["kind"] in (BottomUp.name, "opbouw"):  # "opbouw" and "buurten": stored before 0.3
        own = load_learner(payload["own"])
        buurten = load_learner(payload["buurt_model"] if "buurt_model" in payload else payload["buurten"])
        if isinstance(own, BottomUp) or isinstance(buurten, BottomUp):
            raise ValueError("a mixed model holds two plain models")
        return BottomUp(own, buurten)
    if payload["kind"] == GradientBoosting.name:
        return GradientBoosting.load(payload)
    return RidgeGLM.load(payload)


def _safe(columns: list[str]) -> list[str]:
    """LightGBM refuses some characters in feature names; number them instead."""
    return [f"f{i}" for i in range(len(columns))]


class PreviousRound:
    """The baseline: last round's value of the target (else its wijk's, else its gemeente's), rescaled."""

    name = "vorige-peiling"

    def __init__(self, target_feature: str) -> None:
        self.sources = [target_feature, f"wk:{target_feature}", f"gm:{target_feature}"]
        self.columns = list(self.sources)
        self.fill = 0.0
        self.slope = 1.0
        self.offset = 0.0

    def _raw(self, X: pd.DataFrame) -> np.ndarray:
        value = np.full(len(X), np.nan)
        for column in self.sources:
            if column in X.columns:
                value = np.where(np.isnan(value), X[column].to_numpy(dtype=float), value)
        return value

    def _value(self, X: pd.DataFrame) -> np.ndarray:
        value = self._raw(X)
        return np.where(np.isnan(value), self.fill, value)

    def usable(self, X: pd.DataFrame) -> bool:
        """Tell whether last round's value is there at all (a measure new in this round has none)."""
        return any(c in X.columns and X[c].notna().any() for c in self.sources)

    def fit(self, X: pd.DataFrame, y: np.ndarray, weight: np.ndarray | None = None) -> PreviousRound:
        """Least squares of the target on last round's value (its mean when that value never varies).

        Unweighted: the baseline is the plain yardstick the models are compared with.
        """
        raw = self._raw(X)
        self.fill = float(np.nanmean(raw)) if np.isfinite(raw).any() else float(np.mean(y))
        x = self._value(X)
        if np.ptp(x) == 0:  # nothing to fit a line through: the baseline is the mean
            self.slope, self.offset = 0.0, float(np.mean(y))
            return self
        self.slope, self.offset = (float(v) for v in np.polyfit(x, y, 1))
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Rescaled previous value."""
        return self.slope * self._value(X) + self.offset

    def contributions(self, X: pd.DataFrame) -> np.ndarray:
        """Not used for explanations."""
        raise NotImplementedError

    def artifact(self) -> str:
        """Not stored."""
        raise NotImplementedError
