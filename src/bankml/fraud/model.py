"""The fraud model: LightGBM with class-imbalance weighting and optional Platt calibration.

Follows the scikit-learn contract (``fit``/``predict_proba``/``predict``, ``random_state``,
no work in ``__init__``) so sklearn's tools apply. Training is deterministic: LightGBM runs
with ``deterministic=True`` on one thread with a fixed seed, so the same data, config and
seed give bit-identical predictions (the reproducibility gate retrains and compares).

On the hot path bankml skips the wrapper and calls ``score_row`` with a numpy row: the
LightGBM Booster on one thread, then two floats of calibration (see FIELD_NOTES: the sklearn
wrapper on a one-row DataFrame costs 1-12 ms; the Booster ~30 µs).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
from numpy.typing import ArrayLike, NDArray

from bankml.core.errors import InputError

__all__ = ["FraudModel"]

_BOOSTER_FILE = "booster.txt"
_META_FILE = "model.json"


class FraudModel:
    """Gradient-boosted fraud classifier with imbalance handling and optional calibration."""

    def __init__(
        self,
        *,
        n_estimators: int = 150,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 50,
        reg_lambda: float = 1.0,
        balance_classes: bool = True,
        calibrate: bool = True,
        calibration_fraction: float = 0.2,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.reg_lambda = reg_lambda
        self.balance_classes = balance_classes
        self.calibrate = calibrate
        self.calibration_fraction = calibration_fraction
        self.random_state = random_state

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor parameters (sklearn contract)."""
        return {
            "n_estimators": self.n_estimators,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "reg_lambda": self.reg_lambda,
            "balance_classes": self.balance_classes,
            "calibrate": self.calibrate,
            "calibration_fraction": self.calibration_fraction,
            "random_state": self.random_state,
        }

    def set_params(self, **params: Any) -> FraudModel:
        """Set constructor parameters (sklearn contract)."""
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def _lgb_params(self, pos_weight: float) -> dict[str, Any]:
        return {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "lambda_l2": self.reg_lambda,
            "scale_pos_weight": pos_weight,
            "seed": self.random_state,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": 1,
            "verbose": -1,
        }

    def fit(self, X: ArrayLike, y: ArrayLike, feature_names: list[str] | None = None) -> FraudModel:
        """Train on rows in time order; the last ``calibration_fraction`` calibrates.

        Rows must be in time order: the calibration slice is the most recent part of the
        training period, which is what the model will face next.
        """
        x = np.asarray(X, dtype=np.float64)
        t = np.asarray(y).astype(np.int8)
        if x.ndim != 2 or len(x) != len(t) or len(x) == 0:
            raise InputError("training data must be a non-empty 2-D array with one label per row")
        if t.min() == t.max():
            raise InputError("training data has only one class; widen the training period")
        n_cal = int(len(x) * self.calibration_fraction) if self.calibrate else 0
        fit_x, fit_y = (x[:-n_cal], t[:-n_cal]) if n_cal else (x, t)
        if fit_y.min() == fit_y.max():
            fit_x, fit_y, n_cal = x, t, 0
        pos = float(fit_y.sum())
        pos_weight = (len(fit_y) - pos) / pos if self.balance_classes else 1.0
        names = feature_names or [f"f{i}" for i in range(x.shape[1])]
        self.booster_ = lgb.train(
            self._lgb_params(pos_weight),
            lgb.Dataset(fit_x, fit_y, feature_name=names, free_raw_data=True),
            num_boost_round=self.n_estimators,
        )
        self.feature_names_in_ = np.asarray(names)
        self.n_features_in_ = x.shape[1]
        self.classes_ = np.array([0, 1])
        self.calibration_: tuple[float, float] = (1.0, 0.0)
        if n_cal and t[-n_cal:].min() != t[-n_cal:].max():
            self.calibration_ = _fit_platt(self._margin(x[-n_cal:]), t[-n_cal:])
        elif not self.calibrate and self.balance_classes:
            # Undo the prior shift of class weighting so scores stay probabilities.
            self.calibration_ = (1.0, -float(np.log(pos_weight)))
        return self

    def _margin(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(self.booster_.predict(x, raw_score=True, num_threads=1), np.float64)

    def predict_proba(self, X: ArrayLike) -> NDArray[np.float64]:
        """Calibrated probability of each class, shape (n, 2)."""
        a, b = self.calibration_
        p = 1.0 / (1.0 + np.exp(-(a * self._margin(np.asarray(X, dtype=np.float64)) + b)))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: ArrayLike, threshold: float = 0.5) -> NDArray[np.int8]:
        """1 where the fraud probability reaches ``threshold``."""
        return (self.predict_proba(X)[:, 1] >= threshold).astype(np.int8)

    def score_row(self, row: NDArray[np.float64]) -> float:
        """Fraud probability of one feature row: the serving hot path."""
        margin = float(self.booster_.predict(row.reshape(1, -1), raw_score=True, num_threads=1)[0])
        a, b = self.calibration_
        return 1.0 / (1.0 + float(np.exp(-(a * margin + b))))

    def contributions(self, X: ArrayLike) -> NDArray[np.float64]:
        """Exact per-feature contributions (TreeSHAP, log-odds) plus the bias as last column."""
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
        """Write the booster as LightGBM text plus a JSON of parameters and calibration."""
        directory.mkdir(parents=True, exist_ok=True)
        self.booster_.save_model(str(directory / _BOOSTER_FILE))
        meta = {
            "params": self.get_params(),
            "calibration": list(self.calibration_),
            "feature_names": [str(n) for n in self.feature_names_in_],
        }
        (directory / _META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True))

    @classmethod
    def load(cls, directory: Path) -> FraudModel:
        """Load a model written by ``save``."""
        try:
            meta = json.loads((directory / _META_FILE).read_text())
            booster = lgb.Booster(model_file=str(directory / _BOOSTER_FILE))
        except (OSError, ValueError, lgb.basic.LightGBMError) as exc:
            raise InputError(f"cannot load fraud model from {directory}: {exc}") from None
        model = cls(**meta["params"])
        model.booster_ = booster
        model.feature_names_in_ = np.asarray(meta["feature_names"])
        model.n_features_in_ = len(meta["feature_names"])
        model.classes_ = np.array([0, 1])
        a, b = meta["calibration"]
        model.calibration_ = (float(a), float(b))
        return model


def _fit_platt(margin: NDArray[np.float64], y: NDArray[np.int8]) -> tuple[float, float]:
    """Platt scaling: logistic regression of the label on the raw margin."""
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e6, max_iter=1000)
    lr.fit(margin.reshape(-1, 1), y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])
