"""The output of a conversion: ``{'state_dict': backbone weights, 'meta':
{...}}``, written atomically; the writer returns what it wrote."""
import os
import os.path as osp
import tempfile
from typing import NamedTuple, Optional

import torch


class ConvertedBackbone(NamedTuple):
    """What a conversion produced (and, once written, where it went).

    ``meta`` keys: ``source``, ``source_layout``, ``backbone`` (name),
    ``backbone_cfg``, ``dropped_keys``, ``filled_keys``, ``verified_with``,
    ``mmrm_version``, ``torch_version``, ``time``, and the adapter's notes
    (``pos_embed_resized``, ``unchecked``) when there are any.
    """
    state_dict: dict
    meta: dict
    path: Optional[str] = None

    def summary(self) -> str:
        """What the command line prints: sizes, what was dropped, added,
        resized and left unchecked, and the strict check."""
        meta, sd = self.meta, self.state_dict
        n_params = sum(v.numel() for k, v in sd.items()
                       if not k.endswith('num_batches_tracked'))
        verified = ', '.join(meta['verified_with']) or \
            'not verified (--no-verify)'
        lines = [
            f'converted {meta["source"]} ({meta["source_layout"]}) -> '
            f'{self.path}',
            f'  backbone {meta["backbone"]}: {len(sd)} tensors, '
            f'{n_params / 1e6:.2f}M parameters',
            f'  dropped: {len(meta["dropped_keys"])} non-backbone tensors',
            f'  strict load: {verified}']
        resized = meta.get('pos_embed_resized')
        if resized:
            grid = lambda g: 'x'.join(map(str, g))  # noqa: E731
            lines.append(
                f'  resized {resized["key"]} from a '
                f'{grid(resized["source_grid"])} to a '
                f'{grid(resized["target_grid"])} grid ({resized["mode"]}), '
                f'as asked')
        added = [k for k in meta['filled_keys']
                 if not k.endswith('num_batches_tracked')]
        if added:
            filled = ', '.join(f'{k} = {_constant(sd[k])}' for k in added)
            lines.append(f'  not in the pretraining checkpoint, initialised '
                         f'as the target does: {filled}')
        if meta.get('unchecked'):
            lines.append(f'  not stored in the weights and not checked (no '
                         f'training config in the checkpoint): '
                         f'{", ".join(meta["unchecked"])}')
        return '\n'.join(lines)


def _constant(tensor) -> str:
    """``'1'`` for a tensor of ones, ``'(not constant)'`` otherwise."""
    flat = tensor.flatten()
    if flat.numel() and bool((flat == flat[0]).all()):
        return f'{float(flat[0]):g}'
    return '(not constant)'


def write_backbone(converted: ConvertedBackbone,
                   dst: str) -> ConvertedBackbone:
    """Save ``converted`` to ``dst`` (folders created; written to a
    temporary file first, so that ``dst`` is never half-written).

    Returns:
        ``converted`` with ``path`` set to ``dst``.
    """
    dst = osp.expanduser(dst)
    folder = osp.dirname(osp.abspath(dst))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix='.tmp')
    os.close(fd)
    try:
        torch.save({'state_dict': converted.state_dict,
                    'meta': converted.meta}, tmp)
        os.replace(tmp, dst)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
    return converted._replace(path=dst)
