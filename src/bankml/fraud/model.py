"""The fraud model: one scoring contract over several model families, with calibration.

Families (``family``):

* ``gbdt``: LightGBM gradient-boosted trees (the default);
* ``rf``: a random forest, trained by LightGBM's ``rf`` boosting (bagged, feature-sampled
  trees averaged), so it is served, explained (TreeSHAP) and replayed by the same Booster;
* ``extra_trees``: LightGBM trees with random split thresholds (``extra_trees=True``);
* ``logistic``: L2-regularised logistic regression on standardised features (missing values
  at the training median), exact per-feature contributions ``coef * z``.

Follows the scikit-learn contract (``fit``/``predict_proba``/``predict``, ``random_state``,
no work in ``__init__``) so sklearn's tools apply. Training is deterministic: LightGBM runs
with ``deterministic=True`` on one thread with a fixed seed, and the logistic regression's
solver (lbfgs) is deterministic, so the same data, config and seed give bit-identical
predictions (the reproducibility gate retrains and compares).

Calibration (``calibration``), Platt scaling of the raw margin:

* ``holdout``: the model is fitted on the first ``1 - calibration_fraction`` of the training
  rows, Platt on the rest (the last slice never trains the model);
* ``refit``: the same fit-then-Platt on the slice, then the model is refitted on *all* rows
  and keeps the slice's Platt parameters (no training data lost to calibration);
* ``none``: no Platt; the class-weighting prior shift is undone so scores stay probabilities.
  A random forest's raw output is an average of leaf values, not log-odds, so ``rf`` is
  always Platt-calibrated (``none`` acts as ``refit``); it is also trained unweighted
  (weighting the rare class made its bagged trees rank worse on the synthetic bank).

On the hot path bankml skips the wrapper and calls ``score_row`` with a numpy row: the
LightGBM Booster on one thread (or one dot product), then two floats of calibration (see
FIELD_NOTES: the sklearn wrapper on a one-row DataFrame costs 1-12 ms; the Booster ~30 µs).
"""

from __future__ import annotations

import ctypes
import json
import queue
import weakref
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
from numpy.typing import ArrayLike, NDArray

from bankml.core.errors import InputError

__all__ = ["CALIBRATIONS", "FAMILIES", "FraudModel"]

_BOOSTER_FILE = "booster.txt"
_LINEAR_FILE = "linear.json"
_META_FILE = "model.json"

FAMILIES: tuple[str, ...] = ("gbdt", "rf", "extra_trees", "logistic")
"""Model families bankml can train, serve, explain and replay."""
CALIBRATIONS: tuple[str, ...] = ("holdout", "refit", "none")
"""Calibration methods (see the module docstring)."""
_TREE_FAMILIES = frozenset({"gbdt", "rf", "extra_trees"})


# LightGBM's C API prediction types (c_api.h) and its float64 data type.
_PREDICT_RAW_SCORE, _PREDICT_CONTRIB, _DTYPE_FLOAT64 = 1, 3, 1


def _free_fast_configs(handles: list[ctypes.c_void_p], booster: lgb.Booster) -> None:
    # A FastConfig holds a shared lock on its booster: free them all before the booster goes
    # (the booster argument keeps it alive until this has run).
    from lightgbm import basic, libpath

    for handle in handles:
        basic._safe_call(libpath._LIB.LGBM_FastConfigFree(handle))
    handles.clear()
    del booster


class _FastRowPredictor:
    """One row at a time through LightGBM's single-row C API (``FastConfig``): the serving path.

    ``Booster.predict`` on one row builds a new predictor and checks its input in Python on
    every call: ~50 µs for a raw score against ~17 µs here, measured on the champion, with
    bit-identical results (a test holds it). A ``FastConfig`` keeps per-call buffers, so
    concurrent callers must not share one: each call takes a handle from a pool (making one
    when all are busy, so the pool grows to the number of scoring threads) and gives it back.
    ctypes releases the GIL for the call, as ``Booster.predict`` does.
    """

    def __init__(self, booster: lgb.Booster, predict_type: int) -> None:
        from lightgbm import basic, libpath  # the C library lightgbm itself calls through

        self._lib, self._c_str, self._safe_call = libpath._LIB, basic._c_str, basic._safe_call
        self._booster = booster
        self._type = predict_type
        self._ncol = booster.num_feature()
        self._out_len = self._ncol + 1 if predict_type == _PREDICT_CONTRIB else 1
        self._idle: queue.SimpleQueue[ctypes.c_void_p] = queue.SimpleQueue()
        self._handles: list[ctypes.c_void_p] = []
        weakref.finalize(self, _free_fast_configs, self._handles, booster)

    def _new_handle(self) -> ctypes.c_void_p:
        handle = ctypes.c_void_p()
        self._safe_call(
            self._lib.LGBM_BoosterPredictForMatSingleRowFastInit(
                self._booster._handle,
                ctypes.c_int(self._type),
                ctypes.c_int(0),  # start iteration
                ctypes.c_int(-1),  # every iteration
                ctypes.c_int(_DTYPE_FLOAT64),
                ctypes.c_int32(self._ncol),
                self._c_str("num_threads=1"),  # one row: threads would only add overhead
                ctypes.byref(handle),
            )
        )
        self._handles.append(handle)  # list.append is atomic under the GIL
        return handle

    def __call__(self, row: NDArray[np.float64]) -> NDArray[np.float64]:
        """The prediction for one row of ``num_feature`` float64 values."""
        x = np.ascontiguousarray(row, dtype=np.float64).reshape(-1)
        if x.shape[0] != self._ncol:
            raise InputError(f"a row of {x.shape[0]} values for a model of {self._ncol} features")
        out = np.empty(self._out_len, dtype=np.float64)
        n = ctypes.c_int64()
        try:
            handle = self._idle.get_nowait()
        except queue.Empty:
            handle = self._new_handle()
        try:
            self._safe_call(
                self._lib.LGBM_BoosterPredictForMatSingleRowFast(
                    handle,
                    x.ctypes.data_as(ctypes.c_void_p),
                    ctypes.byref(n),
                    out.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
                )
            )
        finally:
            self._idle.put(handle)
        return out


