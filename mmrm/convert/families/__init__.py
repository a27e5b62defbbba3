"""The converter's backbone families: one adapter per file, one table.

To add a family, write ``families/<name>.py`` that builds a
:class:`~mmrm.convert.adapter.BackboneAdapter` named ``ADAPTER`` and add it
to :data:`ADAPTERS` below (the order is the order of the ``--backbone``
presets in messages and of detection).
"""
from typing import Dict

from ..adapter import BackboneAdapter
from . import pvtv2, resnet, swin, vit

#: family -> adapter
ADAPTERS: Dict[str, BackboneAdapter] = {
    a.family: a
    for a in (resnet.ADAPTER, pvtv2.ADAPTER, vit.ADAPTER, swin.ADAPTER)
}
