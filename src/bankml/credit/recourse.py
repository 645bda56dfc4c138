"""Recourse: the smallest change in actionable features that reaches approve, or none.

Only features the bank declared actionable (``[actionable]`` in ``credit.toml``: never age,
never a protected attribute, never history such as past delinquencies) are moved, only in
the direction that lowers risk (their monotone direction), only as far as their bound, in
multiples of their step. "Smallest" is measured in units of each feature's training standard
deviation, summed over the features changed (L1), so a change of one feature beats a change
of two when it is no larger.

Search: each feature alone first (a grid of at most ``_GRID`` steps between the current value
and the bound, evaluated in one batch, then the bracket around the first approving step
searched again until it is one step wide); then, if no single feature suffices, pairs on a
``_PAIR_GRID`` x ``_PAIR_GRID`` grid; then all actionable features at their bounds, which
tells "needs more than two changes" from "none within bounds". The model is monotone in these
features, so the first approving value along a feature is the smallest.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bankml.credit.config import Actionable

__all__ = ["Recourse", "find_recourse"]

_GRID = 24
_PAIR_GRID = 10
FOUND = "found"
NONE_WITHIN_BOUNDS = "none within bounds"

# approve(rows) -> (approved mask, pd per row) for a batch of encoded rows.
Approver = Callable[[NDArray[np.float64]], tuple[NDArray[np.bool_], NDArray[np.float64]]]


@dataclass(frozen=True)
class Recourse:
    """What would reach approve: ``changes`` [{feature, from, to}] or none within bounds."""

    status: str
    changes: list[dict[str, Any]] = field(default_factory=list)
    pd_after: float | None = None
    cost: float | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {
            "status": self.status,
            "changes": self.changes,
            "pd_after": self.pd_after,
            "cost": self.cost,
            "note": self.note,
        }


def _steps_to_bound(value: float, spec: Actionable, direction: float) -> int:
    """How many whole steps lie between ``value`` and the bound (0 when none)."""
    span = (spec.bound - value) * direction
    if not math.isfinite(value) or span <= 0:
        return 0
    return max(1, math.floor(span / spec.step + 1e-9))


def _value_at(value: float, spec: Actionable, direction: float, k: int, n: int) -> float:
    """The value ``k`` steps from ``value`` (the bound itself at ``k == n``)."""
    return spec.bound if k >= n else value + direction * k * spec.step


def _candidates(value: float, spec: Actionable, direction: float) -> NDArray[np.float64]:
    """At most ``_PAIR_GRID`` values from one step past ``value`` to the bound, nearest first."""
    n = _steps_to_bound(value, spec, direction)
    if n == 0:
        return np.empty(0)
    ks = np.unique(np.round(np.linspace(1, n, min(_PAIR_GRID, n))).astype(int))
    return np.array([_value_at(value, spec, direction, int(k), n) for k in ks], np.float64)


def _singles(
    row: NDArray[np.float64],
    specs: Sequence[tuple[int, Actionable, float]],
    approve: Approver,
) -> dict[int, tuple[float, float]]:
    """Per feature ``j``: the nearest approving value moving ``j`` alone, and its PD.

    The model is monotone in each feature, so approval, once reached, holds up to the bound:
    a coarse grid of at most ``_GRID`` steps brackets the first approving step, and brackets
    are searched again the same way until one step wide. Every round evaluates all features'
    grids in one batch (model calls, not rows, dominate the cost of one application).
    """
    value = {j: float(row[j]) for j, _, _ in specs}
    n = {j: _steps_to_bound(value[j], spec, d) for j, spec, d in specs}
    by_j = {j: (spec, d) for j, spec, d in specs}
    # Open brackets: (last step known not to approve, last step that may approve).
    open_ = {j: (0, n[j]) for j in n if n[j] > 0}
    found: dict[int, tuple[float, float]] = {}
    while open_:
        plan: list[tuple[int, int]] = []
        for j, (lo, hi) in open_.items():
            ks = np.unique(np.round(np.linspace(lo + 1, hi, min(_GRID, hi - lo))).astype(int))
            plan += [(j, int(k)) for k in ks]
        batch = np.repeat(row.reshape(1, -1), len(plan), axis=0)
        for r, (j, k) in enumerate(plan):
            spec, d = by_j[j]
            batch[r, j] = _value_at(value[j], spec, d, k, n[j])
        ok, pd = approve(batch)
        nxt: dict[int, tuple[int, int]] = {}
        for j, (lo, _) in open_.items():
            rows = [r for r, (jj, _) in enumerate(plan) if jj == j]
            hits = [r for r in rows if ok[r]]
            if not hits:
                continue  # first round: nothing within the bound approves on this feature
            hit = plan[hits[0]][1]
            pos = rows.index(hits[0])
            below = plan[rows[pos - 1]][1] if pos > 0 else lo
            if hit - below <= 1:
                spec, d = by_j[j]
                found[j] = (_value_at(value[j], spec, d, hit, n[j]), float(pd[hits[0]]))
            else:
                nxt[j] = (below, hit)
        open_ = nxt
    return found


def find_recourse(
    row: NDArray[np.float64],
    names: Sequence[str],
    actionable: Sequence[Actionable],
    monotone: Mapping[str, int],
    scale: Mapping[str, float],
    approve: Approver,
) -> Recourse:
    """The smallest approving change of ``row`` (see the module docstring)."""
    specs = [
        (names.index(a.feature), a, -float(monotone[a.feature]))
        for a in actionable
        if a.feature in names and monotone.get(a.feature)
    ]

    def unit(j: int) -> float:
        s = float(scale.get(names[j], 1.0))
        return s if s > 0 and math.isfinite(s) else 1.0

    def result(moves: dict[int, float], pd_after: float | None = None) -> Recourse:
        if pd_after is None:
            _, pd = approve(_moved(row, moves).reshape(1, -1))
            pd_after = float(pd[0])
        cost = sum(abs(v - float(row[j])) / unit(j) for j, v in moves.items())
        changes = [
            {"feature": names[j], "from": float(row[j]), "to": round(v, 10)}
            for j, v in sorted(moves.items())
        ]
        return Recourse(FOUND, changes, pd_after, round(cost, 6))

    best: dict[int, float] | None = None
    best_cost = math.inf
    best_pd: float | None = None
    for j, (v, pd_v) in sorted(_singles(row, specs, approve).items()):
        cost = abs(v - float(row[j])) / unit(j)
        if cost < best_cost - 1e-12:
            best, best_cost, best_pd = {j: v}, cost, pd_v
    if best is not None:
        return result(best, best_pd)

    grids = {j: _candidates(float(row[j]), spec, direction) for j, spec, direction in specs}
    pairs = [
        (j, k)
        for (j, _, _), (k, _, _) in itertools.combinations(specs, 2)
        if grids[j].size and grids[k].size
    ]
    if pairs:
        parts, meta = [], []
        for j, k in pairs:
            vj, vk = np.meshgrid(grids[j], grids[k], indexing="ij")
            part = np.repeat(row.reshape(1, -1), vj.size, axis=0)
            part[:, j], part[:, k] = vj.ravel(), vk.ravel()
            parts.append(part)
            meta += [
                (j, k, float(a), float(b)) for a, b in zip(vj.ravel(), vk.ravel(), strict=True)
            ]
        ok, pd = approve(np.vstack(parts))
        for r in np.flatnonzero(ok):
            j, k, a, b = meta[int(r)]
            cost = abs(a - row[j]) / unit(j) + abs(b - row[k]) / unit(k)
            if cost < best_cost - 1e-12:
                best, best_cost, best_pd = {j: a, k: b}, float(cost), float(pd[int(r)])
    if best is not None:
        return result(best, best_pd)

    if specs:
        # More than two features must move: all of them to their bounds is one way (an
        # upper bound on the smallest change, said so in the note).
        moves = {
            j: spec.bound for j, spec, direction in specs if (spec.bound - row[j]) * direction > 0
        }
        out = result(moves) if moves else None
        if out is not None and approve(_moved(row, moves).reshape(1, -1))[0][0]:
            return Recourse(
                out.status,
                out.changes,
                out.pd_after,
                out.cost,
                "every actionable feature at its bound; a smaller change of three or more "
                "features may exist",
            )
    return Recourse(
        NONE_WITHIN_BOUNDS,
        note="no change to the actionable features within their bounds reaches approve",
    )


def _moved(row: NDArray[np.float64], moves: Mapping[int, float]) -> NDArray[np.float64]:
    out = row.copy()
    for j, v in moves.items():
        out[j] = v
    return out
