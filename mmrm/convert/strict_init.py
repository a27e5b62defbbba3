"""``StrictPretrained``: load converted backbone weights exactly, or fail.

mmengine's ``Pretrained`` initializer loads with ``strict=False`` and only
*logs* missing or unexpected keys, so a wrong or half-matching checkpoint
silently trains from a partly random backbone. This initializer refuses:

.. code-block:: python

    backbone=dict(
        type='ResNet', depth=50,
        init_cfg=dict(type='StrictPretrained',
                      checkpoint='checkpoints/rm_r50_backbone.pth'))

It is registered in mmengine's root ``WEIGHT_INITIALIZERS`` (visible from the
mmdet/mmseg/mmpretrain scopes). It runs in ``model.init_weights()``, which the
Runner calls before the first training step, so a missing file or a key
mismatch stops the run before any iteration.

Like ``Pretrained``, the loaded weights win over the initialisation of the
module's children: after loading, every submodule is marked initialised so
that their own ``init_weights`` cannot overwrite them.
"""
import os.path as osp
import re
from collections import OrderedDict
from typing import Mapping, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model.weight_init import update_init_info
from mmengine.registry import WEIGHT_INITIALIZERS

from .errors import StrictLoadError, compare_state_dicts, format_keys
from .layouts import unwrap_state_dict
from .loading import load_checkpoint_file
from .mismatch import mismatch_summary


def load_state_dict_strictly(module: nn.Module,
                             state_dict: Mapping[str, torch.Tensor],
                             what: str,
                             hint: Optional[str] = None) -> None:
    """Load ``state_dict`` into ``module`` requiring the same keys and shapes,
    then check that every tensor arrived.

    Args:
        module: the target module.
        state_dict: key -> tensor.
        what: names the source in error messages (e.g. the file).
        hint: appended to the error message.

    Raises:
        StrictLoadError: any missing/unexpected key or shape mismatch; its
            first line names the difference when both sides are recognised
            backbones (:func:`~mmrm.convert.mismatch.mismatch_summary`).
    """
    reference = module.state_dict()
    missing, unexpected, mismatched = compare_state_dicts(
        state_dict, reference)
    if missing or unexpected or mismatched:
        raise StrictLoadError(what, missing, unexpected, mismatched, hint,
                              mismatch_summary(state_dict, reference))
    module.load_state_dict(state_dict, strict=True)
    after = module.state_dict()
    differ = [k for k, v in state_dict.items()
              if not torch.equal(after[k].cpu(), v.cpu().to(after[k].dtype))]
    if differ:  # e.g. a module that transforms weights while loading
        raise StrictLoadError(
            what, hint=f'values changed while loading: {format_keys(differ)}')


def _mark_initialized(module: nn.Module) -> None:
    """Stop ``BaseModule.init_weights`` from re-initialising ``module``'s
    descendants after the weights were loaded."""
    for sub in module.modules():
        if sub is module:
            continue
        if hasattr(type(sub), 'is_init'):  # mmengine BaseModule
            sub._is_init = True
        elif hasattr(sub, 'init_weights'):
            sub.is_init = True


@WEIGHT_INITIALIZERS.register_module(name='StrictPretrained')
class StrictPretrainedInit:
    """Initialise a module from a checkpoint, strictly.

    Args:
        checkpoint (str): path of the checkpoint (a converted backbone file,
            or any checkpoint when ``prefix`` selects the module's part).
        prefix (str, optional): only keys starting with it are used, with the
            prefix removed (e.g. ``'backbone.'`` to take the backbone of a
            full mmpretrain classifier checkpoint). Defaults to None.
        map_location (str): as in :func:`torch.load`. Defaults to 'cpu'.

    Raises (when applied):
        FileNotFoundError: the checkpoint does not exist.
        StrictLoadError: keys or shapes differ; the message names the file
            and lists the keys.
    """

    def __init__(self,
                 checkpoint: str,
                 prefix: Optional[str] = None,
                 map_location: str = 'cpu'):
        if not isinstance(checkpoint, str) or not checkpoint:
            raise TypeError(f'StrictPretrained needs a checkpoint path, got '
                            f'{checkpoint!r}')
        self.checkpoint = checkpoint
        self.prefix = prefix
        self.map_location = map_location

    def _state_dict(self) -> Tuple['OrderedDict', dict]:
        if not osp.isfile(osp.expanduser(self.checkpoint)):
            raise FileNotFoundError(
                f'StrictPretrained: checkpoint file not found: '
                f'{self.checkpoint} (convert a pretraining checkpoint with '
                f'tools/model_converters/convert_checkpoint.py first)')
        raw = load_checkpoint_file(self.checkpoint, self.map_location)
        state_dict = unwrap_state_dict(raw, self.checkpoint)
        meta = raw.get('meta') if isinstance(raw.get('meta'), dict) else {}
        if self.prefix:
            prefix = self.prefix if self.prefix.endswith('.') \
                else self.prefix + '.'
            selected = OrderedDict((k[len(prefix):], v)
                                   for k, v in state_dict.items()
                                   if k.startswith(prefix))
            if not selected:
                raise StrictLoadError(
                    f'StrictPretrained({self.checkpoint})',
                    hint=f'no key starts with prefix {prefix!r}')
            state_dict = selected
        return state_dict, meta

    def __call__(self, module: nn.Module) -> None:
        what = f'StrictPretrained({self.checkpoint}) -> ' \
               f'{module.__class__.__name__}'
        print_log(f'strictly loading {module.__class__.__name__} from '
                  f'{self.checkpoint}', logger='current')
        state_dict, meta = self._state_dict()
        hint = None
        if any(re.match(r'^(backbone|head|neck)\.', k) for k in state_dict):
            hint = ('the file looks like a whole model; convert it with '
                    'tools/model_converters/convert_checkpoint.py or set prefix="backbone."')
        elif meta.get('backbone_cfg'):
            hint = (f'the file was converted for backbone '
                    f'{meta.get("backbone")}: {meta["backbone_cfg"]}; the '
                    f'model\'s backbone must have the same shape arguments, '
                    f'or convert the pretraining checkpoint for this model')
        load_state_dict_strictly(module, state_dict, what, hint)
        _mark_initialized(module)
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=self._get_init_info())

    def _get_init_info(self) -> str:
        return f'{self.__class__.__name__}: strictly loaded from ' \
               f'{self.checkpoint}'
