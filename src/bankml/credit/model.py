"""The PD model: LightGBM with monotone constraints, then a Platt or isotonic calibration.

Follows the scikit-learn contract (``fit``/``predict_proba``, ``random_state``, no work in
``__init__``). Training is deterministic (one thread, fixed seed, ``deterministic=True``), so
the reproducibility gate can retrain and compare bit for bit.

Categorical features are coded as the index of their value in the sorted list of values seen
in training (stored with the model); an unseen value is missing (NaN), which LightGBM routes
like a missing value. Monotone constraints apply to the numeric features the config declares
(``+1`` riskier when larger, ``-1`` safer when larger). The calibration maps the booster's
raw margin to a probability of default; both Platt (logistic) and isotonic maps are
non-decreasing, so the monotone directions survive calibration.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from bankml.core.errors import InputError

__all__ = ["CreditModel", "encode_frame"]

_BOOSTER_FILE = "booster.txt"
_META_FILE = "model.json"


def encode_frame(
    frame: pd.DataFrame,
    numeric: Sequence[str],
    categorical: Sequence[str],
    categories: Mapping[str, Sequence[str]],
) -> NDArray[np.float64]:
    """Model matrix of a frame: numeric columns as floats, categoricals as category codes."""
    cols = [pd.to_numeric(frame[n], errors="coerce").to_numpy(np.float64) for n in numeric]
    for c in categorical:
        lookup = {v: float(i) for i, v in enumerate(categories[c])}
        cols.append(
            np.array([lookup.get(str(v), np.nan) if v is not None else np.nan for v in frame[c]])
        )
    return np.column_stack(cols) if cols else np.empty((len(frame), 0))


class CreditModel:
    """Monotone gradient-boosted PD model with a fitted calibration map."""

    def __init__(
        self,
        *,
        n_estimators: int = 200,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 40,
        calibration: str = "platt",
        calibration_fraction: float = 0.2,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.calibration = calibration
        self.calibration_fraction = calibration_fraction
        self.random_state = random_state

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor parameters (sklearn contract)."""
        return {
            "n_estimators": self.n_estimators,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "calibration": self.calibration,
            "calibration_fraction": self.calibration_fraction,
            "random_state": self.random_state,
        }

    def set_params(self, **params: Any) -> CreditModel:
        """Set constructor parameters (sklearn contract)."""
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        *,
        feature_names: Sequence[str],
        categorical: Sequence[str] = (),
        monotone: Mapping[str, int] | None = None,
        categories: Mapping[str, Sequence[str]] | None = None,
    ) -> CreditModel:
        """Fit the booster on one part of the rows and the calibration on the rest.

        The calibration rows are a seeded, stratified sample, so both classes are in both.
        """
        from sklearn.model_selection import train_test_split

        x = np.asarray(X, dtype=np.float64)
        t = np.asarray(y).astype(np.int8)
        if x.ndim != 2 or len(x) != len(t) or len(x) == 0:
            raise InputError("training data must be a non-empty 2-D array with one label per row")
        if t.min() == t.max():
            raise InputError("the target has only one class; a PD model needs both outcomes")
        names = list(feature_names)
        idx = np.arange(len(x))
        fit_idx, cal_idx = train_test_split(
            idx,
            test_size=self.calibration_fraction,
            stratify=t,
            random_state=self.random_state,
        )
        fit_idx, cal_idx = np.sort(fit_idx), np.sort(cal_idx)
        mono = monotone or {}
        params = {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "monotone_constraints": [int(mono.get(n, 0)) for n in names],
            "monotone_constraints_method": "advanced",
            "seed": self.random_state,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": 1,
            "verbose": -1,
            "min_data_per_group": 20,
            "cat_smooth": 10.0,
        }
        cat_idx = [names.index(c) for c in categorical]
        self.booster_ = lgb.train(
            params,
            lgb.Dataset(
                x[fit_idx],
                t[fit_idx],
                feature_name=names,
                categorical_feature=cat_idx or "auto",
                free_raw_data=True,
            ),
            num_boost_round=self.n_estimators,
        )
        self.feature_names_in_ = np.asarray(names)
        self.n_features_in_ = x.shape[1]
        self.classes_ = np.array([0, 1])
        self.categorical_ = list(categorical)
        self.categories_ = {k: list(v) for k, v in (categories or {}).items()}
        self.monotone_ = {k: int(v) for k, v in mono.items()}
        margin = self.margin(x[cal_idx])
        self.calibration_ = _fit_calibration(self.calibration, margin, t[cal_idx])
        return self

    def margin(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """The booster's raw log-odds of default."""
        return np.asarray(self.booster_.predict(x, raw_score=True, num_threads=1), np.float64)

    def calibrate(self, margin: NDArray[np.float64]) -> NDArray[np.float64]:
        """Map raw margins to calibrated probabilities of default."""
        cal = self.calibration_
        if cal["method"] == "platt":
            a, b = float(cal["a"]), float(cal["b"])
            return np.asarray(1.0 / (1.0 + np.exp(-(a * margin + b))), np.float64)
        return np.asarray(np.interp(margin, cal["x"], cal["y"]), np.float64)

    def predict_pd(self, X: ArrayLike) -> NDArray[np.float64]:
        """Calibrated probability of default per row."""
        return self.calibrate(self.margin(np.asarray(X, dtype=np.float64)))

    def predict_proba(self, X: ArrayLike) -> NDArray[np.float64]:
        """Probability of each class (good, default), shape (n, 2)."""
        p = self.predict_pd(X)
        return np.column_stack([1.0 - p, p])

    def predict(self, X: ArrayLike, threshold: float = 0.5) -> NDArray[np.int8]:
        """1 where the PD reaches ``threshold``."""
        return (self.predict_pd(X) >= threshold).astype(np.int8)

    def pd_row(self, row: NDArray[np.float64]) -> float:
        """PD of one encoded row: the serving hot path (Booster, one thread)."""
        return float(self.calibrate(self.margin(row.reshape(1, -1)))[0])

    def contributions(self, X: ArrayLike) -> NDArray[np.float64]:
        """Exact TreeSHAP contributions to the raw margin, bias as the last column."""
        out = self.booster_.predict(
            np.asarray(X, dtype=np.float64), pred_contrib=True, num_threads=1
        )
        return np.asarray(out, np.float64)

    def feature_importance(self) -> dict[str, float]:
        """Total gain per feature, normalised to sum to 1."""
        gains = self.booster_.feature_importance(importance_type="gain")
        total = float(gains.sum()) or 1.0
        return {n: float(g) / total for n, g in zip(self.feature_names_in_, gains, strict=True)}

    def save(self, directory: Path) -> None:
        """The booster as LightGBM text, plus a JSON of parameters, categories, calibration."""
        directory.mkdir(parents=True, exist_ok=True)
        self.booster_.save_model(str(directory / _BOOSTER_FILE))
        meta = {
            "params": self.get_params(),
            "calibration": self.calibration_,
            "feature_names": [str(n) for n in self.feature_names_in_],
            "categorical": self.categorical_,
            "categories": self.categories_,
            "monotone": self.monotone_,
        }
        (directory / _META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True))

    @classmethod
    def load(cls, directory: Path) -> CreditModel:
        """Load a model written by ``save``."""
        try:
            meta = json.loads((directory / _META_FILE).read_text())
            booster = lgb.Booster(model_file=str(directory / _BOOSTER_FILE))
        except (OSError, ValueError, lgb.basic.LightGBMError) as exc:
            raise InputError(f"cannot load credit model from {directory}: {exc}") from None
        model = cls(**meta["params"])
        model.booster_ = booster
        model.feature_names_in_ = np.asarray(meta["feature_names"])
        model.n_features_in_ = len(meta["feature_names"])
        model.classes_ = np.array([0, 1])
        model.categorical_ = list(meta["categorical"])
        model.categories_ = {k: list(v) for k, v in meta["categories"].items()}
        model.monotone_ = {k: int(v) for k, v in meta["monotone"].items()}
        model.calibration_ = meta["calibration"]
        return model


def _fit_calibration(
    method: str, margin: NDArray[np.float64], y: NDArray[np.int8]
) -> dict[str, Any]:
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(out_of_bounds="clip", y_min=1e-6, y_max=1 - 1e-6)
        iso.fit(margin, y)
        return {
            "method": "isotonic",
            "x": [float(v) for v in iso.X_thresholds_],
            "y": [float(v) for v in iso.y_thresholds_],
        }
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e6, max_iter=1000)
    lr.fit(margin.reshape(-1, 1), y)
    return {"method": "platt", "a": float(lr.coef_[0, 0]), "b": float(lr.intercept_[0])}
