"""What a wheel bundle (``scripts/bundle.py``) holds and whether it is
enough for the node it is made for -- pure functions, no build, so that
the tests can check a committed manifest in CI.

- :func:`wheel_info`: name, version, top-level modules and the
  requirements (markers evaluated for the node) of one wheel file;
- :func:`read_node`: the node's own packages (``name`` or
  ``name==version`` per line, ``#`` comments), canonical names;
- :func:`unmet_requirements`: every requirement of every bundled wheel
  must be met by another bundled wheel or by the node (version checked
  where the node's version is known);
- :func:`collect`: the manifest of a bundle folder (every wheel's
  :func:`wheel_info`, file and size; the source archive; the sizes in
  all), written as ``manifest.json`` with ``INSTALL.txt``;
  :func:`problems`: what makes it unusable (unmet requirements, over the
  size limit);
- :func:`requirement_closure`: the distributions a set of requirements
  pulls in (what pip resolves for the bundle), from each one's
  requirements;
- :func:`unmet_imports`: every top-level module a run imported (as
  ``tools/gpu_check.py`` records them: module -> the distributions that
  provide it here) must be in the standard library, in the repository,
  in a bundled wheel or in a node package.

A distribution the node has under another name provides the same modules
(:data:`PROVIDED_BY`: mmcv and mmengine ask for ``opencv-python``, node
images carry ``opencv-python-headless``; both install ``cv2``).
"""
import email.parser
import glob
import json
import os
import os.path as osp
import re
import zipfile
from typing import Dict, Iterable, List, Optional

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

PROVIDED_BY = {'opencv-python': ('opencv-python-headless', ),
               'opencv-python-headless': ('opencv-python', )}


def target_environment(python: str = '3.12') -> dict:
    """Marker variables of an x86-64 Linux CPython ``python`` node."""
    return dict(python_version=python, python_full_version=f'{python}.0',
                sys_platform='linux', platform_system='Linux',
                platform_machine='x86_64', os_name='posix',
                implementation_name='cpython',
                platform_python_implementation='CPython', extra='')


def wheel_info(path: str, python: str = '3.12') -> dict:
    """``{'name', 'version', 'top_level', 'requires'}`` of a wheel file;
    ``requires``: requirement strings (no markers) that apply on the node,
    extras left out."""
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        (meta, ) = [n for n in names if re.fullmatch(
            r'[^/]+\.dist-info/METADATA', n)]
        msg = email.parser.Parser().parsestr(zf.read(meta).decode())
        top = meta.replace('METADATA', 'top_level.txt')
        if top in names:
            top_level = zf.read(top).decode().split()
        else:  # derived from the files (wheels without top_level.txt)
            top_level = sorted({
                n.split('/')[0].split('.')[0] for n in names
                if not n.split('/')[0].endswith(('.dist-info', '.data'))})
    env = target_environment(python)
    requires = []
    for line in msg.get_all('Requires-Dist') or []:
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate(env):
            req.marker = None
            requires.append(str(req))
    return dict(name=canonicalize_name(msg['Name']), version=msg['Version'],
                top_level=sorted(set(top_level) - {''}), requires=requires)


def read_node(path: str) -> Dict[str, Optional[str]]:
    """Canonical name -> version (None where not known) of the node's
    packages."""
    node = {}
    with open(path) as f:
        for line in f:
            line = line.split('#')[0].strip()
            if line:
                name, _, version = line.partition('==')
                node[canonicalize_name(name)] = version.strip() or None
    return node


def _provider(name: str, bundle: dict, node: dict):
    """('bundle' | 'node', version) for a distribution name, or None."""
    for candidate in (name, *PROVIDED_BY.get(name, ())):
        if candidate in bundle:
            return 'bundle', bundle[candidate]
        if candidate in node:
            return 'node', node[candidate]
    return None


