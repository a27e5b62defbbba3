"""``init_weights`` that honours ``StrictPretrained`` for backbones whose own
``init_weights`` loads any ``init_cfg`` with a checkpoint by itself,
non-strictly (mmdet's PVTv2, mmdet's and mmseg's Swin)."""
from mmengine.model import BaseModule


def is_strict(init_cfg) -> bool:
    """Whether ``init_cfg`` (a dict or a list of them) asks for
    ``StrictPretrained``."""
    cfgs = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    return any(isinstance(c, dict) and c.get('type') == 'StrictPretrained'
               for c in cfgs)


class StrictPretrainedMixin:
    """Put before the backbone class: ``class X(StrictPretrainedMixin,
    Backbone)``. A ``StrictPretrained`` ``init_cfg`` goes through mmengine's
    initializer (``BaseModule.init_weights``); any other keeps the
    backbone's own ``init_weights``."""

    def init_weights(self):
        if is_strict(self.init_cfg):
            BaseModule.init_weights(self)
        else:
            super().init_weights()
