"""Reading checkpoints under torch >= 2.6's ``weights_only`` default.

torch >= 2.6 unpickles with ``weights_only=True`` unless told otherwise: only
tensors, containers and primitive types (plus an allow-list) may appear.
mmengine's own checkpoints also carry its ``MessageHub`` state
(:class:`~mmengine.logging.HistoryBuffer` objects holding numpy arrays), so a
plain ``torch.load`` of them fails, and so does mmengine's ``--resume``.

The choice made here is to *allow-list* exactly those types
(:func:`mmengine_safe_globals`) and keep loading weights-only, never to fall
back silently to full unpickling. Full unpickling (``trusted=True``) is an
explicit opt-in for files the user vouches for.

torch < 2.4 (the ``openmmlab`` stack's 2.1) has no allow-list API
(``torch.serialization.add_safe_globals``) and a fixed weights-only
unpickler that refuses mmengine's types. There :func:`load_checkpoint_file`
keeps the same promise with Python's own restricted unpickling (a
``find_class`` that resolves only torch's weights-only globals and this
allow-list; :class:`_AllowListUnpickler`), and
:func:`allow_mmengine_checkpoints` has nothing to do: that torch's
``torch.load`` unpickles fully by default, so mmengine's resume works as
it always has there.
"""
import _compat_pickle
import os
import os.path as osp
import pickle
import types
import zipfile
from typing import Any, Dict, List

import numpy as np
import torch

from .errors import NotACheckpointError, UnsafeCheckpointError, format_keys


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """Stand-in for ``builtins.getattr`` during weights-only loads.

    A pickled ``HistoryBuffer`` refers to its statistics methods as
    ``getattr(HistoryBuffer, 'mean')``. The real ``getattr`` is not
    allow-listed (it would reach any attribute of any loaded object); this
    one only resolves public methods of ``HistoryBuffer``.
    """
    from mmengine.logging import HistoryBuffer
    if obj is HistoryBuffer and isinstance(name, str) and \
            not name.startswith('_') and callable(
                getattr(HistoryBuffer, name, None)):
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'weights-only load: refusing getattr({obj!r}, {name!r}); only '
        f'HistoryBuffer methods are allowed')


def mmengine_safe_globals() -> List[Any]:
    """Types that mmengine writes into its checkpoints besides tensors.

    ``message_hub.log_scalars`` holds ``HistoryBuffer`` objects whose state
    is two numpy arrays and references to its statistics methods (pickled as
    ``getattr(HistoryBuffer, name)``, served by a restricted stand-in);
    ``message_hub.runtime_info`` may hold numpy scalars. Rebuilding them
    calls no code beyond numpy's array constructor.

    Returns:
        list: objects (or ``(object, pickled_name)`` pairs) for
        :func:`torch.serialization.add_safe_globals`.
    """
    from mmengine.logging import HistoryBuffer
    safe: List[Any] = [HistoryBuffer, np.ndarray, np.dtype,
                       (_history_buffer_getattr, 'builtins.getattr')]
    # numpy 2 pickles arrays via numpy._core, numpy 1 via numpy.core: the
    # running numpy's helpers under both names, so that a checkpoint written
    # with either loads with either
    if int(np.__version__.split('.')[0]) >= 2:
        from numpy._core import multiarray as _ma
    else:
        from numpy.core import multiarray as _ma
    for name in ('_reconstruct', 'scalar'):
        fn = getattr(_ma, name)
        safe.append(fn)
        for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
            safe.append((fn, f'{module}.{name}'))
    # every concrete dtype class (Float64DType, Int64DType, ...; numpy >= 1.25)
    dtypes = getattr(np, 'dtypes', None)
    safe.extend(getattr(dtypes, n) for n in dir(dtypes) if n.endswith('DType'))
    return safe


#: torch >= 2.4: weights-only loads take an allow-list
HAS_SAFE_GLOBALS = hasattr(torch.serialization, 'add_safe_globals')


#: what torch >= 2.4 allows by default beyond torch 2.1's list (numpy
#: pickles bytes through _codecs.encode under protocol 2), where they exist
_NEWER_TORCH_DEFAULTS = (
    '_codecs.encode', 'builtins.bytearray', 'builtins.complex',
    'builtins.set', 'collections.Counter', 'torch.device',
    'torch._utils._rebuild_parameter_with_state',
    'torch._utils._rebuild_qtensor', 'torch._utils._rebuild_tensor_v3',
    'torch._utils._rebuild_device_tensor_from_numpy')


def _allowed_by_name() -> Dict[str, Any]:
    """Full pickled name -> object, for :class:`_AllowListUnpickler`:
    torch's weights-only globals (those of torch >= 2.4 included: every
    dtype, ``torch.device``, :data:`_NEWER_TORCH_DEFAULTS`) plus
    :func:`mmengine_safe_globals`."""
    import importlib
    from torch import _weights_only_unpickler
    allowed = dict(_weights_only_unpickler._get_allowed_globals())
    allowed.update((f'torch.{n}', getattr(torch, n)) for n in dir(torch)
                   if isinstance(getattr(torch, n, None), torch.dtype))
    for name in _NEWER_TORCH_DEFAULTS:
        module, _, attr = name.rpartition('.')
        obj = getattr(importlib.import_module(module), attr, None)
        if obj is not None:
            allowed[name] = obj
    for g in mmengine_safe_globals():
        obj, name = g if isinstance(g, tuple) else (
            g, f'{g.__module__}.{g.__qualname__}')
        allowed[name] = obj
    return allowed


