"""What the transfer benchmark's cells say about the pretrainings: paired
differences to the baseline with a 95 % interval, and a verdict per cell.

The design pairs by seed (``benchmarks/transfer/run.py``): for seed ``s``,
each pretraining method starts from the same initial weights and sees the
same data order, and each init is fine-tuned with the same fine-tuning seed.
So the difference of a pretraining to the baseline is taken seed by seed,
``d_s = value(method, s) - value(baseline, s)``, and summarised by its mean
with a Student-t interval over the seeds (``scipy.stats.t``; ``statistics``
has no t quantiles). The interval covers both sources of variance, the
pretraining's and the fine-tuning's, because both change with ``s``.
"""
import statistics
from typing import Dict, List, Optional

LEVEL = 0.95


def in_design(row: dict) -> bool:
    """A cell of the paired design: its pretraining seed is its fine-tuning
    seed (random init: no pretraining seed). The preset's replicates (more
    fine-tuning seeds of one pretraining) only measure the fine-tuning
    spread."""
    return row['pretrain_seed'] in (None, row['finetune_seed'])


def values_by_seed(rows: List[dict], task: str, metric: str,
                   init: str) -> Dict[int, float]:
    """``{seed: value}`` of one init's cells of a metric in the design."""
    return {r['finetune_seed']: r['value'] for r in rows
            if (r['task'], r['metric'], r['init']) == (task, metric, init)
            and in_design(r)}


def summary(values) -> Optional[dict]:
    """Mean, sample std (None for one value) and count; None if empty."""
    values = list(values)
    if not values:
        return None
    std = statistics.stdev(values) if len(values) > 1 else None
    return dict(mean=statistics.fmean(values), std=std, n=len(values))


def t_interval(diffs: List[float], level: float = LEVEL) -> Optional[dict]:
    """Mean of ``diffs`` with its two-sided Student-t interval (None for
    fewer than two values: one pair gives no interval)."""
    if len(diffs) < 2:
        return None
    from scipy.stats import t
    mean = statistics.fmean(diffs)
    half = (t.ppf(0.5 + level / 2, len(diffs) - 1) * statistics.stdev(diffs)
            / len(diffs)**0.5)
    return dict(mean=mean, low=mean - half, high=mean + half, half=half,
                n=len(diffs))


def paired_difference(rows: List[dict], task: str, metric: str, init: str,
                      reference: str = 'baseline') -> dict:
    """``init`` minus ``reference`` over the seeds both have: the pairs,
    their interval (None with fewer than two pairs) and the verdict."""
    a = values_by_seed(rows, task, metric, init)
    b = values_by_seed(rows, task, metric, reference)
    seeds = sorted(set(a) & set(b))
    diffs = [a[s] - b[s] for s in seeds]
    ci = t_interval(diffs)
    return dict(seeds=seeds, diffs=diffs, interval=ci,
                verdict=verdict(ci, init, reference, len(diffs)))


def verdict(ci: Optional[dict], init: str, reference: str, n: int) -> str:
    """Plain words for an interval: which is better, or nothing resolved."""
    if ci is None:
        return f'{n} pair{"s" if n != 1 else ""}: no interval'
    if ci['low'] > 0:
        return f'{init} > {reference}'
    if ci['high'] < 0:
        return f'{init} < {reference}'
    return 'no difference resolved'


def finetune_spread(rows: List[dict], task: str, metric: str) -> Optional[dict]:
    """The fine-tuning seed spread of a metric where the pretraining is held
    fixed: cells with the same (init, pretraining seed) and several
    fine-tuning seeds (the preset's ``replicates``); the pooled sample std."""
    groups: Dict[tuple, List[float]] = {}
    for r in rows:
        if (r['task'], r['metric']) == (task, metric) and r[
                'pretrain_seed'] is not None:
            groups.setdefault((r['init'], r['pretrain_seed']),
                              []).append(r['value'])
    groups = {k: v for k, v in groups.items() if len(v) > 1}
    if not groups:
        return None
    dof = sum(len(v) - 1 for v in groups.values())
    pooled = sum(statistics.variance(v) * (len(v) - 1)
                 for v in groups.values()) / dof
    return dict(std=pooled**0.5, dof=dof, groups=len(groups))
