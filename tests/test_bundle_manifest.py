"""The wheel bundle for an offline GPU node (scripts/bundle.py), checked
without building it (its mmcv compile is hours of CPU): the manifest logic
on bundles of tiny made-up wheels (sizes add up, the limit and unmet
requirements stop it); the import coverage of a real CPU run of
tools/gpu_check.sh, which records every module it and its benchmark
subprocess import, against what a bundle for the stack would hold -- the
stack's pins and everything they require (what the bundle's pip resolve
picks), read from this venv's installed metadata -- and against the
manifest of the bundle built in full (docs/bundle/)."""
import json
import os
import os.path as osp
import subprocess
import sys
import zipfile


ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.join(ROOT, 'scripts'))
import bundle  # noqa: E402
import bundle_manifest as bm  # noqa: E402

NODE = osp.join(ROOT, 'scripts', 'bundle_node.txt')
#: manifest.json of the bundle built in full (docs/gpu.md)
REAL_MANIFEST = osp.join(ROOT, 'docs', 'bundle',
                         'manifest-py3.12-torch2.11.0-cu13.0-sm9.0.json')


def make_wheel(folder, name, version, requires=(), modules=None):
    path = osp.join(folder, f'{name}-{version}-py3-none-any.whl')
    info = f'{name}-{version}.dist-info'
    meta = ''.join(f'Requires-Dist: {r}\n' for r in requires)
    with zipfile.ZipFile(path, 'w') as zf:
        zf.writestr(f'{info}/METADATA', f'Metadata-Version: 2.1\nName: '
                    f'{name}\nVersion: {version}\n{meta}')
        for m in modules or [name]:
            zf.writestr(f'{m}/__init__.py', '')
        zf.writestr(f'{info}/RECORD', '')
    return path


# ------------------------------------------------------ checking functions
def test_wheel_requirements_are_evaluated_for_the_nodes_python(tmp_path):
    path = make_wheel(str(tmp_path), 'yapf', '0.43.0', [
        'platformdirs>=3.5.1', 'tomli>=2.0.1; python_version < "3.11"',
        'pytest; extra == "tests"'])
    info = bm.wheel_info(path, '3.12')
    assert info['name'] == 'yapf' and info['top_level'] == ['yapf']
    assert info['requires'] == ['platformdirs>=3.5.1']
    assert 'tomli>=2.0.1' in bm.wheel_info(path, '3.10')['requires']


def test_requirement_met_by_neither_bundle_nor_node_is_reported(tmp_path):
    node = {'numpy': '2.5.2', 'opencv-python-headless': None}
    wheels = [bm.wheel_info(make_wheel(str(tmp_path), 'mmcv', '2.1.0', [
        'numpy', 'opencv-python>=3', 'addict', 'yapf']))]
    wheels.append(bm.wheel_info(make_wheel(str(tmp_path), 'addict', '2.4.0')))
    # opencv-python: the node's headless build provides cv2
    assert bm.unmet_requirements(wheels, node) == [
        'mmcv 2.1.0 needs yapf: neither bundled nor on the node']
    wheels.append(bm.wheel_info(make_wheel(str(tmp_path), 'yapf', '0.43.0')))
    assert bm.unmet_requirements(wheels, node) == []


def test_requirement_on_a_version_the_node_lacks_is_reported(tmp_path):
    wheels = [bm.wheel_info(make_wheel(str(tmp_path), 'mmdet', '3.3.0', [
        'numpy<2', 'scipy']))]
    unmet = bm.unmet_requirements(wheels, {'numpy': '2.5.2', 'scipy': None})
    assert unmet == ['mmdet 3.3.0 needs numpy<2: the node has 2.5.2']


def test_import_that_neither_bundle_nor_node_provides_is_reported(tmp_path):
    wheels = [bm.wheel_info(make_wheel(str(tmp_path), 'pycocotools', '2.0.8'))]
    imports = {'pycocotools': ['pycocotools'], 'cv2': ['opencv-python'],
               'shapely': ['shapely'], 'yaml': ['PyYAML']}
    node = {'opencv-python-headless': None, 'pyyaml': None}
    assert bm.unmet_imports(imports, wheels, node) == [
        'import shapely (from shapely): neither bundled nor on the node']


def test_node_list_reads_names_and_known_versions():
    node = bm.read_node(NODE)
    assert node['torch'] == '2.11.0' and node['numpy'] == '2.5.2'
    assert 'opencv-python-headless' in node and node['scipy'] is None
    assert not any(n.startswith('mm') for n in node)  # no mm* package


# ------------------------------------------ a bundle folder's manifest
def fake_bundle(folder, padding=0):
    """A bundle folder of made-up wheels as scripts/bundle.py leaves it
    before collecting: mmcv (with ``padding`` bytes of incompressible
    data), mmengine, addict, a source archive."""
    os.makedirs(folder, exist_ok=True)
    paths = [make_wheel(folder, 'mmcv', '2.1.0', ['numpy', 'addict',
                                                  'opencv-python>=3']),
             make_wheel(folder, 'mmengine', '0.10.7', ['addict', 'numpy']),
             make_wheel(folder, 'addict', '2.4.0')]
    if padding:
        with zipfile.ZipFile(paths[0], 'a') as zf:
            zf.writestr('mmcv/_ext.so', os.urandom(padding),
                        compress_type=zipfile.ZIP_STORED)
    src = osp.join(folder, 'mmrm-src.tar.gz')
    with open(src, 'wb') as f:
        f.write(b'\0' * 1000)
    return dict(file='mmrm-src.tar.gz', commit='0' * 40, bytes=1000)


