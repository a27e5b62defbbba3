"""Evaluation helpers registered into the downstream libraries.

Imported on demand (it imports mmseg), e.g. in a config:
``custom_imports = dict(imports=['mmrm', 'mmrm.evaluation'])``.
"""
from .present_class_iou import PresentClassIoUMetric

__all__ = ['PresentClassIoUMetric']
