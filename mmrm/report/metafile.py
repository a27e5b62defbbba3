"""Paper numbers from the project's OpenMMLab-style metafiles.

A metafile (``configs/**/metafile.yml``) holds a ``Models`` list (a bare
list is accepted too); each entry looks like::

    - Name: resnet50_8xb64-300e-rm_in1k          # config stem = work_dirs name
      Config: configs/pretrain/imagenet/resnet50_8xb64-300e-rm_in1k.py
      Metadata:
        Backbone: resnet50
        Regularizer: rm                          # or `Pretrain:` (det / seg)
        Paper Table: 5                           # int, str or a list of them
      Results:
        - Task: Image Classification
          Dataset: ImageNet-1k
          Metrics: {top1_err: ..., top5_err: ...}

Values are the paper's numbers as printed, in the convention stated in
:mod:`mmrm.report`. The detector / segmentor family of an entry is matched
against ``Metadata.Method`` / ``Architecture`` / ``Detector`` /
``Segmentor``, ``In Collection`` and the name of the folder holding the
metafile (``configs/det/atss/metafile.yml`` -> ``atss``).
"""
import glob
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple

import yaml

# OpenMMLab model-zoo metric names -> the keys mmengine logs.
METRIC_ALIASES = {
    'box ap': 'coco/bbox_mAP',
    'mask ap': 'coco/segm_mAP',
}
# Accuracy is what runs log, never what a metafile stores (it stores the
# paper's error): refused, so that a table never silently misses a value.
_ACCURACY_KEYS = {'accuracy/top1', 'accuracy/top5', 'top 1 accuracy',
                  'top 5 accuracy'}
# Spelling variants of one regulariser / pretraining method.
_REGULARIZER_ALIASES = {'recursivemix': 'rm', 'none': 'baseline',
                        'vanilla': 'baseline'}


def norm_key(value) -> Optional[str]:
    """Canonical form of a backbone / method / regulariser name.

    Lower case, alphanumerics only, ``+`` kept (``'cutmix+resize'``):
    ``'ResNet-50'`` -> ``'resnet50'``, ``'Mask R-CNN'`` -> ``'maskrcnn'``,
    ``'pvtv2_b1'`` -> ``'pvtv2b1'``, ``'RecursiveMix'`` -> ``'rm'``.
    """
    if value is None:
        return None
    key = re.sub(r'[^a-z0-9+]', '', str(value).lower())
    return _REGULARIZER_ALIASES.get(key, key)


@dataclass
class MetafileEntry:
    """One model of a metafile, reduced to what the results tables need."""
    name: str
    config: Optional[str]
    backbone: Optional[str]
    regularizer: Optional[str]
    methods: Tuple[str, ...]
    tables: Tuple[str, ...]
    metrics: Dict[str, float] = field(default_factory=dict)
    source: str = ''

    def matches(self, table: str, method: Optional[str], backbone: str,
                regularizer: str) -> bool:
        """Whether this entry is the row ``(method, backbone, regularizer)``
        of paper table ``table`` (``method=None`` matches any)."""
        return (table in self.tables and self.backbone == norm_key(backbone)
                and self.regularizer == norm_key(regularizer)
                and (method is None or norm_key(method) in self.methods))


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _entry_methods(meta: dict, model: dict, path: str) -> Tuple[str, ...]:
    """Every name the entry's detector / segmentor family may go by."""
    names = []
    for key in ('Method', 'Architecture', 'Detector', 'Segmentor'):
        names += _as_list(meta.get(key))
    names += _as_list(model.get('In Collection'))
    names.append(osp.basename(osp.dirname(osp.abspath(path))))
    return tuple(dict.fromkeys(norm_key(n) for n in names if n))


def _parse_model(model: dict, path: str) -> MetafileEntry:
    """One ``Models`` item -> :class:`MetafileEntry` (raises if malformed)."""
    if not isinstance(model, dict) or not model.get('Name'):
        raise ValueError(f'{path}: every model needs a `Name`, got {model!r}')
    meta = model.get('Metadata') or {}
    if not isinstance(meta, dict):
        raise ValueError(f'{path}: `Metadata` of {model["Name"]} must be a '
                         f'mapping, got {type(meta).__name__}')
    metrics: Dict[str, float] = {}
    for result in _as_list(model.get('Results')):
        for key, value in ((result or {}).get('Metrics') or {}).items():
            if str(key).lower() in _ACCURACY_KEYS:
                raise ValueError(
                    f'{path}: {model["Name"]} stores {key!r}; metafiles store '
                    "the paper's top-1 / top-5 error as top1_err / top5_err")
            key = METRIC_ALIASES.get(str(key).lower(), str(key))
            try:
                metrics[key] = float(value)
            except (TypeError, ValueError):
                raise ValueError(
                    f'{path}: metric {key!r} of {model["Name"]} is not a '
                    f'number: {value!r}') from None
    regularizer = meta.get('Regularizer', meta.get('Pretrain'))
    return MetafileEntry(
        name=str(model['Name']),
        config=model.get('Config'),
        backbone=norm_key(meta.get('Backbone')),
        regularizer=norm_key(regularizer),
        methods=_entry_methods(meta, model, path),
        tables=tuple(str(t).strip() for t in _as_list(
            meta.get('Paper Table'))),
        metrics=metrics,
        source=path)


def load_metafile(path: str) -> List[MetafileEntry]:
    """Parse one metafile; ``ValueError`` naming the file if malformed."""
    try:
        with open(path, encoding='utf-8') as f:
            data = yaml.safe_load(f)
    except yaml.YAMLError as err:
        raise ValueError(f'{path}: not valid YAML ({err})') from None
    if data is None:
        return []
    models = data.get('Models', []) if isinstance(data, dict) else data
    if not isinstance(models, list):
        raise ValueError(f'{path}: `Models` must be a list')
    return [_parse_model(m, path) for m in models]


def find_metafiles(roots: Iterable[str]) -> List[str]:
    """All ``metafile.yml`` under each root (a missing root is skipped)."""
    paths = []
    for root in roots:
        if osp.isfile(root):
            paths.append(root)
        elif osp.isdir(root):
            paths += sorted(glob.glob(
                osp.join(root, '**', 'metafile.yml'), recursive=True))
    return paths


def load_entries(roots: Iterable[str],
                 notes: Optional[List[str]] = None) -> List[MetafileEntry]:
    """Entries of every metafile under ``roots``, first occurrence of a Name
    wins (later duplicates are reported in ``notes``)."""
    entries, seen = [], {}
    for path in find_metafiles(roots):
        for entry in load_metafile(path):
            if entry.name in seen:
                if notes is not None:
                    notes.append(f'`{entry.name}` is listed in both '
                                 f'{seen[entry.name]} and {path}; the first '
                                 'is used.')
                continue
            seen[entry.name] = path
            entries.append(entry)
    return entries


def entry_run_name(entry: MetafileEntry) -> str:
    """Folder name of the entry's runs under work_dirs (the config stem)."""
    if entry.config:
        return osp.splitext(osp.basename(entry.config))[0]
    return entry.name


__all__ = [
    'MetafileEntry', 'METRIC_ALIASES', 'norm_key', 'load_metafile',
    'find_metafiles', 'load_entries', 'entry_run_name'
]
