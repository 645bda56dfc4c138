"""Training a credit model: on the synthetic bank, or on the bank's own file with a mapping.

``bankml credit train --data DIR`` trains on the generated ``credit_applications`` joined with
``credit_protected``; ``--applications FILE --mapping mapping.toml`` trains on any CSV or
Parquet file whose columns the mapping names (see docs/credit.md)::

    [target]
    column = "status"        # the outcome column
    bad = "default"          # the value that means default
    [features]
    numeric = ["duration_months", "amount"]
    categorical = ["purpose", "housing"]
    [monotone]               # +1: larger means riskier; -1: larger means safer
    duration_months = 1
    [protected]
    columns = ["sex", "age"] # kept out of the model, used for fairness

Split: out of time when the mapping names a ``[time] column`` (the most recent
``test_fraction`` is the test set), else stratified at random with the seed. ``--cv K`` adds
stratified K-fold ROC-AUC on the whole file. Everything is deterministic: the same file,
mapping, config and seed give a bit-identical model (the reproducibility gate retrains).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from bankml.core.errors import DataFileError, InputError
from bankml.core.files import atomic_write_text
from bankml.credit.config import CreditConfig, ReasonCatalogue, default_catalogue
from bankml.credit.decision import SERVING_FILE, CreditModelVersion
from bankml.credit.fairness import fairness_report, proxy_scan
from bankml.credit.model import CreditModel, encode_frame

__all__ = [
    "GENERATED_MAPPING",
    "CreditMapping",
    "CreditTraining",
    "file_sha256",
    "load_mapping",
    "monotonicity_check",
    "read_applications",
    "read_generated",
    "train_credit",
]

log = logging.getLogger(__name__)
ECE_BINS = 10
MONOTONE_SAMPLE_ROWS = 300
MONOTONE_GRID = 25
MSG_MAPPING = "mapping {path}: {problem}"


@dataclass(frozen=True)
class CreditMapping:
    """Which columns of the bank's file are the target, the features and the protected ones."""

    target: str
    bad: str
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    monotone: Mapping[str, int]
    protected: tuple[str, ...]
    time: str | None = None
    id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        d = asdict(self)
        d["monotone"] = dict(self.monotone)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CreditMapping:
        """Inverse of ``to_dict``."""
        raw = dict(d)
        for k in ("numeric", "categorical", "protected"):
            raw[k] = tuple(raw[k])
        return cls(**raw)


GENERATED_MAPPING = CreditMapping(
    target="defaulted_12m",
    bad="true",
    numeric=(
        "income",
        "years_employed",
        "requested_amount",
        "term_months",
        "debt_to_income",
        "utilisation",
        "delinquencies_2y",
        "inquiries_6m",
        "credit_history_months",
        "open_accounts",
    ),
    categorical=("employment", "housing", "purpose"),
    monotone={},  # the shipped credit.toml carries the directions for these columns
    protected=("sex", "age_band"),
    time="applied_at",
    id="application_id",
)


def load_mapping(path: Path) -> CreditMapping:
    """Read and check a mapping TOML; any problem is one ``InputError`` line."""

    def bad(problem: str) -> InputError:
        return InputError(MSG_MAPPING.format(path=path, problem=problem))

    if not path.is_file():
        raise bad("the file does not exist")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise bad(f"not valid TOML: {str(exc).splitlines()[0]}") from None
    unknown = sorted(set(data) - {"target", "features", "monotone", "protected", "time", "id"})
    if unknown:
        raise bad(f"unknown section [{unknown[0]}]")
    target = data.get("target")
    if not isinstance(target, dict) or not isinstance(target.get("column"), str):
        raise bad("[target] column is required")
    if "bad" not in target or isinstance(target["bad"], dict | list):
        raise bad("[target] bad (the value that means default) is required")

    def names(section: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = section.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise bad(f"{where} must be a list of column names")
        return tuple(value)

    feats = data.get("features", {})
    if not isinstance(feats, dict):
        raise bad("[features] must be a table")
    numeric = names(feats, "numeric", "[features] numeric")
    categorical = names(feats, "categorical", "[features] categorical")
    if not numeric and not categorical:
        raise bad("[features] names no feature")
    if len(set(numeric + categorical)) != len(numeric + categorical):
        raise bad("a feature is listed twice")
    monotone: dict[str, int] = {}
    for col, sign in data.get("monotone", {}).items():
        if col not in numeric:
            raise bad(f"[monotone] {col} is not a numeric feature")
        if isinstance(sign, bool) or sign not in (1, -1):
            raise bad(f"[monotone] {col} must be 1 (larger is riskier) or -1 (larger is safer)")
        monotone[col] = int(sign)
    prot = data.get("protected", {})
    protected = names(prot, "columns", "[protected] columns") if isinstance(prot, dict) else ()
    leaked = sorted(set(protected) & set(numeric + categorical))
    if leaked:
        raise bad(f"protected column {leaked[0]} must not also be a feature")
    if target["column"] in numeric + categorical + protected:
        raise bad(f"the target {target['column']} must not be a feature or protected column")
    time = data.get("time", {}).get("column") if isinstance(data.get("time"), dict) else None
    ident = data.get("id", {}).get("column") if isinstance(data.get("id"), dict) else None
    return CreditMapping(
        target=target["column"],
        bad=str(target["bad"]),
        numeric=numeric,
        categorical=categorical,
        monotone=monotone,
        protected=protected,
        time=time,
        id=ident,
    )


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_applications(path: Path) -> pd.DataFrame:
    """A CSV or Parquet file of applications."""
    if not path.is_file():
        raise DataFileError(f"{path} does not exist")
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".parquet"}:
        raise DataFileError(f"{path}: only .csv and .parquet application files are read")
    if path.stat().st_size == 0:
        raise DataFileError(f"{path} is empty")
    try:
        return pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise DataFileError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None


