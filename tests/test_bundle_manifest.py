"""The wheel bundle for an offline GPU node (scripts/bundle.py), checked
without building it: the committed manifest (scripts/bundle_manifest.json,
written by the last real build) must fit the size limit, hold the stack's
pins, install complete with --no-deps next to the node's packages
(scripts/bundle_node.txt), and provide -- with those packages -- every
module that tools/gpu_check.sh imports (recorded by a real CPU run of the
check). The checking functions are shown to fail on small made-up wheels."""
import json
import os
import os.path as osp
import subprocess
import sys
import zipfile

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.join(ROOT, 'scripts'))
import bundle  # noqa: E402
import bundle_manifest as bm  # noqa: E402
import mmcv_build  # noqa: E402

MANIFEST = osp.join(ROOT, 'scripts', 'bundle_manifest.json')
NODE = osp.join(ROOT, 'scripts', 'bundle_node.txt')


def manifest():
    with open(MANIFEST) as f:
        return json.load(f)


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


# ------------------------------------------------- the committed manifest
def test_committed_manifest_fits_the_limit_and_adds_up():
    m = manifest()
    total = sum(w['bytes'] for w in m['wheels']) + m['source']['bytes']
    assert total == m['total_bytes'] <= m['limit_bytes'] == 64 * 2**20


def test_committed_manifest_holds_the_stack_pins_and_the_node_build():
    """A changed pin in the stack without a rebuilt bundle fails here."""
    from packaging.requirements import Requirement
    m = manifest()
    have = {w['name']: w['version'] for w in m['wheels']}
    for text in bundle.stack_requirements():
        req = Requirement(text)
        name = bm.canonicalize_name(req.name)
        if str(req.specifier).startswith('=='):
            where = have.get(name) or m['node_provided'].get(name)
            assert where == str(req.specifier)[2:], (text, where)
    assert have['mmcv'] == mmcv_build.MMCV_VERSION
    assert {'mmengine', 'mmpretrain', 'mmdet', 'mmsegmentation', 'mmrm',
            'mmcv'} <= set(have)
    (mmcv, ) = [w for w in m['wheels'] if w['name'] == 'mmcv']
    sm = 'sm_' + m['target']['arch'].replace('.', '')
    assert mmcv['cuda_code'] == [f'cubin {sm}']  # one arch, no PTX
    assert 'cp312' in mmcv['file'] and m['target']['python'] == '3.12'


def test_committed_manifest_installs_complete_next_to_the_node_packages():
    m = manifest()
    assert bm.unmet_requirements(m['wheels'], bm.read_node(NODE)) == []


def test_every_module_gpu_check_imports_is_on_the_node_or_in_the_bundle(
        tmp_path):
    """tools/gpu_check.sh --cpu, every step a one-GPU node runs, in a fresh
    interpreter: the modules it and its benchmark subprocess imported
    (gpu_check.json 'imports') must all be provided by the node's packages
    plus the committed bundle. Then the same check with one bundled wheel
    left out must fail, so that it is seen to bite on the real list."""
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
    m, node = manifest(), bm.read_node(NODE)
    assert bm.unmet_imports(imports, m['wheels'], node) == []
    without = [w for w in m['wheels'] if w['name'] != 'pycocotools']
    assert any('pycocotools' in line for line in
               bm.unmet_imports(imports, without, node))
