"""Markdown tables and the mean / spread of repeated measurements."""
import statistics
from typing import List, Sequence


def markdown_table(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    """A GitHub markdown table; cells are converted with ``str``.

    Raises:
        ValueError: when a row has a different number of cells than
            ``header``.
    """
    lines: List[str] = [
        '| ' + ' | '.join(map(str, header)) + ' |',
        '|' + '|'.join('---' for _ in header) + '|'
    ]
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f'row {list(row)!r} has {len(row)} cells, the '
                             f'header has {len(header)}')
        lines.append('| ' + ' | '.join(map(str, row)) + ' |')
    return '\n'.join(lines)


def mean_std(values: Sequence[float]) -> tuple:
    """``(mean, sample std)`` of ``values`` (:mod:`statistics`); std is 0.0
    for one value.

    Raises:
        ValueError: for an empty sequence.
    """
    values = [float(v) for v in values]
    if not values:
        raise ValueError('mean_std needs at least one value')
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return statistics.fmean(values), std