def read_generated(data_dir: Path) -> tuple[pd.DataFrame, list[Path]]:
    """The synthetic bank's applications joined with their protected attributes."""
    apps_p = data_dir / "credit_applications.parquet"
    prot_p = data_dir / "credit_protected.parquet"
    for p in (apps_p, prot_p):
        if not p.is_file():
            raise DataFileError(f"{p} does not exist; generate data with `bankml data generate`")
    apps = pd.read_parquet(apps_p)
    prot = pd.read_parquet(prot_p)
    return apps.merge(prot, on="application_id", how="left", validate="one_to_one"), [
        apps_p,
        prot_p,
    ]


def target_of(frame: pd.DataFrame, mapping: CreditMapping) -> NDArray[np.int8]:
    """1 where the outcome column holds the mapping's ``bad`` value (compared as text)."""
    col = frame[mapping.target]
    text = col.map(lambda v: str(v).strip().lower() if pd.notna(v) else "")
    return np.asarray((text == mapping.bad.strip().lower()).to_numpy(), dtype=np.int8)


def check_frame(frame: pd.DataFrame, mapping: CreditMapping, source: str) -> NDArray[np.int8]:
    """Refuse a file the mapping does not fit: missing columns, one-class target."""
    needed = [mapping.target, *mapping.numeric, *mapping.categorical, *mapping.protected]
    needed += [c for c in (mapping.time, mapping.id) if c]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise InputError(f"{source} has no column {missing[0]!r} (named in the mapping)")
    for c in mapping.numeric:
        if not pd.api.types.is_numeric_dtype(frame[c]):
            raise InputError(f"{source}: column {c!r} is mapped as numeric but holds text")
    if len(frame) < 50:
        raise InputError(f"{source} has {len(frame)} rows; a PD model needs at least 50")
    y = target_of(frame, mapping)
    if y.min() == y.max():
        seen = ", ".join(sorted({str(v) for v in frame[mapping.target].dropna().unique()})[:5])
        raise InputError(
            f"the target {mapping.target!r} has one class only (values: {seen}); "
            f"check [target] bad = {mapping.bad!r}"
        )
    return y


@dataclass
class CreditTraining:
    """A trained credit model with everything training measured."""

    version: CreditModelVersion
    metrics: dict[str, Any]
    fairness: dict[str, Any]
    proxies: dict[str, Any]
    cv: dict[str, Any] | None
    counts: dict[str, int]
    monotonicity: dict[str, Any]
    test_ids: list[Any] = field(default_factory=list)
    test_pd: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The JSON ``bankml credit train --json`` prints (besides version and paths)."""
        return {
            "test": self.metrics,
            "cv": self.cv,
            "fairness": self.fairness,
            "proxy_scan": self.proxies,
            "monotonicity": self.monotonicity,
            "counts": self.counts,
        }


def split_rows(
    frame: pd.DataFrame, y: NDArray[np.int8], mapping: CreditMapping, config: CreditConfig
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Train and test row positions (out of time when there is a time column)."""
    n = len(frame)
    if mapping.time:
        order = np.argsort(pd.to_datetime(frame[mapping.time], utc=True).to_numpy(), kind="stable")
        n_test = max(1, round(n * config.test_fraction))
        train_idx, test_idx = np.sort(order[:-n_test]), np.sort(order[-n_test:])
        if y[test_idx].min() != y[test_idx].max() and y[train_idx].min() != y[train_idx].max():
            return train_idx, test_idx
        log.warning("out-of-time split has one class on a side; splitting at random instead")
    from sklearn.model_selection import train_test_split

    train_idx, test_idx = train_test_split(
        np.arange(n), test_size=config.test_fraction, stratify=y, random_state=config.seed
    )
    return np.sort(train_idx), np.sort(test_idx)