class FraudModel:
    """Fraud classifier of one family, with imbalance handling and optional calibration."""

    def __init__(
        self,
        *,
        family: str = "gbdt",
        n_estimators: int = 150,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 50,
        feature_fraction: float = 1.0,
        reg_lambda: float = 1.0,
        balance_classes: bool = True,
        calibrate: bool = True,
        calibration: str = "holdout",
        calibration_fraction: float = 0.2,
        random_state: int = 0,
    ) -> None:
        self.family = family
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.feature_fraction = feature_fraction
        self.reg_lambda = reg_lambda
        self.balance_classes = balance_classes
        self.calibrate = calibrate
        self.calibration = calibration
        self.calibration_fraction = calibration_fraction
        self.random_state = random_state

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor parameters (sklearn contract)."""
        return {
            "family": self.family,
            "n_estimators": self.n_estimators,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "feature_fraction": self.feature_fraction,
            "reg_lambda": self.reg_lambda,
            "balance_classes": self.balance_classes,
            "calibrate": self.calibrate,
            "calibration": self.calibration,
            "calibration_fraction": self.calibration_fraction,
            "random_state": self.random_state,
        }

    def set_params(self, **params: Any) -> FraudModel:
        """Set constructor parameters (sklearn contract)."""
        for key, value in params.items():
            setattr(self, key, value)
        return self

    @property
    def calibration_method(self) -> str:
        """The calibration applied (``calibrate=False`` means ``none``; ``rf`` never ``none``)."""
        method = self.calibration if self.calibrate else "none"
        return "refit" if method == "none" and self.family == "rf" else method

    def _lgb_params(self, pos_weight: float) -> dict[str, Any]:
        params: dict[str, Any] = {
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
        if self.feature_fraction < 1.0:
            params["feature_fraction"] = self.feature_fraction
        if self.family == "rf":
            # A random forest: each tree on a bootstrap-sized bag of rows, averaged.
            params.update(
                boosting="rf",
                bagging_fraction=0.632,
                bagging_freq=1,
                feature_fraction=min(self.feature_fraction, 0.7),
            )
        elif self.family == "extra_trees":
            params["extra_trees"] = True
        return params

    def _check(self) -> None:
        if self.family not in FAMILIES:
            raise InputError(f"model family {self.family!r} is not one of {', '.join(FAMILIES)}")
        if self.calibration not in CALIBRATIONS:
            raise InputError(
                f"calibration {self.calibration!r} is not one of {', '.join(CALIBRATIONS)}"
            )

    def _fit_core(
        self,
        x: NDArray[np.float64],
        t: NDArray[np.int8],
        names: list[str],
        w: NDArray[np.float64] | None = None,
    ) -> float:
        """Fit the family's model on (x, t[, row weights w]); returns the positive-class weight.

        With row weights the classes are balanced on their weighted totals.
        """
        pos = float(t.sum()) if w is None else float(w[t == 1].sum())
        neg = float(len(t) - t.sum()) if w is None else float(w[t == 0].sum())
        weighted = self.balance_classes and self.family != "rf"
        pos_weight = neg / pos if weighted else 1.0
        if self.family in _TREE_FAMILIES:
            params, row_w = self._lgb_params(pos_weight), w
            if w is not None:
                # LightGBM's scale_pos_weight together with row weights gave margins in the
                # thousands (a degenerate model, measured on the synthetic bank); the class
                # weight folded into the row weights is the same objective and fits normally.
                params["scale_pos_weight"] = 1.0
                row_w = np.where(t == 1, w * pos_weight, w)
            self.booster_: lgb.Booster | None = lgb.train(
                params,
                lgb.Dataset(x, t, weight=row_w, feature_name=names, free_raw_data=True),
                num_boost_round=self.n_estimators,
            )
            self.linear_: dict[str, NDArray[np.float64]] | None = None
        else:
            self.booster_ = None
            self.linear_ = _fit_logistic(x, t, self.reg_lambda, pos_weight, w)
        return pos_weight

    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        feature_names: list[str] | None = None,
        sample_weight: ArrayLike | None = None,
    ) -> FraudModel:
        """Train on rows in time order; the last ``calibration_fraction`` calibrates.

        Rows must be in time order: the calibration slice is the most recent part of the
        training period, which is what the model will face next. ``sample_weight`` weighs
        rows in the model's fit (classes are balanced on weighted totals); Platt scaling and
        the prior-shift undo count rows unweighted, so scores stay per-transaction
        probabilities.
        """
        self._check()
        x = np.asarray(X, dtype=np.float64)
        t = np.asarray(y).astype(np.int8)
        if x.ndim != 2 or len(x) != len(t) or len(x) == 0:
            raise InputError("training data must be a non-empty 2-D array with one label per row")
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        if w is not None and (w.shape != t.shape or not np.all(w > 0)):
            raise InputError("sample_weight needs one positive weight per training row")
        if t.min() == t.max():
            raise InputError("training data has only one class; widen the training period")
        method = self.calibration_method
        names = feature_names or [f"f{i}" for i in range(x.shape[1])]
        n_cal = int(len(x) * self.calibration_fraction) if method != "none" else 0
        if n_cal and (t[:-n_cal].min() == t[:-n_cal].max() or t[-n_cal:].min() == t[-n_cal:].max()):
            n_cal = 0  # a slice with one class can neither train nor calibrate
        self.feature_names_in_ = np.asarray(names)
        self.n_features_in_ = x.shape[1]
        self.classes_ = np.array([0, 1])
        self.calibration_: tuple[float, float] = (1.0, 0.0)
        if n_cal:
            self._fit_core(x[:-n_cal], t[:-n_cal], names, None if w is None else w[:-n_cal])
            self.calibration_ = _fit_platt(self._margin(x[-n_cal:]), t[-n_cal:])
            if method == "refit":
                self._fit_core(x, t, names, w)
            return self
        self._fit_core(x, t, names, w)
        if method == "none" and self.balance_classes and self.family != "rf":
            # Undo the prior shift of class balancing so scores stay probabilities. Balancing
            # makes the weighted classes equal, so the shift is the *unweighted* odds of the
            # data (with row weights too, to first order): log(legitimate / fraud rows).
            pos = float(t.sum())
            self.calibration_ = (1.0, -float(np.log((len(t) - pos) / pos)))
        return self

    def margin(self, X: ArrayLike) -> NDArray[np.float64]:
        """Raw (uncalibrated) log-odds of each row."""
        return self._margin(np.asarray(X, dtype=np.float64))

    def _margin(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        if self.booster_ is not None:
            return np.asarray(self.booster_.predict(x, raw_score=True, num_threads=1), np.float64)
        lin = self._lin()
        z = _standardise(x, lin)
        return np.asarray(z @ lin["coef"] + lin["intercept"][0], np.float64)

    def _lin(self) -> dict[str, NDArray[np.float64]]:
        if self.linear_ is None:
            raise InputError("the model is not a linear model")
        return self.linear_

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
        if self.booster_ is not None:
            margin = float(self._fast(_PREDICT_RAW_SCORE)(row)[0])
        else:
            lin = self._lin()
            z = _standardise(row.reshape(1, -1), lin)[0]
            margin = float(z @ lin["coef"] + lin["intercept"][0])
        a, b = self.calibration_
        return 1.0 / (1.0 + float(np.exp(-(a * margin + b))))

    def _fast(self, predict_type: int) -> _FastRowPredictor:
        """The single-row predictor of ``predict_type`` for the current booster (made once)."""
        cache: dict[int, _FastRowPredictor] = self.__dict__.setdefault("_fast_predictors", {})
        predictor = cache.get(predict_type)
        if predictor is None or predictor._booster is not self.booster_:
            assert self.booster_ is not None
            predictor = cache[predict_type] = _FastRowPredictor(self.booster_, predict_type)
        return predictor

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the C handles of the single-row predictors (Spark ships the model)."""
        state = dict(self.__dict__)
        state.pop("_fast_predictors", None)
        return state

    def contributions(self, X: ArrayLike) -> NDArray[np.float64]:
        """Exact per-feature contributions (log-odds) plus the bias as last column.

        Trees: TreeSHAP. Logistic regression: ``coef * z`` per feature, the intercept as bias.
        Either way a row's contributions plus bias equal its raw margin.
        """
        x = np.asarray(X, dtype=np.float64)
        if self.booster_ is not None:
            if x.ndim == 2 and x.shape[0] == 1:  # a live decision: the single-row path
                return self._fast(_PREDICT_CONTRIB)(x[0]).reshape(1, -1)
            out = self.booster_.predict(x, pred_contrib=True, num_threads=1)
            return np.asarray(out, np.float64)
        lin = self._lin()
        z = _standardise(x, lin)
        bias = np.full((len(x), 1), lin["intercept"][0])
        return np.hstack([z * lin["coef"], bias])

    def feature_importance(self) -> dict[str, float]:
        """Share of importance per feature (trees: total gain; logistic: |coef|), sums to 1."""
        if self.booster_ is not None:
            gains = np.asarray(self.booster_.feature_importance(importance_type="gain"), float)
        else:
            gains = np.abs(self._lin()["coef"])
        total = float(gains.sum()) or 1.0
        return {n: float(g) / total for n, g in zip(self.feature_names_in_, gains, strict=True)}

    def save(self, directory: Path) -> None:
        """Write the model (LightGBM text, or the linear coefficients) plus a JSON of
        parameters and calibration."""
        directory.mkdir(parents=True, exist_ok=True)
        if self.booster_ is not None:
            self.booster_.save_model(str(directory / _BOOSTER_FILE))
        else:
            # repr of a float64 round-trips exactly, so a reloaded model scores bit for bit.
            lin = {k: [float(v) for v in arr] for k, arr in self._lin().items()}
            (directory / _LINEAR_FILE).write_text(json.dumps(lin, indent=2, sort_keys=True))
        meta = {
            "params": self.get_params(),
            "calibration": list(self.calibration_),
            "feature_names": [str(n) for n in self.feature_names_in_],
        }
        (directory / _META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True))

    @classmethod
    def load(cls, directory: Path) -> FraudModel:
        """Load a model written by ``save`` (older models without a family are ``gbdt``)."""
        try:
            meta = json.loads((directory / _META_FILE).read_text())
            model = cls(**meta["params"])
            if model.family in _TREE_FAMILIES:
                model.booster_ = lgb.Booster(model_file=str(directory / _BOOSTER_FILE))
                model.linear_ = None
            else:
                raw = json.loads((directory / _LINEAR_FILE).read_text())
                model.booster_ = None
                model.linear_ = {k: np.asarray(v, np.float64) for k, v in raw.items()}
        except (OSError, ValueError, TypeError, KeyError, lgb.basic.LightGBMError) as exc:
            raise InputError(f"cannot load fraud model from {directory}: {exc}") from None
        model.feature_names_in_ = np.asarray(meta["feature_names"])
        model.n_features_in_ = len(meta["feature_names"])
        model.classes_ = np.array([0, 1])
        a, b = meta["calibration"]
        model.calibration_ = (float(a), float(b))
        return model


