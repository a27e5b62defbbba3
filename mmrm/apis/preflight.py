"""Checks that :func:`mmrm.apis.train` runs after building the Runner and before
``runner.train()``, so that bad inputs stop the run with a message naming
the problem instead of failing late (at the first iteration, or after hours)
or silently (a half-loaded checkpoint):

* dataset paths (:func:`check_dataset_paths`): ``data_root``, ``ann_file``
  and the ``data_prefix`` directories of every train/val/test dataset exist,
  and image directories are not empty (mmseg's ADE20K dataset on an empty
  directory otherwise fails with numpy's "need at least one array to
  concatenate", as does mmengine for any dataset that loads no sample);
* the training set (:func:`check_train_dataset`): not empty, and the image
  (and segmentation map) files its annotations name exist (mmdet's COCO
  dataset otherwise fails at the first iteration that draws a missing file);
* the checkpoint of ``--resume`` / ``load_from``
  (:func:`check_checkpoint_matches`): readable (a truncated file is named,
  not reported as a zip-reader error) and holding exactly the model's keys
  and shapes; mmengine loads with ``strict=False`` and only logs a warning,
  so a checkpoint of another architecture would train from a half-random
  model. ``--allow-partial-load`` keeps mmengine's behaviour, but not for a
  file of which no key would load. A converted backbone file is named as
  such, with the ``init_cfg`` line that loads it.
"""
import os.path as osp
from typing import Iterable, List, Optional

from mmrm.convert.errors import (CheckpointError, StrictLoadError,
                                 compare_state_dicts, format_keys)
from mmrm.convert.layouts import unwrap_state_dict
from mmrm.convert.loading import load_checkpoint_file

#: how many images of the training set are checked for existence
MAX_CHECKED_FILES = 2000
_DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _is_local(path) -> bool:
    return isinstance(path, str) and bool(path) and '://' not in path


def _join(root: Optional[str], path: str) -> str:
    if root and not osp.isabs(path):
        return osp.join(root, path)
    return path


def _leaf_datasets(ds_cfg) -> Iterable[dict]:
    """Dataset configs inside wrappers (Repeat/Concat/ClassBalanced...)."""
    if not isinstance(ds_cfg, dict):
        return
    if 'datasets' in ds_cfg:
        for sub in ds_cfg['datasets']:
            yield from _leaf_datasets(sub)
    elif 'dataset' in ds_cfg:
        yield from _leaf_datasets(ds_cfg['dataset'])
    else:
        yield ds_cfg


def check_dataset_paths(cfg) -> None:
    """Raise if a dataset path of the config is missing or empty.

    Raises:
        FileNotFoundError: ``data_root``, ``ann_file`` or a ``data_prefix``
            directory does not exist (message names the dataloader, the key
            and the path).
        ValueError: a ``data_prefix`` directory holds no file.
    """
    for loader in _DATALOADERS:
        loader_cfg = cfg.get(loader)
        if not isinstance(loader_cfg, dict):
            continue
        for ds in _leaf_datasets(loader_cfg.get('dataset')):
            name = f'{loader}.dataset ({ds.get("type", "?")})'
            root = ds.get('data_root')
            if _is_local(root) and not osp.isdir(root):
                raise FileNotFoundError(
                    f'{name}: data_root does not exist: {root}')
            ann = ds.get('ann_file')
            if _is_local(ann) and not osp.isfile(_join(root, ann)):
                raise FileNotFoundError(
                    f'{name}: ann_file does not exist: {_join(root, ann)}')
            prefix = ds.get('data_prefix')
            items = prefix.items() if isinstance(prefix, dict) else \
                [('data_prefix', prefix)]
            for key, sub in items:
                if not _is_local(sub):
                    continue
                path = _join(root, sub)
                if not osp.isdir(path):
                    if osp.isfile(path):
                        continue  # some datasets take a file here
                    raise FileNotFoundError(
                        f'{name}: data_prefix.{key} directory does not '
                        f'exist: {path}')
                if not _any_file(path):
                    raise ValueError(
                        f'{name}: data_prefix.{key} directory is empty: '
                        f'{path}')


def _any_file(path: str) -> bool:
    import os
    for _, _, files in os.walk(path):
        if files:
            return True
    return False


def _sample_entries(dataset, limit: int) -> List[dict]:
    n = len(dataset)
    if n <= limit:
        idx = range(n)
    else:  # evenly spread, first and last included
        idx = sorted({round(i * (n - 1) / (limit - 1)) for i in range(limit)})
    getter = getattr(dataset, 'get_data_info', None)
    if getter is None:
        return []
    return [getter(i) for i in idx]


def check_train_dataset(dataloader) -> None:
    """Raise if the built training set is empty or names missing files.

    Args:
        dataloader: the built training ``DataLoader``.

    Raises:
        ValueError: the dataset has no sample.
        FileNotFoundError: files named by the annotations are missing (up to
            :data:`MAX_CHECKED_FILES` samples are checked, evenly spread).
    """
    dataset = dataloader.dataset
    name = type(dataset).__name__
    if len(dataset) == 0:
        raise ValueError(
            f'the training set ({name}) is empty: check data_root, ann_file, '
            f'data_prefix and the class names (metainfo) of train_dataloader')
    missing = []
    for info in _sample_entries(dataset, MAX_CHECKED_FILES):
        if not isinstance(info, dict):
            continue
        for key in ('img_path', 'seg_map_path'):
            path = info.get(key)
            if _is_local(path) and not osp.isfile(path):
                missing.append(path)
    if missing:
        raise FileNotFoundError(
            f'the training set ({name}) names {len(missing)} file(s) that do '
            f'not exist (do the annotation file names match the images on '
            f'disk?): {format_keys(missing, 5)}')


