"""``PresentClassIoUMetric``: mmseg's ``IoUMetric`` with a per-class table of
the classes that occur.

mmseg prints one row per dataset class (150 for ADE20K), ``nan`` for every
class absent from both the ground truth and the predictions. This metric
evaluates the same way but passes only the present classes (union > 0,
i.e. in the ground truth or the predictions) to ``IoUMetric``: the table
lists those, and the summary (aAcc, mIoU, mAcc, ...) is unchanged, since
mmseg's class means skip the ``nan`` of absent classes (``np.nanmean``).
With ``nan_to_num`` set, absent classes would count, so the parent's full
evaluation runs instead.
"""
from typing import Dict

from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS


@METRICS.register_module()
class PresentClassIoUMetric(IoUMetric):
    """``IoUMetric`` (same arguments) whose per-class table shows only the
    classes present in the ground truth or the predictions."""

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Args: results: per image ``(intersect, union, pred_area,
        label_area)``, each a ``(num_classes,)`` tensor (mmseg's layout)."""
        if self.format_only or self.nan_to_num is not None or not results:
            return super().compute_metrics(results)
        union = sum(r[1] for r in results)
        keep = (union > 0).nonzero().flatten()
        meta = self.dataset_meta
        self.dataset_meta = dict(
            meta, classes=[meta['classes'][int(i)] for i in keep])
        try:
            return super().compute_metrics(
                [tuple(a[keep] for a in r) for r in results])
        finally:
            self.dataset_meta = meta
