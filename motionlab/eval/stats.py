"""The one definition of a spread for every table: mean, *sample* standard deviation (ddof = 1),
Student-t 95 % confidence interval, paired differences over common seeds, the smallest effect a
paired table could detect, and the fraction of an oracle gap a method closes.

n = 1 has no spread: ``std`` and ``ci95`` are None and the text form says ``x (n = 1)``, never
``x ± 0.00``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from scipy import stats as _scipy_stats


@dataclass(frozen=True)
class Summary:
    """Location and spread of one cell: ``std`` is the sample std, ``ci95`` the half-width of the
    Student-t 95 % interval of the mean (both None when n < 2)."""

    n: int
    mean: float
    std: float | None
    ci95: float | None

    def format(self, digits: int = 2, signed: bool = False, show_n: bool = True, ci: bool = False) -> str:
        """``mean ± std (n = k)``; ``ci``: also the 95 % interval of the mean; n = 1: ``x (n = 1)``."""
        sign = "+" if signed else ""
        if self.n == 0:
            return "–"
        mean = f"{self.mean:{sign}.{digits}f}"
        if self.std is None:
            return f"{mean} (n = 1)"
        text = f"{mean} ± {self.std:.{digits}f}"
        if ci:
            low, high = self.mean - self.ci95, self.mean + self.ci95
            text += f", 95 % CI [{low:{sign}.{digits}f}, {high:{sign}.{digits}f}]"
        return f"{text} (n = {self.n})" if show_n else text


def t_quantile(q: float, dof: int) -> float:
    """The ``q`` quantile of Student's t with ``dof`` degrees of freedom."""
    return float(_scipy_stats.t.ppf(q, dof))


def summarize(values: Iterable[float]) -> Summary:
    """Mean, sample std and 95 % CI half-width of ``values`` (n = 0 gives a NaN mean)."""
    xs = [float(v) for v in values]
    n = len(xs)
    if n == 0:
        return Summary(0, math.nan, None, None)
    mean = math.fsum(xs) / n
    if n < 2:
        return Summary(n, mean, None, None)
    std = math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (n - 1))
    return Summary(n, mean, std, t_quantile(0.975, n - 1) * std / math.sqrt(n))


def paired_differences(method: Mapping[int, float], baseline: Mapping[int, float]) -> Summary:
    """Summary of ``method[seed] - baseline[seed]`` over the seeds both have: runs of one seed share
    their data sample and initialisation, so pairing removes most of the seed-to-seed spread."""
    common = sorted(method.keys() & baseline.keys())
    return summarize(method[s] - baseline[s] for s in common)


def min_detectable_effect(sd_of_differences: float, n: int, alpha: float = 0.05, power: float = 0.8) -> float:
    """The smallest true mean difference a two-sided paired t-test on ``n`` pairs detects with
    probability ``power`` at level ``alpha``: ``(t[1-alpha/2, n-1] + t[power, n-1]) * sd / sqrt(n)``
    (the usual formula with t quantiles in place of normal ones: the exact noncentral-t power at this
    effect is 0.79 at n = 5 and 0.80 from n = 10, a little lower, 0.77, at n = 3). Infinite for
    n < 2: one pair cannot detect anything."""
    if n < 2:
        return math.inf
    dof = n - 1
    return (t_quantile(1 - alpha / 2, dof) + t_quantile(power, dof)) * sd_of_differences / math.sqrt(n)


def gap_closed(method: float, control: float, oracle: float) -> float:
    """Where ``method`` lands between the null ``control`` (0) and the ``oracle`` (1); NaN when the
    oracle does not differ from the control (no gap to close)."""
    gap = oracle - control
    return (method - control) / gap if gap != 0 else math.nan
