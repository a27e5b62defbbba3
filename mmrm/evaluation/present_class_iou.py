"""``PresentClassIoUMetric``: mmseg's ``IoUMetric`` with a per-class table of
the classes in the ground truth.

mmseg prints one row per dataset class (150 for ADE20K), ``nan`` for every
class absent from the evaluated images. This metric computes the same
numbers with mmseg's ``total_area_to_metrics`` and prints:

* the table of the classes present in the ground truth;
* one line naming the classes that were predicted but are absent from the
  ground truth (IoU 0 each; mmseg's means count them);
* nothing for the classes absent from both (IoU nan, skipped by the means).

The returned summary (aAcc, mIoU, mAcc, ...) equals ``IoUMetric``'s: the
means are ``np.nanmean`` over the classes with a non-empty union, which is
where mmseg's per-class values are not nan. With ``nan_to_num`` set, absent
classes count too, so the parent's evaluation runs unchanged.
"""
from typing import Dict

import numpy as np
from mmengine.logging import MMLogger, print_log
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS
from prettytable import PrettyTable

#: predicted-only classes named before the list is abbreviated
MAX_NAMED = 10


@METRICS.register_module()
class PresentClassIoUMetric(IoUMetric):
    """``IoUMetric`` (same arguments) whose per-class table shows only the
    classes of the ground truth."""

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Args: results: per image ``(intersect, union, pred_area,
        label_area)``, each a ``(num_classes,)`` tensor (mmseg's layout)."""
        if self.format_only or self.nan_to_num is not None or not results:
            return super().compute_metrics(results)
        totals = [sum(r[i] for r in results) for i in range(4)]
        present = (totals[1] > 0).nonzero().flatten()  # union > 0
        per_class = self.total_area_to_metrics(
            *(t[present] for t in totals), self.metrics, self.nan_to_num,
            self.beta)
        metrics = {('aAcc' if k == 'aAcc' else 'm' + k):
                   np.round(np.nanmean(v) * 100, 2)
                   for k, v in per_class.items()}
        per_class.pop('aAcc')
        names = [self.dataset_meta['classes'][int(i)] for i in present]
        in_gt = (totals[3][present] > 0).numpy()
        table = PrettyTable()
        table.add_column('Class', [n for n, g in zip(names, in_gt) if g])
        for key, value in per_class.items():
            table.add_column(key, np.round(value[in_gt] * 100, 2))
        logger = MMLogger.get_current_instance()
        print_log('per class results (classes in the ground truth):', logger)
        print_log('\n' + table.get_string(), logger=logger)
        extra = [n for n, g in zip(names, in_gt) if not g]
        if extra:
            shown = ', '.join(extra[:MAX_NAMED]) + (
                f', ... (+{len(extra) - MAX_NAMED} more)'
                if len(extra) > MAX_NAMED else '')
            print_log(f'{len(extra)} more classes predicted but absent from '
                      f'the ground truth (IoU 0 each, counted in the means): '
                      f'{shown}', logger)
        return metrics
