"""The named blocks of the project's ``_base_`` config files."""
import ast
import functools
import glob
import inspect
import os.path as osp
import re

from mmengine.runner import Runner

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
# what the Runner reads from a config (``model``, ``param_scheduler``, ...):
# a _base_ file's settings, even where a config reads them as _base_.<name>
RUNNER_FIELDS = frozenset(inspect.signature(Runner.__init__).parameters)


@functools.lru_cache(maxsize=None)
def shared_base_variables():
    """Names assigned in a ``configs/**/_base_/*.py`` file that configs read
    as ``_base_.<name>`` (``pvtv2_b1``, ``rm_head``, ``cifar_warmup``, ...):
    inputs of a config, which stay in its merged dict unused by the runner,
    not settings of it. A field the Runner reads is a setting, never a
    block (the transfer configs read ``_base_.model`` to adjust it)."""
    defined, read = set(), set()
    for path in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                          recursive=True):
        with open(path) as f:
            text = f.read()
        read |= set(re.findall(r'_base_\.(\w+)', text))
        if f'{osp.sep}_base_{osp.sep}' in path:
            defined |= {t.id for node in ast.parse(text).body
                        if isinstance(node, ast.Assign)
                        for t in node.targets if isinstance(t, ast.Name)}
    return frozenset((defined & read) - RUNNER_FIELDS)
