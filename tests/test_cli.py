"""Every command-line tool answers ``--help`` and argument errors (mistyped
paths, bad values) from argparse alone, before importing torch or the
OpenMMLab libraries: exit status 0 / 2, the problem named on stderr.
(That is what makes them answer in about a second; the time itself is
measured, not asserted.) The benchmark's command line is tested in
tests/test_benchmark.py."""
import pytest

from helpers import run_script

FMNIST_CFG = ('configs/pretrain/fashion_mnist/'
              'resnet18-w16_1xb128-3e-rm_fmnist-64px.py')
TOOLS = ('tools/train.py', 'tools/test.py',
         'tools/model_converters/convert_checkpoint.py',
         'tools/analysis_tools/vis_mixing.py',
         'tools/analysis_tools/effective_classes.py',
         'tools/analysis_tools/vis_cam.py')


@pytest.mark.parametrize('tool', TOOLS)
def test_help_answers_without_heavy_imports(tool):
    code, out, err, heavy = run_script(tool, '--help')
    assert code == 0 and out.startswith('usage:'), err
    assert heavy == [], heavy


@pytest.mark.parametrize('tool,argv,message', [
    ('tools/train.py', ['configs/nope.py'],
     'config file not found: configs/nope.py'),
    ('tools/train.py', [FMNIST_CFG, '--launcher', 'torchrun'],
     "invalid choice: 'torchrun'"),
    ('tools/test.py', ['configs/nope.py', 'x.pth'],
     'config file not found: configs/nope.py'),
    ('tools/test.py', [FMNIST_CFG, 'work_dirs/nope/epoch_1.pth'],
     'checkpoint not found: work_dirs/nope/epoch_1.pth'),
    ('tools/test.py', [FMNIST_CFG, FMNIST_CFG, '--out', 'x.json'],
     '--out must be a .pkl/.pickle file'),
    ('tools/model_converters/convert_checkpoint.py', ['nope.pth', 'out.pth'],
     'checkpoint not found: nope.pth'),
    ('tools/model_converters/convert_checkpoint.py',
     [FMNIST_CFG, 'out.pth', '--backbone-config', 'configs/nope.py'],
     '--backbone-config: config file not found: configs/nope.py'),
    ('tools/analysis_tools/vis_mixing.py', ['--data-root', '/nope/fmnist'],
     '--data-root: no such folder: /nope/fmnist'),
    ('tools/analysis_tools/effective_classes.py',
     ['--data-root', '/nope/fmnist'], '--data-root: no such folder'),
    ('tools/analysis_tools/vis_cam.py', ['--data-root', '/nope/fmnist'],
     '--data-root: no such folder'),
])
def test_argument_errors_exit_2_before_heavy_imports(tool, argv, message):
    code, out, err, heavy = run_script(tool, *argv)
    assert code == 2 and message in err, (code, err)
    assert heavy == [], heavy
