"""Exceptions raised by the checkpoint converter and the strict initializer.

All of them derive from :class:`CheckpointError` (a ``ValueError``), so a
caller can catch every "this file cannot become that backbone" problem at once,
while tests and tools can tell the cases apart.
"""
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

#: how many keys an error message lists per category before it abbreviates
MAX_LISTED_KEYS = 20


def format_keys(keys: Iterable[str], limit: int = MAX_LISTED_KEYS) -> str:
    """Render keys as a short, sorted, comma separated list.

    Args:
        keys: the keys to show.
        limit: show at most this many, then ``... (+N more)``.
    """
    keys = sorted(keys)
    shown = ', '.join(keys[:limit])
    if len(keys) > limit:
        shown += f', ... (+{len(keys) - limit} more)'
    return shown


class CheckpointError(ValueError):
    """Base class: a checkpoint cannot be converted or loaded as asked."""


class NotACheckpointError(CheckpointError):
    """The file is not a PyTorch checkpoint holding a dict of tensors."""


class UnsafeCheckpointError(CheckpointError):
    """The checkpoint pickles objects beyond the allow-list of a weights-only
    load; it can only be read with ``weights_only=False`` (trusted files)."""


class TaskCheckpointError(CheckpointError):
    """A detector or segmentor checkpoint was given where a pretrained
    classifier (backbone) checkpoint is expected."""


class WrongBackboneError(CheckpointError):
    """The checkpoint holds another backbone family than the target one, or
    the target backbone type is not supported."""


class DeepStemError(WrongBackboneError):
    """A ResNetV1c/V1d deep-stem checkpoint (``stem.*`` keys) was given for a
    plain ResNet target (``conv1``/``bn1`` stem), or the other way round."""


class ArchitectureMismatchError(WrongBackboneError):
    """Same family, but another width, depth, patch size, window or head
    count than the target."""


class PositionEmbeddingError(WrongBackboneError):
    """The position embedding is missing, or of another grid than the
    target's and resizing was not asked for."""


class StrictLoadError(CheckpointError):
    """Keys or shapes of a state dict and a module do not match exactly.

    The message starts with one line naming the difference when it is known
    (``summary``, e.g. ``'base width 16 vs 64 (...)'``, see
    :func:`mmrm.convert.mismatch.mismatch_summary`), then lists the keys.

    Attributes:
        missing (list[str]): keys the module has and the state dict lacks.
        unexpected (list[str]): keys the state dict has and the module lacks.
        mismatched (list[tuple]): ``(key, checkpoint_shape, module_shape)``.
    """

    def __init__(self,
                 what: str,
                 missing: Sequence[str] = (),
                 unexpected: Sequence[str] = (),
                 mismatched: Sequence[Tuple[str, tuple, tuple]] = (),
                 hint: Optional[str] = None,
                 summary: Optional[str] = None):
        self.missing: List[str] = sorted(missing)
        self.unexpected: List[str] = sorted(unexpected)
        self.mismatched = sorted(mismatched)
        self.summary = summary
        lines = [f'{what}: {summary}'] if summary else []
        lines.append(f'{"  " if summary else what + ": "}the state dict does '
                     f'not match the module exactly')
        if self.missing:
            lines.append(f'  missing keys ({len(self.missing)}): '
                         f'{format_keys(self.missing)}')
        if self.unexpected:
            lines.append(f'  unexpected keys ({len(self.unexpected)}): '
                         f'{format_keys(self.unexpected)}')
        if self.mismatched:
            shown = [f'{k} {tuple(a)} vs {tuple(b)}'
                     for k, a, b in self.mismatched[:MAX_LISTED_KEYS]]
            more = len(self.mismatched) - len(shown)
            lines.append(
                f'  shape mismatches, checkpoint vs module '
                f'({len(self.mismatched)}): ' + ', '.join(shown) +
                (f', ... (+{more} more)' if more > 0 else ''))
        if hint:
            lines.append(f'  hint: {hint}')
        super().__init__('\n'.join(lines))


def compare_state_dicts(
    state_dict: Dict[str, 'object'], reference: Dict[str, 'object']
) -> Tuple[List[str], List[str], List[Tuple[str, tuple, tuple]]]:
    """Compare a state dict with a module's own state dict.

    Args:
        state_dict: key -> tensor, the weights to load.
        reference: key -> tensor, ``module.state_dict()``.

    Returns:
        ``(missing, unexpected, mismatched)`` as in :class:`StrictLoadError`.
    """
    missing = [k for k in reference if k not in state_dict]
    unexpected = [k for k in state_dict if k not in reference]
    mismatched = [(k, tuple(state_dict[k].shape), tuple(reference[k].shape))
                  for k in state_dict
                  if k in reference and tuple(state_dict[k].shape) != tuple(
                      reference[k].shape)]
    return missing, unexpected, mismatched