def _standardise(
    x: NDArray[np.float64], lin: dict[str, NDArray[np.float64]]
) -> NDArray[np.float64]:
    """Signed log1p, then centre/scale; missing values sit at the training median (z = 0)."""
    z = (np.sign(x) * np.log1p(np.abs(x)) - lin["center"]) / lin["scale"]
    return np.where(np.isnan(z), 0.0, z)


def _fit_logistic(
    x: NDArray[np.float64],
    t: NDArray[np.int8],
    reg_lambda: float,
    pos_weight: float,
    w: NDArray[np.float64] | None = None,
) -> dict[str, NDArray[np.float64]]:
    """L2 logistic regression (lbfgs, deterministic) on log-compressed standardised features."""
    from sklearn.linear_model import LogisticRegression

    logx = np.sign(x) * np.log1p(np.abs(x))
    center = np.nanmedian(logx, axis=0)
    scale = np.nanstd(logx, axis=0)
    center = np.where(np.isnan(center), 0.0, center)
    scale = np.where(np.isnan(scale) | (scale == 0), 1.0, scale)
    lin = {"center": center, "scale": scale}
    z = _standardise(x, lin)
    lr = LogisticRegression(C=1.0 / max(reg_lambda, 1e-6), max_iter=500)
    weights = np.where(t == 1, pos_weight, 1.0) * (1.0 if w is None else w)
    lr.fit(z, t, sample_weight=weights)
    lin["coef"] = np.asarray(lr.coef_[0], np.float64)
    lin["intercept"] = np.asarray(lr.intercept_, np.float64)
    return lin


def _fit_platt(margin: NDArray[np.float64], y: NDArray[np.int8]) -> tuple[float, float]:
    """Platt scaling: logistic regression of the label on the raw margin."""
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e6, max_iter=1000)
    lr.fit(margin.reshape(-1, 1), y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])
