"""PresentClassIoUMetric: mmseg's IoUMetric, with a per-class table of the
classes in the ground truth and one line for those only predicted (what the
ADE20K fixture configs print), and the very same summary metrics."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SEG_DEMO = osp.join(ROOT, 'configs/seg/demo/'
                    'upernet_r18-w16-rm_1xb2-20i_ade20k-fixture-128x128.py')
CLASSES = ('wall', 'tree', 'sky', 'animal', 'road')


def _results():
    """Two images' ``(intersect, union, pred, label)`` areas per class:
    tree and animal in the ground truth, sky only predicted (a false
    positive, IoU 0), wall and road nowhere."""
    out = []
    for intersect, pred, label in (([0, 4, 0, 4, 0], [0, 5, 1, 4, 0],
                                     [0, 6, 0, 4, 0]),
                                    ([0, 3, 0, 0, 0], [0, 3, 2, 0, 0],
                                     [0, 4, 0, 2, 0])):
        i, p, l = (torch.tensor(x, dtype=torch.float64)
                   for x in (intersect, pred, label))
        out.append((i, p + l - i, p, l))
    return out


def _evaluate(metric, monkeypatch):
    """``(metrics, class names of the printed per-class table, the lines
    printed after the table)``."""
    from mmseg.evaluation.metrics import iou_metric

    from mmrm.evaluation import present_class_iou
    printed = []
    for module in (iou_metric, present_class_iou):
        monkeypatch.setattr(module, 'print_log',
                            lambda msg, *a, **k: printed.append(str(msg)))
    metric.dataset_meta = dict(classes=CLASSES)
    metrics = metric.compute_metrics(_results())
    table = max(range(len(printed)), key=lambda i: printed[i].count('|'))
    rows = [line.split('|')[1].strip()
            for line in printed[table].splitlines() if line.startswith('|')]
    return metrics, rows[1:], printed[table + 1:]  # rows without the header


def test_table_lists_present_classes_and_summary_is_unchanged(monkeypatch):
    from mmseg.evaluation import IoUMetric

    from mmrm.evaluation import PresentClassIoUMetric
    kwargs = dict(iou_metrics=['mIoU', 'mDice', 'mFscore'])
    stock, stock_rows, _ = _evaluate(IoUMetric(**kwargs), monkeypatch)
    present, rows, after = _evaluate(PresentClassIoUMetric(**kwargs),
                                     monkeypatch)
    assert stock_rows == list(CLASSES)
    assert rows == ['tree', 'animal']
    assert after == ['1 more classes predicted but absent from the ground '
                     'truth (IoU 0 each, counted in the means): sky']
    assert present == pytest.approx(stock, nan_ok=True)
    # tree 7/11, sky 0/3, animal 4/6 (IoU %, mean over the present)
    assert present['mIoU'] == pytest.approx(
        round(100 * (7 / 11 + 0 + 4 / 6) / 3, 2))


def test_with_nan_to_num_every_class_counts(monkeypatch):
    """nan_to_num turns absent classes into numbers that enter the means:
    then the metric keeps all classes, as IoUMetric does."""
    from mmseg.evaluation import IoUMetric

    from mmrm.evaluation import PresentClassIoUMetric
    stock, _, _ = _evaluate(IoUMetric(nan_to_num=0), monkeypatch)
    present, rows, _ = _evaluate(PresentClassIoUMetric(nan_to_num=0),
                                 monkeypatch)
    assert rows == list(CLASSES) and present == stock


def test_seg_demo_config_uses_it():
    """Registered in mmseg's METRICS by ``import mmrm`` (the config's
    custom_imports)."""
    from mmseg.registry import METRICS

    from mmrm.evaluation import PresentClassIoUMetric
    cfg = Config.fromfile(SEG_DEMO)
    with DefaultScope.overwrite_default_scope('mmseg'):
        for key in ('val_evaluator', 'test_evaluator'):
            metric = METRICS.build(cfg[key])
            assert type(metric) is PresentClassIoUMetric
            assert metric.metrics == ['mIoU']
