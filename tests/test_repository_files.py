"""What a clean clone holds: no tracked symlink that leads outside the
repository (such a link, committed from a developer's machine, dangles or
loops in every other clone: a `data` link once replaced the folder that
`make test` unpacks Fashion-MNIST into)."""
import os
import os.path as osp
import shutil
import subprocess

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def links_leaving(root):
    """Tracked symlinks of the git checkout ``root`` whose target is
    absolute or resolves outside ``root``: ``[(path, target)]``."""
    out = subprocess.run(['git', '-C', root, 'ls-files', '-s'],
                         capture_output=True, text=True, check=True).stdout
    bad = []
    for line in out.splitlines():
        meta, path = line.split('\t', 1)
        if meta.split()[0] != '120000':  # git's mode for a symlink
            continue
        target = os.readlink(osp.join(root, path))
        inside = osp.normpath(osp.join(osp.dirname(path), target))
        if osp.isabs(target) or inside.startswith('..'):
            bad.append((path, target))
    return bad


needs_git = pytest.mark.skipif(
    shutil.which('git') is None or not osp.isdir(osp.join(ROOT, '.git'))
    and not osp.isfile(osp.join(ROOT, '.git')),
    reason='not a git checkout')


@needs_git
def test_no_tracked_symlink_leads_outside_the_repository():
    assert links_leaving(ROOT) == []


@needs_git
def test_the_check_finds_a_committed_absolute_link(tmp_path):
    run = dict(cwd=tmp_path, check=True, capture_output=True)
    subprocess.run(['git', 'init', '-q'], **run)
    (tmp_path / 'docs').mkdir()
    (tmp_path / 'docs' / 'a.md').write_text('x')
    os.symlink('/elsewhere/data', tmp_path / 'data')
    os.symlink('a.md', tmp_path / 'docs' / 'b.md')  # inside: fine
    os.symlink('../../up', tmp_path / 'docs' / 'c')
    subprocess.run(['git', 'add', '-A'], **run)
    assert sorted(links_leaving(str(tmp_path))) == [
        ('data', '/elsewhere/data'), ('docs/c', '../../up')]
