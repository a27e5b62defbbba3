"""Markdown tables in the layout of the RM paper, "ours / paper (diff)".

Each table is a fixed list of rows (method, backbone, regulariser), as printed
in the paper, and a list of metric columns. A row's config (and so its run
folder ``work_dirs/<config stem>``) and its paper values come from the
metafile entry that names the table in ``Metadata: Paper Table`` and has the
same backbone / regulariser (and method, for detection and segmentation).
A row without a metafile entry or without a run shows "—" instead of a value.
Runs of the same config in ``work_dirs/<config stem>-seed*`` are averaged with
``work_dirs/<config stem>``.
"""
import glob
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from mmrm.utils.markdown import markdown_table

from .metafile import MetafileEntry, entry_run_name, norm_key
from .runs import read_run_evaluations, select_evaluation

MISSING = '—'


@dataclass(frozen=True)
class Column:
    """A metric column.

    Attributes:
        header (str): column title.
        key (str): metric name as logged by mmengine and used in metafiles.
        error (bool): show ``100 - value`` (classification error from
            accuracy), for our runs and for the metafile value alike.
        log_fraction (bool): the run logs a fraction (mmdet's COCO metrics),
            multiplied by 100 before comparing with the metafile's percent.
    """
    header: str
    key: str
    error: bool = False
    log_fraction: bool = False


@dataclass(frozen=True)
class TableSpec:
    """One paper table: its rows, columns and how its rows are labelled."""
    number: str
    title: str
    columns: Tuple[Column, ...]
    rows: Tuple[Tuple[Optional[str], str, str], ...]  # method, backbone, reg
    label_headers: Tuple[str, ...]  # row-label columns, e.g. Backbone, Reg.
    precision: int = 2


_NAMES = {
    'resnet18': 'ResNet-18', 'resnet34': 'ResNet-34', 'resnet50': 'ResNet-50',
    'densenet121': 'DenseNet-121', 'densenet161': 'DenseNet-161',
    'pvtv2b1': 'PVTv2-B1', 'pyramidnet164a270': 'PyramidNet-164, α=270',
    'pyramidnet200a240': 'PyramidNet-200, α=240',
    'baseline': 'Baseline', 'mixup': '+ Mixup', 'cutmix': '+ CutMix',
    'rm': '+ RM', 'cutmix+resize': '+ CutMix + resize (no history)',
    'rmnoconsistency': '+ RM, ω=0 (no consistency loss)',
    'rmsharedfc': '+ RM, shared fc', 'rmbilinear': '+ RM, bilinear',
    'atss': 'ATSS', 'gfl': 'GFL', 'maskrcnn': 'Mask R-CNN', 'htc': 'HTC',
    'pspnet': 'PSPNet', 'upernet': 'UperNet',
}


def display_name(key: Optional[str]) -> str:
    """Human-readable name of a canonical key (``'pvtv2b1'`` -> PVTv2-B1)."""
    key = norm_key(key)
    return _NAMES.get(key, key or '')


def _grid(methods, backbones, regularizers):
    return tuple((m, b, r) for m in methods for b in backbones
                 for r in regularizers)


_TOP1 = Column('Top-1 err', 'accuracy/top1', error=True)
_TOP5 = Column('Top-5 err', 'accuracy/top5', error=True)
_BOX = (Column('AP', 'coco/bbox_mAP', log_fraction=True),
        Column('AP50', 'coco/bbox_mAP_50', log_fraction=True),
        Column('AP75', 'coco/bbox_mAP_75', log_fraction=True))
_MASK = (Column('mask AP', 'coco/segm_mAP', log_fraction=True),
         Column('mask AP50', 'coco/segm_mAP_50', log_fraction=True),
         Column('mask AP75', 'coco/segm_mAP_75', log_fraction=True))
_BACKBONES = ('resnet50', 'pvtv2_b1')
_DOWNSTREAM = ('baseline', 'cutmix', 'rm')

