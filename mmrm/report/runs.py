"""Evaluation results of mmengine runs under ``work_dirs``.

mmengine's ``LoggerHook`` + ``LocalVisBackend`` write, for a run of config
``<stem>`` started at ``<ts>`` (``YYYYMMDD_HHMMSS``)::

    work_dirs/<stem>/<ts>/vis_data/scalars.json   # JSON lines: train + val
    work_dirs/<stem>/<ts>/vis_data/<ts>.json      # the same lines
    work_dirs/<stem>/<ts>/<ts>.json               # tools/test.py: one object

A validation line holds the metrics plus ``data_time``, ``time`` and ``step``
(the epoch, or the iteration for iteration-based runs), e.g.
``{"accuracy/top1": 77.1, "accuracy/top5": 93.4, "data_time": 0.01,
"time": 0.2, "step": 300}``; training lines hold ``loss``, ``lr``, ... instead.
Scales are those of the libraries: mmpretrain accuracy and mmseg
mIoU / mAcc / aAcc are percent, mmdet ``coco/*_mAP*`` are fractions (0.415).

Read here, not with the libraries' reader (``mmpretrain.utils.load_json_log``;
mmengine has none): it raises on the half-written last line of a run that is
still writing, and does not read tools/test.py's result file.
"""
import glob
import json
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

SELECT_MODES = ('last', 'best')


@dataclass
class Evaluation:
    """One evaluation of one run.

    Attributes:
        metrics (dict): metric name -> value, as logged.
        timestamp (str): the run folder (``YYYYMMDD_HHMMSS``).
        step (int | None): epoch or iteration of a validation, None for a test.
        source (str): file the line came from.
        kind (str): ``'val'`` (training-time validation) or ``'test'``.
    """
    metrics: Dict[str, float]
    timestamp: str
    step: Optional[int]
    source: str
    kind: str


_BOOKKEEPING = {'step', 'epoch', 'iter', 'data_time', 'time', 'memory', 'lr',
                'base_lr', 'loss'}


def _is_evaluation(record: dict) -> bool:
    """Validation/test lines: no loss / lr, some non-bookkeeping value."""
    if any(k == 'lr' or k == 'loss' or k.startswith('loss_')
           or k.endswith('_loss') for k in record):
        return False
    return any(k not in _BOOKKEEPING for k in record)


def _numeric(record: dict) -> Dict[str, float]:
    return {k: float(v) for k, v in record.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)}


def _read_json_lines(path: str, notes: List[str]) -> List[dict]:
    records, bad = [], 0
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                bad += 1
                continue
            if isinstance(record, dict):
                records.append(record)
    if bad:
        notes.append(f'{path}: skipped {bad} line(s) that are not JSON '
                     '(a run still writing?).')
    return records


def _read_test_result(path: str, notes: List[str]) -> List[dict]:
    """``<ts>/<ts>.json`` of tools/test.py: one JSON object (or lines)."""
    with open(path, encoding='utf-8') as f:
        text = f.read().strip()
    if not text:
        return []
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return _read_json_lines(path, notes)
    return [data] if isinstance(data, dict) else []


def _scalars_file(ts_dir: str) -> Optional[str]:
    """``vis_data/scalars.json`` of a run, else ``vis_data/<ts>.json`` (never
    both: they hold the same lines); None when the run logged nothing."""
    ts = osp.basename(osp.normpath(ts_dir))
    for name in ('scalars.json', f'{ts}.json'):
        path = osp.join(ts_dir, 'vis_data', name)
        if osp.isfile(path):
            return path
    return None


def read_scalars(run_dir: str,
                 notes: Optional[List[str]] = None) -> List[Tuple[str, dict]]:
    """Every logged line (training and validation) of every run under
    ``work_dirs/<stem>``, chronological: ``(file, record)`` pairs."""
    notes = [] if notes is None else notes
    lines = []
    for ts_dir in sorted(glob.glob(osp.join(glob.escape(run_dir), '*', ''))):
        path = _scalars_file(ts_dir)
        if path is not None:
            lines += [(path, r) for r in _read_json_lines(path, notes)]
    return lines


def last_metric(run_dir: str, key: str) -> float:
    """The last value of ``key`` logged under ``work_dirs/<stem>``.

    Raises:
        FileNotFoundError: no run under ``run_dir`` logged anything.
        KeyError: ``key`` was never logged.
    """
    lines = read_scalars(run_dir)
    if not lines:
        raise FileNotFoundError(f'no scalars.json under {run_dir}')
    values = [r[key] for _, r in lines if key in r]
    if not values:
        raise KeyError(f'{key} was never logged under {run_dir}')
    return float(values[-1])


def read_run_evaluations(
        run_dir: str,
        notes: Optional[List[str]] = None) -> List[Evaluation]:
    """All evaluations under ``work_dirs/<stem>`` in chronological order.

    Runs (timestamp folders) are ordered by name, which is chronological for
    mmengine's ``YYYYMMDD_HHMMSS``; inside a run, validations keep file order
    and a test result (if any) comes last. ``vis_data/scalars.json`` is read,
    or ``vis_data/<ts>.json`` when a run has no scalars.json (never both: they
    hold the same lines).
    """
    notes = [] if notes is None else notes
    evaluations: List[Evaluation] = []
    for ts_dir in sorted(glob.glob(osp.join(glob.escape(run_dir), '*', ''))):
        ts = osp.basename(osp.normpath(ts_dir))
        scalars = _scalars_file(ts_dir)
        if scalars is not None:
            for record in _read_json_lines(scalars, notes):
                if _is_evaluation(record):
                    step = record.get('step')
                    evaluations.append(Evaluation(
                        _numeric(record), ts,
                        int(step) if isinstance(step, (int, float)) else None,
                        scalars, 'val'))
        test_file = osp.join(ts_dir, f'{ts}.json')
        if osp.isfile(test_file):
            for record in _read_test_result(test_file, notes):
                if _is_evaluation(record):
                    evaluations.append(
                        Evaluation(_numeric(record), ts, None, test_file,
                                   'test'))
    return evaluations


def select_evaluation(evaluations: List[Evaluation], key: str,
                      mode: str = 'last',
                      higher_is_better: bool = True) -> Optional[Evaluation]:
    """The evaluation a table reports for one run.

    Args:
        evaluations: from :func:`read_run_evaluations` (chronological).
        key: the table's primary metric (e.g. ``'accuracy/top1'``); only
            evaluations that logged it are considered.
        mode: ``'last'`` -- the most recent one; ``'best'`` -- the one with
            the best ``key`` (earliest on ties). Other columns of the table are
            read from the same evaluation.
        higher_is_better: direction of ``key`` for ``'best'``.

    Returns:
        The chosen evaluation, or None if no evaluation logged ``key``.
    """
    if mode not in SELECT_MODES:
        raise ValueError(f'mode must be one of {SELECT_MODES}, got {mode!r}')
    candidates = [e for e in evaluations if key in e.metrics]
    if not candidates:
        return None
    if mode == 'last':
        return candidates[-1]
    sign = 1.0 if higher_is_better else -1.0
    return max(candidates, key=lambda e: sign * e.metrics[key])