TARGET = dict(python='3.12', torch='2.11.0', cuda='13.0', arch='9.0',
              platform='linux_x86_64')
NODE_PKGS = {'numpy': '2.5.2', 'opencv-python-headless': None}


def test_manifest_lists_every_wheel_and_adds_up_the_folder(tmp_path):
    source = fake_bundle(str(tmp_path))
    m = bm.collect(str(tmp_path), TARGET, {'numpy': '2.5.2'}, source,
                   {'mmcv': {'cuda_code': ['cubin sm_90']}}, 64 * 2**20,
                   bundle.INSTALL)
    on_disk = sum(osp.getsize(p) for p in tmp_path.glob('*.whl'))
    assert [w['name'] for w in m['wheels']] == ['addict', 'mmcv', 'mmengine']
    assert m['total_bytes'] == on_disk + 1000
    (mmcv, ) = [w for w in m['wheels'] if w['name'] == 'mmcv']
    assert mmcv['cuda_code'] == ['cubin sm_90']
    assert mmcv['requires'] == ['numpy', 'addict', 'opencv-python>=3']
    with open(tmp_path / 'manifest.json') as f:
        assert json.load(f) == m
    assert (tmp_path / 'INSTALL.txt').read_text() == bundle.INSTALL + '\n'
    assert bm.problems(m, NODE_PKGS) == []


def test_bundle_over_its_limit_is_refused_naming_the_largest_wheel(
        tmp_path):
    source = fake_bundle(str(tmp_path), padding=300_000)
    m = bm.collect(str(tmp_path), TARGET, {}, source, {}, 2**18,
                   bundle.INSTALL)
    (problem, ) = bm.problems(m, NODE_PKGS)
    assert problem.startswith(f"{m['total_bytes'] / 2**20:.2f} MiB > "
                              '0.25 MiB; largest: mmcv-2.1.0-py3-none-any'
                              '.whl 0.29 MiB, '), problem


def test_bundle_missing_a_requirement_is_refused(tmp_path):
    source = fake_bundle(str(tmp_path))
    os.remove(tmp_path / 'addict-2.4.0-py3-none-any.whl')
    m = bm.collect(str(tmp_path), TARGET, {}, source, {}, 64 * 2**20,
                   bundle.INSTALL)
    assert bm.problems(m, NODE_PKGS) == [
        'mmcv 2.1.0 needs addict: neither bundled nor on the node',
        'mmengine 0.10.7 needs addict: neither bundled nor on the node']


def test_requirement_closure_follows_requirements_transitively():
    graph = {'mmdet': ['mmengine>=0.7', 'pycocotools', 'scipy'],
             'mmengine': ['addict', 'yapf', 'numpy'],
             'yapf': ['platformdirs>=3'], 'pycocotools': ['numpy']}
    assert bm.requirement_closure(['mmdet==3.3.0', 'ftfy'], graph.get) == [
        'addict', 'ftfy', 'mmdet', 'mmengine', 'numpy', 'platformdirs',
        'pycocotools', 'scipy', 'yapf']


# ------------------------------- what gpu_check imports, on the node
def stack_closure():
    """The distributions a bundle for the stack holds before the node's
    are taken out: the stack's pins and what they require for the node's
    Python (from this venv's installed metadata), plus the two the bundle
    builds itself (mmcv, mmrm)."""
    import importlib.metadata as md
    from packaging.requirements import Requirement
    env = bm.target_environment('3.12')

    def requires_of(name):
        try:
            reqs = md.requires(name) or []
        except md.PackageNotFoundError:
            return None
        return [r for r in reqs if Requirement(r).marker is None or
                Requirement(r).marker.evaluate(env)]

    names = bm.requirement_closure(bundle.stack_requirements(), requires_of)
    return sorted(set(names) | {'mmcv', 'mmrm'})


def test_every_module_gpu_check_imports_is_on_the_node_or_in_the_bundle(
        tmp_path):
    """tools/gpu_check.sh --cpu, every step a one-GPU node runs, in a fresh
    interpreter: the modules it and its benchmark subprocess imported
    (gpu_check.json 'imports') must all be provided by the node's packages
    plus what the bundle would hold. Then the same check with pycocotools
    left out of the bundle must fail, so that it is seen to bite on the
    real list."""
    env = dict(os.environ, PYTHON=sys.executable, PYTHONPATH=ROOT)
    proc = subprocess.run(
        ['bash', 'tools/gpu_check.sh', '--cpu', '--out', str(tmp_path),
         '--steps', 'ops', 'table10', 'atss', 'mask_rcnn', 'upernet'],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with open(tmp_path / 'gpu_check.json') as f:
        imports = json.load(f)['imports']
    for module in ('mmcv', 'mmdet', 'mmseg', 'mmpretrain', 'mmengine',
                   'pycocotools', 'torch', 'numpy'):
        assert module in imports, sorted(imports)
    node = bm.read_node(NODE)
    to_bundle, _ = bundle.split_node([(n, None) for n in stack_closure()],
                                     node)
    bundled = [dict(name=n, version=None, top_level=[], requires=[])
               for n, _ in to_bundle]
    assert bm.unmet_imports(imports, bundled, node) == []
    without = [w for w in bundled if w['name'] != 'pycocotools']
    assert any('pycocotools' in line for line in
               bm.unmet_imports(imports, without, node))
    # the bundle built in full (its manifest, committed) covers them too
    with open(REAL_MANIFEST) as f:
        real = json.load(f)
    assert bm.unmet_imports(imports, real['wheels'], node) == [], \
        f'{REAL_MANIFEST} no longer covers what gpu_check imports: ' \
        'rebuild the bundle (docs/gpu.md) and commit its manifest.json'
