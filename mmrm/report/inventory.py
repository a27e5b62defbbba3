"""The run folders under a work_dirs folder, and whether each run finished.

mmengine's Runner writes, for a run whose work dir is ``W``
(``tools/train.py``: ``work_dirs/<config stem>`` unless ``--work-dir``)::

    W/<config file name>.py             # the config, dumped at the start
    W/<YYYYMMDD_HHMMSS>/vis_data/...    # the logs of one session (runs.py)

A *run folder* is a folder with at least one timestamp subfolder. Folders
that hold run folders (``work_dirs/demo/<stem>``, ``work_dirs/pipeline_demo/
det``, ``work_dirs/compare_fmnist/<method>_seed<k>``) are searched as well,
down to :data:`MAX_DEPTH` levels.
"""
import ast
import glob
import os
import os.path as osp
import re
from dataclasses import dataclass
from typing import List, Optional, Tuple

from .runs import Evaluation, read_run_evaluations

MAX_DEPTH = 3
_TIMESTAMP = re.compile(r'^\d{8}_\d{6}$')
_SEED = re.compile(r'^(.+)-seed\d+$')


@dataclass
class RunFolder:
    """One run folder.

    Attributes:
        path (str): the folder.
        name (str): its path relative to the work_dirs folder (``/``).
        config (str | None): stem of the config dumped at its root.
        planned (tuple | None): ``('epoch', N)`` or ``('iter', N)``, the
            length of training in the dumped config (None: unknown).
        evaluations (list[Evaluation]): chronological, see
            :func:`mmrm.report.runs.read_run_evaluations`.
    """
    path: str
    name: str
    config: Optional[str]
    planned: Optional[Tuple[str, int]]
    evaluations: List[Evaluation]

    @property
    def stem(self) -> str:
        """The config stem the folder name stands for (``<stem>-seedN`` are
        repeated runs of ``<stem>``)."""
        base = osp.basename(self.name)
        match = _SEED.match(base)
        return match.group(1) if match else base

    @property
    def top_level(self) -> bool:
        return '/' not in self.name


def _is_run_folder(path: str) -> bool:
    return any(_TIMESTAMP.match(d) and osp.isdir(osp.join(path, d))
               for d in os.listdir(path))


def _config_dump(path: str) -> Optional[str]:
    """The config file mmengine dumped at the run folder's root: the one
    named after the folder if there are several, else the newest."""
    dumps = glob.glob(osp.join(glob.escape(path), '*.py'))
    if not dumps:
        return None
    named = osp.join(path, osp.basename(path) + '.py')
    return named if named in dumps else max(dumps, key=osp.getmtime)


def _literal(node):
    """Value of a config expression made of literals and ``dict(...)``;
    None for anything else."""
    if isinstance(node, ast.Call) and getattr(node.func, 'id', None) == \
            'dict' and not node.args:
        return {kw.arg: _literal(kw.value) for kw in node.keywords if kw.arg}
    if isinstance(node, ast.Dict):
        return {_literal(k): _literal(v) for k, v in zip(node.keys,
                                                          node.values)}
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def planned_length(config_text: str) -> Optional[Tuple[str, int]]:
    """``('epoch', max_epochs)`` or ``('iter', max_iters)`` of a dumped
    config's ``train_cfg``; None when it is not there or cannot be told from
    the logs (iteration-based runs log their validations by iteration only
    with ``log_metric_by_epoch=False``)."""
    try:
        tree = ast.parse(config_text)
    except SyntaxError:
        return None
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    values[target.id] = node.value
    train_cfg = _literal(values['train_cfg']) if 'train_cfg' in values \
        else None
    if not isinstance(train_cfg, dict):
        return None
    if isinstance(train_cfg.get('max_epochs'), int):
        return 'epoch', train_cfg['max_epochs']
    hooks = _literal(values['default_hooks']) if 'default_hooks' in values \
        else None
    logger = hooks.get('logger') if isinstance(hooks, dict) else None
    if isinstance(train_cfg.get('max_iters'), int) and isinstance(
            logger, dict) and logger.get('log_metric_by_epoch') is False:
        return 'iter', train_cfg['max_iters']
    return None


def _planned(path: str, dump: Optional[str]) -> Optional[Tuple[str, int]]:
    """From the latest session's ``vis_data/config.py``, else the dump."""
    sessions = sorted(glob.glob(osp.join(glob.escape(path), '*', 'vis_data',
                                         'config.py')))
    source = sessions[-1] if sessions else dump
    if source is None:
        return None
    with open(source, encoding='utf-8') as f:
        return planned_length(f.read())


def find_run_folders(work_dirs: str,
                     notes: Optional[List[str]] = None) -> List[RunFolder]:
    """Every run folder under ``work_dirs`` (sorted by name).

    Raises:
        FileNotFoundError: ``work_dirs`` is not a folder.
    """
    if not osp.isdir(work_dirs):
        raise FileNotFoundError(f'work dirs folder {work_dirs!r} does not '
                                'exist (or is not a folder)')
    notes = [] if notes is None else notes
    found = []

    def visit(folder: str, depth: int):
        for entry in sorted(os.listdir(folder)):
            path = osp.join(folder, entry)
            if not osp.isdir(path):
                continue
            if _is_run_folder(path):
                dump = _config_dump(path)
                found.append(RunFolder(
                    path, osp.relpath(path, work_dirs).replace(os.sep, '/'),
                    osp.splitext(osp.basename(dump))[0] if dump else None,
                    _planned(path, dump), read_run_evaluations(path, notes)))
            elif depth < MAX_DEPTH:
                visit(path, depth + 1)

    visit(work_dirs, 1)
    return found


def unfinished(run: RunFolder) -> Optional[str]:
    """Why ``run`` has not finished (e.g. ``'last evaluation at epoch 1 of
    300'``), or None: finished, tested (a tools/test.py result), or its length
    unknown. mmengine's loops always validate after the last epoch /
    iteration, so a finished run has a validation at that step."""
    if run.planned is None or any(e.kind == 'test' for e in run.evaluations):
        return None
    unit, total = run.planned
    unit = {'iter': 'iteration'}.get(unit, unit)
    steps = [e.step for e in run.evaluations
             if e.kind == 'val' and e.step is not None]
    if steps and max(steps) >= total:
        return None
    last = f'last evaluation at {unit} {max(steps)}' if steps else \
        'no evaluation yet'
    return f'{last} of {total}'


__all__ = ['MAX_DEPTH', 'RunFolder', 'find_run_folders', 'planned_length',
           'unfinished']
