"""Markdown tables and the mean / spread of repeated measurements."""
import math
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
    """``(mean, sample std)`` of ``values``; std is 0.0 for one value.

    Raises:
        ValueError: for an empty sequence.
    """
    values = [float(v) for v in values]
    if not values:
        raise ValueError('mean_std needs at least one value')
    mean = sum(values) / len(values)
    if len(values) == 1:
        return mean, 0.0
    var = sum((v - mean)**2 for v in values) / (len(values) - 1)
    return mean, math.sqrt(var)