TABLES: Dict[str, TableSpec] = {
    '1': TableSpec(
        '1', 'CIFAR-10, PyramidNet-200 (α=240), 300 epochs: top-1 error (%)',
        (_TOP1, ), _grid([None], ['pyramidnet200_a240'],
                         ['baseline', 'mixup', 'cutmix', 'rm']),
        ('Backbone', 'Regularizer')),
    '2': TableSpec(
        '2', 'CIFAR-100, PyramidNet-164 (α=270), RM components: top-1 error '
        '(%)', (_TOP1, ),
        _grid([None], ['pyramidnet164_a270'],
              ['baseline', 'cutmix', 'cutmix+resize', 'rm_no_consistency',
               'rm']), ('Backbone', 'Regularizer')),
    '3': TableSpec(
        '3', 'CIFAR-100, 200 epochs: top-1 error (%)', (_TOP1, ),
        _grid([None], ['resnet18', 'resnet34', 'densenet121', 'densenet161',
                       'pyramidnet164_a270'],
              ['baseline', 'mixup', 'cutmix', 'rm']),
        ('Backbone', 'Regularizer')),
    '4': TableSpec(
        '4', 'Ablations: shared fc (4a) and bilinear resize (4b), top-1 error '
        '(%)', (_TOP1, ),
        _grid([None], ['pyramidnet200_a240', 'resnet18', 'resnet50'],
              ['rm', 'rm_shared_fc', 'rm_bilinear']),
        ('Backbone', 'Regularizer')),
    '5': TableSpec(
        '5', 'ImageNet-1k classification: top-1 / top-5 error (%)',
        (_TOP1, _TOP5),
        _grid([None], _BACKBONES, ['baseline', 'mixup', 'cutmix', 'rm']),
        ('Backbone', 'Regularizer')),
    '7': TableSpec(
        '7', 'COCO detection, 1x schedule: box AP (%)', _BOX,
        _grid(['atss', 'gfl'], _BACKBONES, _DOWNSTREAM),
        ('Detector', 'Backbone', 'Pretrain'), precision=1),
    '8': TableSpec(
        '8', 'COCO instance segmentation, 1x schedule: box and mask AP (%)',
        _BOX + _MASK, _grid(['mask_rcnn', 'htc'], _BACKBONES, _DOWNSTREAM),
        ('Detector', 'Backbone', 'Pretrain'), precision=1),
    '9': TableSpec(
        '9', 'ADE20K semantic segmentation, 512x512, 80k iterations (%)',
        (Column('mIoU', 'mIoU'), Column('mAcc', 'mAcc'),
         Column('aAcc', 'aAcc')),
        _grid(['pspnet', 'upernet'], _BACKBONES, _DOWNSTREAM),
        ('Segmentor', 'Backbone', 'Pretrain')),
}


def _paper_value(entry: Optional[MetafileEntry],
                 col: Column) -> Optional[float]:
    if entry is None or col.key not in entry.metrics:
        return None
    value = entry.metrics[col.key]
    return 100.0 - value if col.error else value


def _our_value(metrics: Optional[Dict[str, float]],
               col: Column) -> Optional[float]:
    if metrics is None or col.key not in metrics:
        return None
    value = metrics[col.key]
    if col.log_fraction:
        value *= 100.0
    return 100.0 - value if col.error else value


def format_cell(ours: Optional[float], paper: Optional[float],
                precision: int = 2) -> str:
    """``'20.90 / 20.80 (+0.10)'``; a missing side is "—", no diff then."""
    if ours is None and paper is None:
        return MISSING
    fmt = f'{{:.{precision}f}}'
    ours_s = MISSING if ours is None else fmt.format(ours)
    paper_s = MISSING if paper is None else fmt.format(paper)
    cell = f'{ours_s} / {paper_s}'
    if ours is not None and paper is not None:
        # difference of the printed numbers, so that the three agree
        diff = f'{float(ours_s) - float(paper_s):+.{precision}f}'
        if float(diff) == 0:  # no "-0.00"
            diff = '+' + fmt.format(0.0)
        cell += f' ({diff})'
    return cell


@dataclass
class RowResult:
    """One rendered row: labels, cells, the config name and its run status."""
    labels: List[str]
    cells: List[str]
    config: str
    status: str  # 'ok' | 'no run' (or no evaluation) | 'no metafile entry'
    n_runs: int = 0  # runs averaged (seeds)


def run_dirs(work_dirs: str, run_name: str) -> List[str]:
    """``work_dirs/<stem>`` and the repeated runs ``work_dirs/<stem>-seed*``
    (e.g. ``--work-dir work_dirs/<stem>-seed1``), those that exist."""
    dirs = [osp.join(work_dirs, run_name)] + sorted(
        glob.glob(osp.join(glob.escape(work_dirs),
                           glob.escape(run_name) + '-seed*')))
    return [d for d in dirs if osp.isdir(d)]