def ece(y: NDArray[np.int8], p: NDArray[np.float64], bins: int = ECE_BINS) -> float:
    """Expected calibration error over equal-width probability bins."""
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, bins - 1)
    total = 0.0
    for b in range(bins):
        m = which == b
        if m.any():
            total += m.mean() * abs(float(p[m].mean()) - float(y[m].mean()))
    return float(total)


def monotonicity_check(
    model: CreditModel, x: NDArray[np.float64], names: Sequence[str], monotone: Mapping[str, int]
) -> dict[str, Any]:
    """Move each constrained feature over a grid on sampled rows: PD must never go the wrong
    way. Returns the number of violating steps (the gate's ``monotonicity_violations``)."""
    rng = np.random.default_rng(0)
    rows = x[rng.choice(len(x), size=min(MONOTONE_SAMPLE_ROWS, len(x)), replace=False)]
    per: dict[str, int] = {}
    for feat, sign in sorted(monotone.items()):
        j = list(names).index(feat)
        col = x[:, j][~np.isnan(x[:, j])]
        if col.size == 0:
            per[feat] = 0
            continue
        grid = np.unique(np.quantile(col, np.linspace(0, 1, MONOTONE_GRID)))
        batch = np.repeat(rows, len(grid), axis=0)
        batch[:, j] = np.tile(grid, len(rows))
        pd_ = model.predict_pd(batch).reshape(len(rows), len(grid))
        steps = np.diff(pd_, axis=1) * sign
        per[feat] = int(np.sum(steps < -1e-12))
    return {
        "rows": len(rows),
        "grid_points": MONOTONE_GRID,
        "violations": per,
        "total_violations": int(sum(per.values())),
        "checked": sorted(monotone),
    }


def _metrics(
    y: NDArray[np.int8], p: NDArray[np.float64], decisions: NDArray[np.str_]
) -> dict[str, Any]:
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

    auc = float(roc_auc_score(y, p))
    approved = decisions == "approve"
    return {
        "roc_auc": auc,
        "gini": 2 * auc - 1,
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, np.clip(p, 1e-9, 1 - 1e-9))),
        "ece": ece(y, p),
        "mean_pd": float(p.mean()),
        "default_rate": float(y.mean()),
        "approval_rate": float(approved.mean()),
        "refer_rate": float((decisions == "refer").mean()),
        "decline_rate": float((decisions == "decline").mean()),
        "default_rate_approved": float(y[approved].mean()) if approved.any() else None,
        "rows": len(y),
        "defaults": int(y.sum()),
    }


def _cv(
    x: NDArray[np.float64], y: NDArray[np.int8], config: CreditConfig, k: int
) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    if k < 2:
        raise InputError("--cv needs at least 2 folds")
    if int(y.sum()) < k or int((1 - y).sum()) < k:
        raise InputError(f"--cv {k}: a class has fewer rows than folds")
    aucs = []
    for tr, te in StratifiedKFold(k, shuffle=True, random_state=config.seed).split(x, y):
        m = _new_model(config).fit(
            x[tr],
            y[tr],
            feature_names=config.features,
            categorical=config.categorical,
            monotone=config.monotone,
        )
        aucs.append(float(roc_auc_score(y[te], m.predict_pd(x[te]))))
    return {
        "folds": k,
        "roc_auc": aucs,
        "roc_auc_mean": float(np.mean(aucs)),
        "roc_auc_std": float(np.std(aucs)),
    }


def _new_model(config: CreditConfig) -> CreditModel:
    return CreditModel(
        n_estimators=config.n_estimators,
        learning_rate=config.learning_rate,
        num_leaves=config.num_leaves,
        min_child_samples=config.min_child_samples,
        calibration=config.calibration,
        calibration_fraction=config.calibration_fraction,
        random_state=config.seed,
    )


def fit_model(
    frame: pd.DataFrame, y: NDArray[np.int8], train_idx: NDArray[np.intp], config: CreditConfig
) -> tuple[CreditModel, NDArray[np.float64]]:
    """Fit on the training rows; returns the model and the encoded matrix of all rows."""
    train = frame.iloc[train_idx]
    categories = {
        c: sorted({str(v) for v in train[c].dropna().unique()}) for c in config.categorical
    }
    x = encode_frame(frame, config.numeric, config.categorical, categories)
    model = _new_model(config).fit(
        x[train_idx],
        y[train_idx],
        feature_names=config.features,
        categorical=config.categorical,
        monotone=config.monotone,
        categories=categories,
    )
    return model, x


