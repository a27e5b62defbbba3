"""The named blocks of the project's ``_base_`` config files."""
import ast
import functools
import glob
import os.path as osp
import re

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


@functools.lru_cache(maxsize=None)
def shared_base_variables():
    """Names assigned in a ``configs/**/_base_/*.py`` file that configs read
    as ``_base_.<name>`` (``pvtv2_b1``, ``rm_head``, ``cifar_warmup``, ...):
    inputs of a config, which stay in its merged dict unused by the runner,
    not settings of it."""
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
    return frozenset(defined & read)
