"""Rehearse a bundle's install (scripts/bundle.py) on this machine: a venv
stands in for the offline node, then the bundle's own install line runs
in it, with no package index, and ``tools/gpu_check.sh --cpu`` after it.

1. ``--venv``: the node's Python with the node's torch / torchvision /
   numpy (versions from the node list) and the packages the manifest says
   the node provides (``node_provided``) from the package index -- and
   nothing that neither the node list nor the bundle holds (checked on
   ``pip list``);
2. ``HOME=--home``, that venv first on PATH (the node's ``python3``), the
   manifest's ``install`` line with ``--cpu`` for ``tools/gpu_check.sh``:
   the source archive unpacked, ``pip install --no-index --no-deps
   --target`` of every wheel, the check run from the unpacked tree.

    python scripts/bundle_rehearse.py --bundle bundle/ \\
        --venv /tmp/node312 --home /tmp/node-home
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys

import bundle
import bundle_manifest

# what every venv has besides its packages
VENV_BASE = {'pip', 'setuptools', 'wheel'}


def node_venv(venv: str, manifest: dict, node: dict) -> None:
    python = osp.join(venv, 'bin', 'python')
    if not osp.isfile(python):
        bundle.run([bundle.find_python(manifest['target']['python']), '-m',
                    'venv', venv])
    want = {'torch': manifest['target']['torch']}
    want.update(manifest['node_provided'])
    for name in ('torch', 'torchvision', 'numpy'):
        want[name] = node.get(name) or want.get(name)
    missing = [n for n in want if n not in node]
    if missing:
        raise SystemExit(f'rehearsal: {missing} are not in the node list')
    reqs = [f'{n}=={v}' if v else n for n, v in sorted(want.items())]
    bundle.run([python, '-m', 'pip', 'install', '-q',
                '--disable-pip-version-check', *reqs])
    listed = json.loads(bundle.run(
        [python, '-m', 'pip', 'list', '--format', 'json'],
        capture_output=True, text=True).stdout)
    # a dependency pulled in that the bundle brings too is shadowed by the
    # bundle's copy (PYTHONPATH comes first); any other would hide a gap
    bundled = {w['name'] for w in manifest.get('wheels', [])}
    extra = sorted({bundle_manifest.canonicalize_name(p['name'])
                    for p in listed} - set(node) - VENV_BASE - bundled)
    if extra:
        raise SystemExit(f'rehearsal: the venv holds {extra}, which neither '
                         'the node nor the bundle has: it would hide a gap')


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--bundle', required=True)
    p.add_argument('--venv', required=True, help='the stand-in node venv')
    p.add_argument('--home', required=True, help='HOME of the rehearsal '
                   '(the install goes to HOME/mmrm)')
    p.add_argument('--node', default=osp.join(bundle.HERE, 'bundle_node.txt'))
    args = p.parse_args(argv)
    folder = osp.abspath(args.bundle)
    with open(osp.join(folder, 'manifest.json')) as f:
        manifest = json.load(f)
    node_venv(args.venv, manifest, bundle_manifest.read_node(args.node))
    os.makedirs(args.home, exist_ok=True)
    line = manifest['install'].replace('bundle/', folder + '/') + ' --cpu'
    env = dict(os.environ, HOME=osp.abspath(args.home), PATH=osp.join(
        osp.abspath(args.venv), 'bin') + os.pathsep + os.environ['PATH'])
    for var in ('PYTHONPATH', 'PYTHON', 'VIRTUAL_ENV', 'PIP_FIND_LINKS'):
        env.pop(var, None)
    print(f'$ {line}', flush=True)
    return subprocess.run(['bash', '-c', line], env=env).returncode


if __name__ == '__main__':
    sys.exit(main())
