"""Order of the interleaved rounds and the statistics over them (pure Python).

A benchmark run times every method in each of ``R`` rounds. Within a round
the methods run back to back, so a slow phase of the machine hits all of
them alike; across rounds the order alternates (:func:`round_order`), so
that no method always runs first, last or next to the same neighbour.

* per-round ratio of methods a and b: ``median(a's steps in round r) /
  median(b's steps in round r)``;
* reported ratio: the median of the ``R`` per-round ratios, with their
  interquartile range ``[Q1, Q3]`` as the spread (:func:`spread`).
"""
import math
import statistics
from typing import Dict, List, Sequence, Tuple

#: ``(median, q1, q3)``
Spread = Tuple[float, float, float]
NAN_SPREAD: Spread = (math.nan, math.nan, math.nan)


def round_order(methods: Sequence[str], r: int) -> List[str]:
    """Order of the methods in round ``r``: rotated by ``r // 2`` places,
    reversed in odd rounds.

    Over every pair of rounds ``(2k, 2k + 1)`` each method's mean position
    is the same (``(n - 1) / 2``) and each pair of methods runs once in
    each order, so a linear drift within a round cancels in the ratios.
    """
    methods = list(methods)
    k = (r // 2) % len(methods)
    order = methods[k:] + methods[:k]
    return order[::-1] if r % 2 else order


def spread(values: Sequence[float]) -> Spread:
    """``(median, q1, q3)`` of ``values`` (quartiles by linear interpolation
    between order statistics, the 'inclusive' method; one value gives
    ``(v, v, v)``; none gives nans)."""
    values = [v for v in values if math.isfinite(v)]
    if not values:
        return NAN_SPREAD
    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, med, q3 = statistics.quantiles(values, n=4, method='inclusive')
    return med, q1, q3


def round_medians(steps: Sequence[Tuple[float, int]]) -> Dict[int, float]:
    """``{round: median time}`` of ``(time, round)`` pairs."""
    rounds: Dict[int, List[float]] = {}
    for value, r in steps:
        rounds.setdefault(r, []).append(value)
    return {r: statistics.median(v) for r, v in rounds.items()}


def paired_ratios(
        times: Dict[str, Sequence[Tuple[float, int]]]
) -> Dict[str, Dict[str, Spread]]:
    """Ratios of every method to every other, paired by round.

    Args:
        times: method -> ``(seconds, round)`` of every timed step.

    Returns:
        ``{a: {b: (median, q1, q3)}}`` of the per-round ratios
        ``median_r(a) / median_r(b)`` over the rounds both methods ran in.
    """
    per_round = {m: round_medians(s) for m, s in times.items()}
    out: Dict[str, Dict[str, Spread]] = {}
    for a, ra in per_round.items():
        out[a] = {}
        for b, rb in per_round.items():
            common = sorted(set(ra) & set(rb))
            out[a][b] = spread(
                [ra[r] / rb[r] for r in common if rb[r] > 0])
    return out


def fmt_spread(s: Spread, digits: int = 3) -> str:
    """``'1.044 [1.021, 1.060]'`` (median [Q1, Q3]); ``'n/a'`` for nan."""
    med, q1, q3 = s
    if not math.isfinite(med):
        return 'n/a'
    return f'{med:.{digits}f} [{q1:.{digits}f}, {q3:.{digits}f}]'