def unmet_requirements(wheels: Iterable[dict], node: dict) -> List[str]:
    """One line per requirement of a bundled wheel that neither the bundle
    nor the node meets (empty: the bundle installs complete with
    ``--no-deps``)."""
    wheels = list(wheels)
    bundle = {w['name']: w['version'] for w in wheels}
    unmet = []
    for w in wheels:
        for text in w['requires']:
            req = Requirement(text)
            found = _provider(canonicalize_name(req.name), bundle, node)
            if found is None:
                unmet.append(f"{w['name']} {w['version']} needs {text}: "
                             'neither bundled nor on the node')
            elif found[1] and req.specifier and not req.specifier.contains(
                    Version(found[1]), prereleases=True):
                unmet.append(f"{w['name']} {w['version']} needs {text}: "
                             f'the {found[0]} has {found[1]}')
    return unmet


def unmet_imports(imports: Dict[str, List[str]], wheels: Iterable[dict],
                  node: dict) -> List[str]:
    """Modules in ``imports`` (top-level module -> distributions providing
    it where the run was recorded; [] for the standard library and the
    repository's own files) that neither a bundled wheel nor a node
    package provides."""
    wheels = list(wheels)
    modules = {m for w in wheels for m in w['top_level']}
    bundle = {w['name']: w['version'] for w in wheels}
    unmet = []
    for module, dists in sorted(imports.items()):
        if not dists or module in modules:
            continue
        if not any(_provider(canonicalize_name(d), bundle, node)
                   for d in dists):
            unmet.append(f"import {module} (from {', '.join(dists)}): "
                         'neither bundled nor on the node')
    return unmet


def collect(out: str, target: dict, provided: dict, source: dict,
            extra: dict, limit_bytes: int, install: str, **fields) -> dict:
    """The manifest of the wheels in ``out``, written there as
    ``manifest.json`` (and ``install`` as ``INSTALL.txt``): per wheel its
    :func:`wheel_info` for ``target['python']``, file and size, plus
    ``extra[name]`` (the mmcv wheel's stripping and CUDA code); the source
    archive (``source['bytes']``), what the node provides, the total."""
    wheels = []
    for path in sorted(glob.glob(osp.join(out, '*.whl'))):
        info = wheel_info(path, target['python'])
        info.update(file=osp.basename(path), bytes=os.path.getsize(path))
        info.update(extra.get(info['name'], {}))
        wheels.append(info)
    total = sum(w['bytes'] for w in wheels) + source['bytes']
    manifest = dict(target=target, wheels=wheels, source=source,
                    node_provided=provided, total_bytes=total,
                    limit_bytes=limit_bytes, install=install, **fields)
    with open(osp.join(out, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
    with open(osp.join(out, 'INSTALL.txt'), 'w') as f:
        f.write(install + '\n')
    return manifest


def problems(manifest: dict, node: dict) -> List[str]:
    """Why the bundle would not do (empty: it installs complete and fits):
    requirements met by neither the bundle nor the node, a total over the
    limit (with the largest wheels)."""
    wheels = manifest['wheels']
    out = unmet_requirements(wheels, node)
    total, limit = manifest['total_bytes'], manifest['limit_bytes']
    if total > limit:
        big = sorted(wheels, key=lambda w: -w['bytes'])[:3]
        out.append(f'{total / 2**20:.2f} MiB > {limit / 2**20:g} MiB; '
                   'largest: ' + ', '.join(
                       f"{w['file']} {w['bytes'] / 2**20:.2f} MiB"
                       for w in big))
    return out


def requirement_closure(roots: Iterable[str], requires_of) -> List[str]:
    """Canonical names of ``roots`` (requirement strings) and of everything
    they require, transitively; ``requires_of(name)`` gives a
    distribution's requirement strings that apply (markers evaluated),
    or None for one that is not known (kept, not followed)."""
    seen, todo = set(), [Requirement(r).name for r in roots]
    while todo:
        name = canonicalize_name(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        todo += [Requirement(r).name for r in requires_of(name) or []]
    return sorted(seen)