class _AllowListUnpickler(pickle.Unpickler):
    """Python's documented way to restrict unpickling ("Restricting
    Globals"): every global the file names must be on the allow-list, so
    only allow-listed callables run (torch < 2.4, see the module
    docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._allowed = _allowed_by_name()

    def find_class(self, module: str, name: str) -> Any:
        # protocol-2 pickles name Python 2 modules (__builtin__): map them
        # back as pickle's own find_class does
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        obj = self._allowed.get(f'{module}.{name}')
        if obj is None:
            raise pickle.UnpicklingError(
                f'Unsupported global: GLOBAL {module}.{name} is not on the '
                'weights-only allow-list')
        return obj


def _allow_list_load(file, **kwargs) -> Any:
    return _AllowListUnpickler(file, **kwargs).load()


#: what torch.load calls ``pickle_module`` (``Unpickler`` and ``load``)
_ALLOW_LIST_PICKLE = types.SimpleNamespace(
    __name__='mmrm_allow_list_pickle', Unpickler=_AllowListUnpickler,
    load=_allow_list_load)


def _load_weights_only(path: str, map_location: Any) -> Any:
    """``torch.load`` weights-only with :func:`mmengine_safe_globals`
    allowed, on any torch >= 2.1."""
    if not HAS_SAFE_GLOBALS:
        return torch.load(path, map_location=map_location,
                          weights_only=False, pickle_module=_ALLOW_LIST_PICKLE)
    # only the types not allow-listed yet: torch's context manager removes
    # on exit everything it was given, which would undo a process-wide
    # allow_mmengine_checkpoints() (and break mmengine's --resume after it)
    already = set(torch.serialization.get_safe_globals())
    scoped = [g for g in mmengine_safe_globals() if g not in already]
    with torch.serialization.safe_globals(scoped):
        return torch.load(path, map_location=map_location, weights_only=True)


def allow_mmengine_checkpoints() -> None:
    """Allow-list mmengine's checkpoint types for weights-only loading in
    this process (used by ``tools/train.py`` so that ``--resume`` works).

    The allow-list is process-wide (``torch.serialization.add_safe_globals``)
    and only adds plain data types: loading stays weights-only. torch < 2.4
    has no allow-list and loads fully by default: nothing to do there.
    """
    if HAS_SAFE_GLOBALS:
        torch.serialization.add_safe_globals(mmengine_safe_globals())


def _unsafe_globals(path: str) -> List[str]:
    """Names of the non-allow-listed globals a zip checkpoint would import."""
    try:
        return list(torch.serialization.get_unsafe_globals_in_checkpoint(path))
    except Exception:  # not a zip checkpoint, or unreadable
        return []


def load_checkpoint_file(path: str,
                         map_location: str = 'cpu',
                         trusted: bool = False) -> Any:
    """Load a checkpoint file, weights-only by default.

    Args:
        path: local file path.
        map_location: as in :func:`torch.load`.
        trusted: load with ``weights_only=False`` (runs arbitrary pickle code;
            only for files you trust).

    Returns:
        whatever the file holds (normally a dict).

    Raises:
        FileNotFoundError: the path does not exist.
        NotACheckpointError: the file is not a PyTorch checkpoint.
        UnsafeCheckpointError: the file needs types outside the allow-list.
    """
    path = osp.expanduser(str(path))
    if not osp.exists(path):
        raise FileNotFoundError(f'checkpoint file not found: {path}')
    if osp.isdir(path):
        raise NotACheckpointError(f'{path} is a directory, not a checkpoint')
    if os.path.getsize(path) == 0:
        raise NotACheckpointError(f'{path} is empty, not a checkpoint')
    if trusted:
        try:
            return torch.load(path, map_location=map_location,
                              weights_only=False)
        except Exception as e:  # noqa: BLE001
            raise NotACheckpointError(
                f'{path} is not a PyTorch checkpoint ({type(e).__name__}: '
                f'{e})') from e
    try:
        return _load_weights_only(path, map_location)
    except Exception as e:  # noqa: BLE001
        unsafe = _unsafe_globals(path) if zipfile.is_zipfile(path) else []
        allowed = {f'{getattr(g, "__module__", "")}.{g.__qualname__}'
                   for g in mmengine_safe_globals()
                   if not isinstance(g, tuple)}
        unsafe = [g for g in unsafe if g not in allowed]
        if unsafe or (isinstance(e, pickle.UnpicklingError)
                      and 'Unsupported global' in str(e)):
            listed = format_keys(unsafe) if unsafe else str(e).splitlines()[0]
            raise UnsafeCheckpointError(
                f'{path} is a PyTorch checkpoint but holds pickled objects '
                f'that a weights-only load refuses: {listed}. If you trust '
                f'the file, load it with trusted=True (CLI: '
                f'--trust-checkpoint), which unpickles arbitrary code.') from e
        raise NotACheckpointError(
            f'{path} is not a PyTorch checkpoint ({type(e).__name__}: '
            f'{str(e).splitlines()[0] if str(e) else ""})') from e