def train_credit(
    frame: pd.DataFrame,
    mapping: CreditMapping,
    config: CreditConfig,
    *,
    catalogue: ReasonCatalogue | None = None,
    cv: int | None = None,
    source: str = "the applications",
) -> CreditTraining:
    """Split, fit, calibrate, build the reason baseline, measure, and check fairness."""
    catalogue = catalogue or default_catalogue()
    y = check_frame(frame, mapping, source)
    frame = frame.reset_index(drop=True)
    train_idx, test_idx = split_rows(frame, y, mapping, config)
    model, x = fit_model(frame, y, train_idx, config)

    # Baseline: the approved training applicants closest to the approve cut-off.
    pd_train = model.predict_pd(x[train_idx])
    approved = np.flatnonzero(pd_train <= config.approve_max_pd)
    if approved.size == 0:
        raise InputError(
            f"no training applicant has a PD at or below approve_max_pd "
            f"{config.approve_max_pd:g}; raise the cut-off in the credit config"
        )
    near = approved[np.argsort(-pd_train[approved], kind="stable")[: config.baseline_size]]
    base_contrib = model.contributions(x[train_idx][near])[:, :-1].mean(axis=0)
    names = config.features
    baseline = {
        "description": (
            f"mean TreeSHAP contribution of the {near.size} training applicants approved at "
            f"or just above the approve cut-off (PD {float(pd_train[near].min()):.4f}-"
            f"{float(pd_train[near].max()):.4f} <= {config.approve_max_pd:g})"
        ),
        "rows": int(near.size),
        "pd_min": float(pd_train[near].min()),
        "pd_max": float(pd_train[near].max()),
        "contributions": {n: float(v) for n, v in zip(names, base_contrib, strict=True)},
        # The baseline applicants' typical values (median; most common category): where
        # "toward the baseline" points when explanations are validated.
        "values": _typical(frame.iloc[train_idx].iloc[near], config),
    }
    scale = {
        n: float(np.nanstd(x[train_idx, j])) if np.isfinite(np.nanstd(x[train_idx, j])) else 1.0
        for j, n in enumerate(config.numeric)
    }
    meta: dict[str, Any] = {
        "model_name": "credit",
        "config": config.to_dict(),
        "catalogue": catalogue.to_dict(),
        "baseline": baseline,
        "feature_scale": scale,
        "mapping": mapping.to_dict(),
    }
    version = CreditModelVersion(
        "credit", 0, model, meta, config, catalogue, np.asarray(base_contrib, np.float64)
    )

    x_test, y_test = x[test_idx], y[test_idx]
    ok, pd_test = version.approves(x_test)
    decisions = np.where(
        ok,
        "approve",
        np.where(
            (pd_test > config.decline_min_pd) | version._rules_failed(x_test), "decline", "refer"
        ),
    )
    metrics = _metrics(y_test, pd_test, decisions)
    protected = frame.iloc[test_idx][list(mapping.protected)].reset_index(drop=True)
    fairness = fairness_report(protected, y_test, pd_test, ok)
    proxies = proxy_scan(
        frame.iloc[train_idx][list(names)].reset_index(drop=True),
        config.categorical,
        frame.iloc[train_idx][list(mapping.protected)].reset_index(drop=True),
        config.proxy_auc_threshold,
        config.proxies,
    )
    mono = monotonicity_check(model, x[test_idx], names, config.monotone)
    metrics["monotonicity_violations"] = mono["total_violations"]
    cv_out = _cv(x, y, config, cv) if cv else None
    ids = frame.iloc[test_idx][mapping.id].tolist() if mapping.id else [int(i) for i in test_idx]
    return CreditTraining(
        version=version,
        metrics=metrics,
        fairness=fairness,
        proxies=proxies,
        cv=cv_out,
        counts={
            "rows": len(frame),
            "train": int(train_idx.size),
            "test": int(test_idx.size),
            "defaults": int(y.sum()),
        },
        monotonicity=mono,
        test_ids=ids,
        test_pd=[float(v) for v in pd_test],
    )


def save_training(training: CreditTraining, model_dir: Path, extra_meta: Mapping[str, Any]) -> None:
    """Write the model directory (booster, model.json, serving.json)."""
    if model_dir.exists():
        raise InputError(f"{model_dir} already holds a model; choose another --out")
    training.version.model.save(model_dir)
    meta = {**training.version.meta, **extra_meta}
    atomic_write_text(
        model_dir / SERVING_FILE, json.dumps(_jsonable(meta), indent=2, sort_keys=True)
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _typical(rows: pd.DataFrame, config: CreditConfig) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n in config.numeric:
        v = pd.to_numeric(rows[n], errors="coerce").median()
        out[n] = float(v) if pd.notna(v) else None
    for c in config.categorical:
        mode = rows[c].dropna().astype(str).mode()
        out[c] = str(sorted(mode)[0]) if len(mode) else None
    return out