def resume_checkpoint_path(cfg) -> Optional[str]:
    """The file that ``runner.train()`` will resume or load from."""
    if cfg.get('resume', False) and cfg.get('load_from') is None:
        from mmengine.runner import find_latest_checkpoint
        return find_latest_checkpoint(cfg.work_dir)
    return cfg.get('load_from')


class NothingToLoadError(CheckpointError):
    """Not one key of a checkpoint would load into the model
    (``--allow-partial-load`` accepts a partial match, not none at all)."""


def _model_state(path: str) -> dict:
    import re
    state = unwrap_state_dict(load_checkpoint_file(path), path)
    return {re.sub(r'^module\.', '', k): v for k, v in state.items()}


def backbone_file_hint(state: dict, model, path: str) -> Optional[str]:
    """When ``state`` is a backbone's weights (a converted backbone file:
    its keys are the model's ``backbone.*`` keys without the prefix), what
    to write instead of ``load_from``; else None."""
    own = model.state_dict()
    if any(k in own for k in state):
        return None
    matching = [k for k in state if own.get(f'backbone.{k}') is not None]
    if len(matching) < max(1, len(state) // 2):
        return None
    return (f'{path} is a backbone file (what '
            'tools/model_converters/convert_checkpoint.py writes: the '
            "backbone's weights, keys without 'backbone.'), not a checkpoint "
            f'of the whole {type(model).__name__}; give it to the backbone '
            'instead of load_from / tools/test.py: model = dict(backbone='
            f"dict(init_cfg=dict(type='StrictPretrained', checkpoint="
            f"'{path}'))) (on the command line: --cfg-options "
            'model.backbone.init_cfg.type=StrictPretrained '
            f'model.backbone.init_cfg.checkpoint={path}) and fine-tune; '
            'it holds no head to evaluate')


def check_checkpoint_matches(model, path: str,
                             allow_partial_load: bool = False) -> None:
    """Raise unless ``path`` is readable and holds exactly the model's keys
    and shapes (``module.`` prefixes removed, as mmengine does); with
    ``allow_partial_load``, unless at least one key would load.

    Raises:
        FileNotFoundError, NotACheckpointError: unreadable file.
        StrictLoadError: missing/unexpected keys or shape mismatches; the
            message names the file and suggests ``--allow-partial-load``, or,
            for a converted backbone file, the ``init_cfg`` line to use.
        NothingToLoadError: ``allow_partial_load`` and no key of the file
            has the name and shape of a model key.
    """
    if not _is_local(path):
        return
    state = _model_state(path)
    own = model.state_dict()
    backbone_hint = backbone_file_hint(state, model, path)
    if allow_partial_load:
        if not any(k in own and tuple(v.shape) == tuple(own[k].shape)
                   for k, v in state.items()):
            raise NothingToLoadError(
                f'--allow-partial-load: no key of {path} matches '
                f'{type(model).__name__} (name and shape): nothing would '
                'load, the run would start from a random model. ' +
                (backbone_hint or 'Is it a checkpoint of this model?'))
        return
    missing, unexpected, mismatched = compare_state_dicts(state, own)
    if missing or unexpected or mismatched:
        raise StrictLoadError(
            f'checkpoint {path} -> {type(model).__name__}', missing,
            unexpected, mismatched, summary=backbone_hint,
            hint=None if backbone_hint else
            'is it a checkpoint of another model? mmengine would load '
            'only the matching part; pass --allow-partial-load to accept '
            'that (e.g. to fine-tune with a new head)')


def preflight(runner, cfg, allow_partial_load: bool = False) -> None:
    """All checks above, on a built Runner (before ``runner.train()``).

    The training dataloader is built here (the Runner keeps and reuses it).
    """
    from mmengine.model import is_model_wrapper
    check_dataset_paths(cfg)
    loader_cfg = runner._train_dataloader
    try:
        runner._train_dataloader = runner.build_dataloader(
            loader_cfg, seed=runner.seed,
            diff_rank_seed=runner._randomness_cfg.get('diff_rank_seed',
                                                      False))
    except ValueError as e:
        # mmengine's BaseDataset.serialize_data on an empty data list
        if 'need at least one array to concatenate' not in str(e):
            raise
        ds_type = loader_cfg.get('dataset', {}).get('type', '?') \
            if isinstance(loader_cfg, dict) else '?'
        raise ValueError(
            f'the training set ({ds_type}) is empty: no sample was loaded; '
            f'check data_root, ann_file, data_prefix and the class names '
            f'(metainfo) of train_dataloader') from e
    check_train_dataset(runner._train_dataloader)
    path = resume_checkpoint_path(cfg)
    if path is not None:
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        check_checkpoint_matches(model, path, allow_partial_load)
