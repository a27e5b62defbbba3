"""The strict check of a conversion: the converted weights must load, with
the same keys and shapes and every value arriving unchanged, into each
mmdet / mmseg module that the family's adapter builds for the target."""
from typing import List, Mapping

from mmrm.utils.mmcv_ops import require_ops

from .strict_init import load_state_dict_strictly
from .targets import Target

#: what the command line offers when mmcv's ops are not built yet
NO_VERIFY = ('Or convert now without the check: --no-verify (Python: '
             'verify=False); the fine-tuning run still loads the file '
             'strictly (StrictPretrained).')


def verify_backbone(state_dict: Mapping, target: Target,
                    source: str) -> List[str]:
    """Load ``state_dict`` strictly into every verification module.

    Returns:
        the names of the modules that loaded it, e.g. ``['mmdet.ResNet',
        'mmseg.ResNet']``.

    Raises:
        StrictLoadError: with the missing/unexpected/mismatched keys, the
            one-line difference and the adapter's hint.
        MmcvOpsError: mmcv has no compiled ops yet (building mmdet's and
            mmseg's modules imports them): what is missing and the command
            that finishes the build, instead of a ``No module named
            'mmcv._ext'`` traceback from inside mmdet.
    """
    adapter = target.adapter
    require_ops(f'{source}: the strict check of the converted weights builds '
                f'mmdet\'s / mmseg\'s {adapter.label}, and importing mmdet '
                f'and mmseg needs mmcv\'s compiled ops', NO_VERIFY)
    hint = adapter.hint(state_dict, target.cfg) if adapter.hint else None
    names = []
    for name, module in adapter.build_targets(target.cfg):
        load_state_dict_strictly(module, state_dict, f'{source} -> {name}',
                                 hint)
        names.append(name)
    return names
