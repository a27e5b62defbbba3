"""Evaluation metrics registered into the downstream libraries on
``import mmrm`` (:class:`PresentClassIoUMetric` into mmseg's ``METRICS``)."""
from .present_class_iou import PresentClassIoUMetric

__all__ = ['PresentClassIoUMetric']
