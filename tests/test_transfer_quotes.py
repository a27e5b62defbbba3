"""The transfer benchmark's numbers quoted in README.md and docs/transfer.md
are those of the committed results (benchmarks/transfer/results.json):
every paired difference and interval of the quoted tables, recomputed with
the report's own functions, and the count of finished cells. A sitting that
adds cells without refreshing the quotes fails here."""
import json
import os.path as osp
import re

import pytest

from benchmarks.transfer.analysis import paired_difference
from benchmarks.transfer.stages import METRIC_NAMES, TASK_NAMES

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
RESULTS = osp.join(ROOT, 'benchmarks', 'transfer')
INITS = {'RM': 'rm', 'CutMix': 'cutmix', 'random init': 'random'}
NUMBER = r'[+−-]?\d+(?:\.\d+)?'
INTERVAL = re.compile(rf'({NUMBER}) \[({NUMBER}), ({NUMBER})\]')


def rows():
    with open(osp.join(RESULTS, 'results.json')) as f:
        return json.load(f)


def number(text: str) -> float:
    return float(text.replace('−', '-'))


def column_key(header: str):
    """'ATSS box AP', or 'ATSS' for a task with one metric -> (task,
    metric)."""
    for task, name in TASK_NAMES.items():
        metrics = sorted({r['metric'] for r in rows() if r['task'] == task})
        for metric, words in METRIC_NAMES.items():
            if header == f'{name} {words}' or \
                    (header == name and metrics == [metric]):
                return task, metric
    raise AssertionError(f'unknown column {header!r}')


def minus_baseline_tables(path):
    """Every '| minus baseline | ... |' table of a page: (column headers,
    {init: [cells]})."""
    lines = open(osp.join(ROOT, path), encoding='utf-8').read().splitlines()
    tables = []
    for i, line in enumerate(lines):
        if line.startswith('| minus baseline |'):
            headers = [c.strip() for c in line.strip('|').split('|')][1:]
            body = {}
            for row in lines[i + 2:]:
                if not row.startswith('|'):
                    break
                cells = [c.strip() for c in row.strip('|').split('|')]
                body[cells[0]] = cells[1:]
            tables.append((headers, body))
    return tables


def quoted_intervals(path):
    """(task, metric, init, (mean, low, high)) for every interval quoted."""
    for headers, body in minus_baseline_tables(path):
        for label, cells in body.items():
            for header, cell in zip(headers, cells):
                found = INTERVAL.search(cell)
                if found:
                    yield (*column_key(header), INITS[label.strip('*')],
                           tuple(number(g) for g in found.groups()))


@pytest.mark.parametrize('page', ['README.md', 'docs/transfer.md'])
def test_quoted_intervals_are_those_of_the_committed_results(page):
    quoted = list(quoted_intervals(page))
    assert len(quoted) >= 8, quoted  # the tables are there and read
    results = rows()
    for task, metric, init, (mean, low, high) in quoted:
        ci = paired_difference(results, task, metric, init)['interval']
        assert ci is not None, (page, task, init)
        for shown, real in ((mean, ci['mean']), (low, ci['low']),
                            (high, ci['high'])):
            # quoted to 0.1 (or 0.05 where one decimal would hide the sign)
            assert abs(shown - real) <= 0.051, (page, task, metric, init,
                                                shown, real)


@pytest.mark.parametrize('page,pattern', [
    ('README.md', r'\((\d+) of the\s+design\'s (\d+) cells'),
    ('docs/transfer.md', r'## Results so far \((\d+) of (\d+) cells\)')])
def test_quoted_cell_count_is_that_of_the_committed_results(page, pattern):
    text = open(osp.join(ROOT, page), encoding='utf-8').read()
    done, planned = map(int, re.search(pattern, text).groups())
    with open(osp.join(RESULTS, 'run_info.json')) as f:
        info = json.load(f)
    cells = {(r['task'], r['init'], r['pretrain_seed'], r['finetune_seed'])
             for r in rows()}  # a cell has a row per metric
    assert (done, planned) == (len(cells), info['cells_planned'])
    assert info['cells_done'] == done
