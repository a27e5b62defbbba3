"""The RM paper's tables: their rows and columns, and their markdown.

Each table is a fixed list of rows (method, backbone, regulariser), as printed
in the paper, and a list of metric columns. A row's config (and so its run
folder ``work_dirs/<config stem>``) and its paper values come from the
metafile entry that names the table in ``Metadata: Paper Table`` and has the
same backbone / regulariser (and method, for detection and segmentation).
Values are in the paper's convention (see :mod:`mmrm.report`); a
:class:`Column` says how a logged value converts to it.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from mmrm.utils.markdown import markdown_table

from .metafile import MetafileEntry, norm_key

MISSING = '—'


@dataclass(frozen=True)
class Column:
    """A metric column.

    Attributes:
        header (str): column title.
        key (str): the metric in the metafiles (the paper's number).
        log_key (str): the metric as mmengine logs it (default: ``key``).
        from_log (str): how a logged value becomes the paper's number:
            ``'same'``, ``'error'`` (``100 - accuracy``) or ``'fraction'``
            (mmdet's COCO metrics, ``100 x value``).
    """
    header: str
    key: str
    log_key: str = ''
    from_log: str = 'same'

    def __post_init__(self):
        if not self.log_key:
            object.__setattr__(self, 'log_key', self.key)

    def paper_value(self, metrics: Optional[Dict[str, float]]
                    ) -> Optional[float]:
        """This column's value in a metafile entry's metrics, or None."""
        return None if metrics is None else metrics.get(self.key)

    def run_value(self, logged: Optional[Dict[str, float]]
                  ) -> Optional[float]:
        """This column's value in the paper's convention, from the metrics
        of a logged evaluation, or None when not logged."""
        if logged is None or self.log_key not in logged:
            return None
        value = logged[self.log_key]
        if self.from_log == 'error':
            return 100.0 - value
        if self.from_log == 'fraction':
            return 100.0 * value
        return value


@dataclass(frozen=True)
class TableSpec:
    """One paper table: its rows, columns and how its rows are labelled."""
    number: str
    title: str
    columns: Tuple[Column, ...]
    rows: Tuple[Tuple[Optional[str], str, str], ...]  # method, backbone, reg
    label_headers: Tuple[str, ...]  # row-label columns, e.g. Backbone, Reg.
    precision: int = 2

    def labels(self, method, backbone, regularizer) -> List[str]:
        """Display labels of a row."""
        labels = [display_name(backbone), display_name(regularizer)]
        if len(self.label_headers) == 3:
            labels.insert(0, display_name(method))
        return labels

    def entries(self, row, entries: Sequence[MetafileEntry]
                ) -> List[MetafileEntry]:
        """The metafile entries of a row (several: e.g. HTC with and without
        the semantic branch, one line each)."""
        return [e for e in entries if e.matches(self.number, *row)]


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


_TOP1 = Column('Top-1 err', 'top1_err', 'accuracy/top1', 'error')
_TOP5 = Column('Top-5 err', 'top5_err', 'accuracy/top5', 'error')
_BOX = tuple(Column(h, f'coco/bbox_{k}', from_log='fraction')
             for h, k in (('AP', 'mAP'), ('AP50', 'mAP_50'),
                          ('AP75', 'mAP_75')))
_MASK = tuple(Column(h, f'coco/segm_{k}', from_log='fraction')
              for h, k in (('mask AP', 'mAP'), ('mask AP50', 'mAP_50'),
                           ('mask AP75', 'mAP_75')))
#: what the runs listing shows of a run, when logged (paper units)
RESULT_COLUMNS = (
    Column('top-1 err', 'top1_err', 'accuracy/top1', 'error'),
    Column('top-5 err', 'top5_err', 'accuracy/top5', 'error'),
    Column('box AP', 'coco/bbox_mAP', from_log='fraction'),
    Column('mask AP', 'coco/segm_mAP', from_log='fraction'),
    Column('mIoU', 'mIoU'))
_BACKBONES = ('resnet50', 'pvtv2_b1')
_DOWNSTREAM = ('baseline', 'cutmix', 'rm')
_CLS_LABELS = ('Backbone', 'Regularizer')

TABLES: Dict[str, TableSpec] = {
    '1': TableSpec(
        '1', 'CIFAR-10, PyramidNet-200 (α=240), 300 epochs: top-1 error (%)',
        (_TOP1, ), _grid([None], ['pyramidnet200_a240'],
                         ['baseline', 'mixup', 'cutmix', 'rm']), _CLS_LABELS),
    '2': TableSpec(
        '2', 'CIFAR-100, PyramidNet-164 (α=270), RM components: top-1 error '
        '(%)', (_TOP1, ),
        _grid([None], ['pyramidnet164_a270'],
              ['baseline', 'cutmix', 'cutmix+resize', 'rm_no_consistency',
               'rm']), _CLS_LABELS),
    '3': TableSpec(
        '3', 'CIFAR-100, 200 epochs: top-1 error (%)', (_TOP1, ),
        _grid([None], ['resnet18', 'resnet34', 'densenet121', 'densenet161',
                       'pyramidnet164_a270'],
              ['baseline', 'mixup', 'cutmix', 'rm']), _CLS_LABELS),
    '4': TableSpec(
        '4', 'Ablations: shared fc (4a) and bilinear resize (4b), top-1 error '
        '(%)', (_TOP1, ),
        _grid([None], ['pyramidnet200_a240', 'resnet18', 'resnet50'],
              ['rm', 'rm_shared_fc', 'rm_bilinear']), _CLS_LABELS),
    '5': TableSpec(
        '5', 'ImageNet-1k classification: top-1 / top-5 error (%)',
        (_TOP1, _TOP5),
        _grid([None], _BACKBONES, ['baseline', 'mixup', 'cutmix', 'rm']),
        _CLS_LABELS),
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


def check_tables(tables: Sequence[str]) -> List[str]:
    """``tables`` as strings; ``ValueError`` naming any unknown one."""
    unknown = [t for t in tables if str(t) not in TABLES]
    if unknown:
        raise ValueError(f'unknown paper table(s) {unknown}; available: '
                         f'{sorted(TABLES)}')
    return [str(t) for t in tables]


def format_cell(ours: Optional[float], paper: Optional[float],
                precision: int = 2) -> str:
    """``'1.25 / 1.00 (+0.25)'`` (ours / paper (ours - paper)); a missing
    side is "—", no diff then."""
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
    """One rendered row: labels, cells, the config name and how many runs
    its values average (0: none)."""
    labels: List[str]
    cells: List[str]
    config: str
    n_runs: int = 0
    runs: List[str] = field(default_factory=list)


def render_table(spec: TableSpec, rows: Sequence[RowResult],
                 select: str) -> str:
    """Markdown for one table of ours / paper cells."""
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


def render_paper_table(spec: TableSpec,
                       entries: Sequence[MetafileEntry]) -> str:
    """Markdown for one table with the paper's numbers only (from the
    metafiles) and each row's config file."""
    fmt = f'{{:.{spec.precision}f}}'
    body = []
    for row in spec.rows:
        for entry in spec.entries(row, entries) or [None]:
            values = [entry and col.paper_value(entry.metrics)
                      for col in spec.columns]
            config = f'`{entry.config}`' if entry and entry.config \
                else MISSING
            body.append(spec.labels(*row) + [
                MISSING if v is None else fmt.format(v) for v in values
            ] + [config])
    headers = list(spec.label_headers) + [c.header for c in spec.columns] + [
        'Config']
    return '\n'.join([f'### Table {spec.number}: {spec.title}', '',
                      markdown_table(headers, body)]) + '\n'


__all__ = [
    'MISSING', 'Column', 'TableSpec', 'TABLES', 'RESULT_COLUMNS', 'RowResult',
    'check_tables',
    'display_name', 'format_cell', 'render_table', 'render_paper_table'
]