def _run_metrics(work_dirs: str, run_name: str, key: str, select: str,
                 notes: List[str]) -> Tuple[Optional[Dict[str, float]], int]:
    """Metrics of a config's run(s) and how many runs they average.

    Each run folder contributes its selected evaluation (see
    :func:`select_evaluation`); with several seeds every metric is the mean
    over the runs that logged it (the paper averages 3 runs on CIFAR).
    """
    chosen = []
    for run_dir in run_dirs(work_dirs, run_name):
        evaluation = select_evaluation(
            read_run_evaluations(run_dir, notes), key, select)
        if evaluation is None:
            notes.append(f'`{osp.basename(run_dir)}`: run folder found but '
                         f'no evaluation with `{key}` in its logs.')
        else:
            chosen.append(evaluation.metrics)
    if not chosen:
        return None, 0
    keys = {k for m in chosen for k in m}
    return {
        k: sum(m[k] for m in chosen if k in m) / sum(k in m for m in chosen)
        for k in keys
    }, len(chosen)


def build_table(spec: TableSpec, entries: Sequence[MetafileEntry],
                work_dirs: str, select: str = 'last',
                notes: Optional[List[str]] = None) -> List[RowResult]:
    """Rows of ``spec`` with our numbers from ``work_dirs`` and the paper's
    from ``entries``. Several entries for one row (e.g. HTC with and without
    the semantic branch) give one row each."""
    notes = [] if notes is None else notes
    rows = []
    for method, backbone, regularizer in spec.rows:
        labels = [display_name(backbone), display_name(regularizer)]
        if len(spec.label_headers) == 3:
            labels.insert(0, display_name(method))
        matched = [e for e in entries
                   if e.matches(spec.number, method, backbone, regularizer)]
        if not matched:
            rows.append(RowResult(labels, [MISSING] * len(spec.columns),
                                  MISSING, 'no metafile entry'))
            continue
        for entry in matched:
            run_name = entry_run_name(entry)
            metrics, n_runs = _run_metrics(work_dirs, run_name,
                                           spec.columns[0].key, select, notes)
            cells = [
                format_cell(_our_value(metrics, c), _paper_value(entry, c),
                            spec.precision) for c in spec.columns
            ]
            rows.append(RowResult(labels, cells, run_name,
                                  'ok' if metrics else 'no run', n_runs))
    return rows


def render_table(spec: TableSpec, rows: Sequence[RowResult],
                 select: str) -> str:
    """Markdown for one table (title, legend, header, rows)."""
    headers = list(spec.label_headers) + [c.header for c in spec.columns] + [
        'Config']
    body = []
    for row in rows:
        config = MISSING if row.config == MISSING else f'`{row.config}`'
        if row.n_runs > 1:
            config += f' (mean of {row.n_runs} runs)'
        body.append(row.labels + row.cells + [config])
    return '\n'.join([
        f'### Table {spec.number}: {spec.title}', '',
        f'Cells: ours / paper (ours − paper); ours = the {select} '
        'evaluation of each run (averaged with its `<config>-seed*` runs, '
        'if any); "—" = no run or no paper value.', '',
        markdown_table(headers, body)
    ]) + '\n'


def collect_results(work_dirs: str, tables: Sequence[str],
                    metafile_roots: Sequence[str],
                    select: str = 'last') -> str:
    """The whole report: one markdown table per requested paper table, then
    notes (duplicate metafile entries, unreadable log lines, runs without
    evaluations)."""
    from .metafile import load_entries
    unknown = [t for t in tables if str(t) not in TABLES]
    if unknown:
        raise ValueError(f'unknown paper table(s) {unknown}; available: '
                         f'{sorted(TABLES)}')
    notes: List[str] = []
    entries = load_entries(metafile_roots, notes)
    parts = []
    for number in tables:
        spec = TABLES[str(number)]
        parts.append(render_table(
            spec, build_table(spec, entries, work_dirs, select, notes),
            select))
    unique_notes = list(dict.fromkeys(notes))
    if unique_notes:
        parts.append('Notes:\n\n' + '\n'.join(f'- {n}' for n in unique_notes)
                     + '\n')
    return '\n'.join(parts)
