"""The package, the tools and the benchmarks reach each other by import: no
repository file is loaded by its path (importlib's spec_from_file_location)
and no module is planted in ``sys.modules`` by hand. Such edges bypass the
import graph and break on a rename at run time instead of at import."""
import os
import os.path as osp
import re

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
FOLDERS = ('mmrm', 'tools', 'benchmarks')
PATTERN = re.compile(r'spec_from_file_location|sys\.modules\[')


def loads_by_path(root=ROOT):
    """``path:line: text`` of every Python line in FOLDERS that matches."""
    hits = []
    for folder in FOLDERS:
        for dirpath, _, files in os.walk(osp.join(root, folder)):
            for name in sorted(files):
                if not name.endswith('.py'):
                    continue
                path = osp.join(dirpath, name)
                with open(path, encoding='utf-8') as f:
                    for n, line in enumerate(f, 1):
                        if PATTERN.search(line):
                            hits.append(f'{osp.relpath(path, root)}:{n}: '
                                        f'{line.strip()}')
    return hits


def test_no_repository_file_is_loaded_by_path():
    assert loads_by_path() == []


def test_the_scan_finds_a_planted_file_load(tmp_path):
    tool = tmp_path / 'tools' / 'sub'
    tool.mkdir(parents=True)
    (tool / 'x.py').write_text(
        'import importlib.util\n'
        "spec = importlib.util.spec_from_file_location('m', 'tests/a.py')\n")
    (tmp_path / 'mmrm').mkdir()
    (tmp_path / 'mmrm' / 'y.py').write_text("sys.modules['mmrm'] = None\n")
    assert loads_by_path(str(tmp_path)) == [
        "mmrm/y.py:1: sys.modules['mmrm'] = None",
        "tools/sub/x.py:2: spec = importlib.util.spec_from_file_location("
        "'m', 'tests/a.py')"]
