"""Order of the interleaved rounds and the statistics of the ratios between
methods (pure Python). ``torch.utils.benchmark`` times one statement at a
time and summarises one statement's times (``Measurement``: median, IQR);
it neither interleaves several statements nor pairs them round by round,
so these two parts are kept here.

A benchmark run times every method in each of ``R`` rounds. Within a round
the methods run back to back, so a slow phase of the machine hits all of
them alike; across rounds the order alternates (:func:`round_order`), so
that no method always runs first, last or next to the same neighbour.

* per-round ratio of methods a and b: a's mean step time in round r / b's;
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
    between order statistics, the 'inclusive' method, as
    ``Measurement``'s; one value gives ``(v, v, v)``; none gives nans)."""
    values = [v for v in values if math.isfinite(v)]
    if not values:
        return NAN_SPREAD
    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, med, q3 = statistics.quantiles(values, n=4, method='inclusive')
    return med, q1, q3


def paired_ratios(
        times: Dict[str, Sequence[float]]) -> Dict[str, Dict[str, Spread]]:
    """Ratios of every method to every other, paired by round.

    Args:
        times: method -> its time in each round (the same rounds, in the
            same order, for every method).

    Returns:
        ``{a: {b: (median, q1, q3)}}`` of the per-round ratios
        ``a_r / b_r``.
    """
    return {a: {b: spread([x / y for x, y in zip(ta, tb) if y > 0])
                for b, tb in times.items()}
            for a, ta in times.items()}


def fmt_spread(s: Spread, digits: int = 3) -> str:
    """``'1.044 [1.021, 1.060]'`` (median [Q1, Q3]); ``'n/a'`` for nan."""
    med, q1, q3 = s
    if not math.isfinite(med):
        return 'n/a'
    return f'{med:.{digits}f} [{q1:.{digits}f}, {q3:.{digits}f}]'
