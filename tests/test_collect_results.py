"""Results -> paper tables (mmrm/report, tools/analysis_tools/collect_results.py), on the
recorded mmengine runs of tests/data/work_dirs_fixture (see make_fixture.py
there for how they were produced and which values they hold)."""
import glob
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest

from helpers import load_tool
from mmrm.report import (collect_results, format_cell, load_entries,
                         load_metafile, planned_length, read_run_evaluations,
                         select_evaluation)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
FIXTURE = osp.join(ROOT, 'tests', 'data', 'work_dirs_fixture')
WORK_DIRS = osp.join(FIXTURE, 'runs')  # a work_dirs folder
# fixture det/seg entries first, then whatever the project has
METAFILES = [osp.join(FIXTURE, 'metafiles'), osp.join(ROOT, 'configs')]


def _section(markdown, title):
    return markdown.split(f'### {title}')[1].split('\n### ')[0]


def _cells(line):
    return [c.strip() for c in line.strip().strip('|').split('|')]


def _row(markdown, config, table):
    """Cells of the row of ``config`` in table ``table`` of the report."""
    for line in _section(markdown, f'Table {table}:').splitlines():
        if f'`{config}`' in line:
            return _cells(line)
    raise AssertionError(f'no row for {config} in table {table}')


def _runs(markdown):
    """Run folder -> (result, use) as the report lists them."""
    rows = [_cells(line) for line in _section(
        markdown, 'Runs found under').splitlines() if line.startswith('| `')]
    return {name.strip('`'): (result, use) for name, _, result, use in rows}


def _uses(markdown):
    """Run folder -> what the report says it was used for."""
    return {name: use for name, (_, use) in _runs(markdown).items()}


@pytest.fixture(scope='module')
def report_last():
    return collect_results(WORK_DIRS, ['1', '4', '5', '7', '8', '9'],
                           METAFILES, 'last')


def test_table5_last_evaluation(report_last):
    # baseline resumed once: the last evaluation is in the 2nd run folder
    assert _row(report_last, 'resnet50_8xb64-300e_in1k', 5) == [
        'ResNet-50', 'Baseline', '23.50 / 23.68 (-0.18)',
        '7.00 / 7.05 (-0.05)', '`resnet50_8xb64-300e_in1k`']
    assert _row(report_last, 'resnet50_8xb64-300e-rm_in1k', 5)[2:4] == [
        '20.90 / 20.80 (+0.10)', '5.50 / 5.42 (+0.08)']
    # no run at all, and a run that never evaluated: "—", paper kept
    assert _row(report_last, 'resnet50_8xb64-300e-mixup_in1k', 5)[2:4] == [
        '— / 22.58', '— / 6.40']
    assert _row(report_last, 'pvtv2-b1_8xb64-300e-rm_in1k', 5)[2:4] == [
        '— / 22.22', '— / 6.17']
    # a run stopped after 2 of its 300 epochs fills nothing
    assert _row(report_last, 'resnet50_8xb64-300e-cutmix_in1k', 5)[2:4] == [
        '— / 21.40', '— / 5.92']


def test_lists_every_run_with_the_cells_it_filled_or_why_not(report_last):
    assert _uses(report_last) == {
        'demo/resnet18-w16_1xb128-3e-rm_fmnist-64px':
            'not a paper configuration',
        'fixture_atss_r50-rm_fpn_1x_coco': 'Table 7: ATSS, ResNet-50, + RM',
        'fixture_mask-rcnn_r50-rm_fpn_1x_coco':
            'Table 8: Mask R-CNN, ResNet-50, + RM',
        'fixture_upernet_r50-rm_512x512-80k_ade20k':
            'Table 9: UperNet, ResNet-50, + RM',
        'my_experiment': 'ignored: unknown config name `my_resnet` (no '
            'metafile entry, no config file of that name)',
        'pvtv2-b1_8xb64-300e-rm_in1k': 'ignored: no metric logged (no '
            'evaluation with `accuracy/top1`)',
        'pyramidnet200-a240_2xb32-300e-rm_cifar10':
            'Table 1: PyramidNet-200, α=240, + RM; '
            'Table 4: PyramidNet-200, α=240, + RM',
        'resnet50_8xb64-300e-cutmix_in1k': 'ignored: unfinished run (last '
            'evaluation at epoch 2 of 300)',
        'resnet50_8xb64-300e-rm_in1k':
            'Table 4: ResNet-50, + RM; Table 5: ResNet-50, + RM',
        'resnet50_8xb64-300e_in1k': 'Table 5: ResNet-50, Baseline',
    }
    # tables not requested are said so
    report = collect_results(WORK_DIRS, ['7'], METAFILES, 'last')
    assert _uses(report)['resnet50_8xb64-300e_in1k'] == (
        'ignored: paper table(s) 5 not requested (--tables)')


def test_runs_come_first_with_their_result_in_the_papers_units(report_last):
    """The report opens with the runs: classification as top-1/top-5 error,
    COCO AP (logged as a fraction) and mIoU in %, the epoch of an
    epoch-based run named as such."""
    assert report_last.startswith('### Runs found under')
    runs = _runs(report_last)
    assert runs['demo/resnet18-w16_1xb128-3e-rm_fmnist-64px'][0] == \
        'top-1 err 14.80 % (epoch 1)'
    assert runs['resnet50_8xb64-300e-cutmix_in1k'][0] == \
        'top-1 err 22.50 %, top-5 err 6.60 % (epoch 2)'
    assert runs['fixture_mask-rcnn_r50-rm_fpn_1x_coco'][0] == \
        'box AP 39.80 %, mask AP 35.50 % (test)'
    assert runs['fixture_atss_r50-rm_fpn_1x_coco'][0].startswith(
        'box AP 41.20 % (')
    assert runs['pvtv2-b1_8xb64-300e-rm_in1k'][0] == 'no evaluation logged'


def test_iteration_based_run_names_the_iteration(tmp_path):
    name = 'fixture_upernet_r50-rm_512x512-80k_ade20k'
    shutil.copytree(osp.join(WORK_DIRS, name), tmp_path / name)
    (tmp_path / name / f'{name}.py').write_text(
        "default_hooks = dict(logger=dict(type='LoggerHook', "
        "log_metric_by_epoch=False))\ntrain_cfg = dict(type="
        "'IterBasedTrainLoop', max_iters=4, val_interval=2)\n")
    report = collect_results(str(tmp_path), ['9'], METAFILES)
    assert _runs(report)[name][0] == 'mIoU 42.05 % (iteration 4)'


def test_only_tables_with_a_run_unless_all_tables(report_last):
    report = collect_results(WORK_DIRS, ['2', '3', '5'], METAFILES, 'last')
    assert '### Table 5:' in report
    assert '### Table 2:' not in report and '### Table 3:' not in report
    assert 'Paper table(s) 2, 3: no run fills them' in report
    assert report.index('### Runs found under') < report.index(
        '### Table 5:')
    every = collect_results(WORK_DIRS, ['2', '3', '5'], METAFILES, 'last',
                            all_tables=True)
    assert '### Table 2:' in every and '### Table 3:' in every
    assert 'no run fills' not in every


def test_empty_and_missing_work_dirs(tmp_path):
    report = collect_results(str(tmp_path), ['5'], METAFILES)
    assert 'No run folder' in report
    with pytest.raises(FileNotFoundError, match='no_such'):
        collect_results(str(tmp_path / 'no_such'), ['5'], METAFILES)


def test_planned_length_from_mmengines_config_dump():
    epochs = "train_cfg = dict(\n    by_epoch=True, max_epochs=300, val_interval=5)\n"
    assert planned_length(epochs) == ('epoch', 300)
    iters = ("default_hooks = dict(logger=dict(type='LoggerHook', interval=50,"
             " log_metric_by_epoch=False))\ntrain_cfg = dict(type="
             "'IterBasedTrainLoop', max_iters=80000, val_interval=8000)\n")
    assert planned_length(iters) == ('iter', 80000)
    # validations of an iteration-based run logged by epoch carry no
    # iteration: its length cannot be checked
    assert planned_length(iters.replace('False', 'True')) is None
    assert planned_length('model = dict()\n') is None
    assert planned_length('train_cfg = dict(\n') is None  # not Python


def test_table5_best_evaluation():
    report = collect_results(WORK_DIRS, ['5'], METAFILES, 'best')
    assert _row(report, 'resnet50_8xb64-300e-rm_in1k', 5)[2:4] == [
        '20.65 / 20.80 (-0.15)', '5.40 / 5.42 (-0.02)']
    assert 'the best evaluation' in report


def test_cifar_tables(report_last):
    stem = 'pyramidnet200-a240_2xb32-300e-rm_cifar10'
    assert _row(report_last, stem, 1)[2] == '2.42 / 2.35 (+0.07)'
    assert _row(report_last, stem, 4)[2] == '2.42 / 2.35 (+0.07)'
    assert _row(report_last, 'resnet18_2xb64-200e-rm-bilinear_cifar100',
                4)[2] == '— / 18.78'


def test_detection_tables_convert_fractions(report_last):
    assert _row(report_last, 'fixture_atss_r50-rm_fpn_1x_coco', 7) == [
        'ATSS', 'ResNet-50', '+ RM', '41.2 / 41.5 (-0.3)',
        '59.7 / 59.9 (-0.2)', '44.9 / 45.1 (-0.2)',
        '`fixture_atss_r50-rm_fpn_1x_coco`']
    # the tools/test.py result (last) wins over the earlier validation
    assert _row(report_last, 'fixture_mask-rcnn_r50-rm_fpn_1x_coco',
                8)[3:9] == [
        '39.8 / 39.6 (+0.2)', '60.6 / 60.4 (+0.2)', '43.3 / 43.1 (+0.2)',
        '35.5 / 35.8 (-0.3)', '57.1 / 57.3 (-0.2)', '38.0 / 38.2 (-0.2)']


def test_segmentation_table(report_last):
    assert _row(report_last, 'fixture_upernet_r50-rm_512x512-80k_ade20k',
                9)[:6] == [
        'UperNet', 'ResNet-50', '+ RM', '42.05 / 42.30 (-0.25)',
        '52.90 / 52.61 (+0.29)', '80.20 / 80.14 (+0.06)']


def test_rows_without_metafile_entry_are_dashes(tmp_path):
    report = collect_results(WORK_DIRS, ['7', '9'],
                             [str(tmp_path / 'no_such_dir')], 'last',
                             all_tables=True)
    rows = [line for t in (7, 9) for line in _section(
        report, f'Table {t}:').splitlines() if line.startswith('| ')
        and 'Backbone' not in line]
    assert len(rows) == 2 * 12
    assert all(line.count('—') == 4 for line in rows)  # 3 metrics + cfg
    assert 'GFL' in report and 'PVTv2-B1' in report


def test_run_reader_order_kinds_and_steps():
    base = read_run_evaluations(osp.join(WORK_DIRS,
                                         'resnet50_8xb64-300e_in1k'))
    assert [e.step for e in base] == [1, 2, 1]
    assert len({e.timestamp for e in base}) == 2
    assert [e.timestamp for e in base] == sorted(e.timestamp for e in base)
    assert base[-1].metrics['accuracy/top1'] == 76.5
    mask = read_run_evaluations(
        osp.join(WORK_DIRS, 'fixture_mask-rcnn_r50-rm_fpn_1x_coco'))
    assert [e.kind for e in mask] == ['val', 'test'] and mask[1].step is None
    seg = read_run_evaluations(
        osp.join(WORK_DIRS, 'fixture_upernet_r50-rm_512x512-80k_ade20k'))
    assert [e.step for e in seg] == [2, 4]  # iteration-based
    # the never-evaluated run really holds training lines
    (scalars, ) = glob.glob(osp.join(WORK_DIRS, 'pvtv2-b1_8xb64-300e-rm_in1k',
                                     '*', 'vis_data', 'scalars.json'))
    assert '"lr"' in open(scalars).read()
    assert read_run_evaluations(osp.dirname(osp.dirname(
        osp.dirname(scalars)))) == []


def test_run_reader_tolerates_partial_line_and_uses_timestamp_json(tmp_path):
    src = osp.join(WORK_DIRS, 'resnet50_8xb64-300e-rm_in1k')
    dst = tmp_path / 'run'
    shutil.copytree(src, dst)
    (scalars, ) = glob.glob(str(dst / '*' / 'vis_data' / 'scalars.json'))
    with open(scalars, 'a') as f:
        f.write('{"accuracy/top1": 99.0, "accur')  # killed while writing
    notes = []
    evals = read_run_evaluations(str(dst), notes)
    assert len(evals) == 3 and 'skipped 1 line' in notes[0]
    # without scalars.json, vis_data/<timestamp>.json (same lines) is read
    import os
    os.remove(scalars)
    assert [e.metrics['accuracy/top1'] for e in read_run_evaluations(
        str(dst))] == [78.9, 79.35, 79.1]


def test_seed_runs_are_averaged(tmp_path):
    stem = 'resnet50_8xb64-300e-rm_in1k'
    shutil.copytree(osp.join(WORK_DIRS, stem), tmp_path / stem)
    shutil.copytree(osp.join(WORK_DIRS, stem), tmp_path / f'{stem}-seed1')
    (scalars, ) = glob.glob(str(tmp_path / f'{stem}-seed1' / '*' / 'vis_data'
                                / 'scalars.json'))
    text = open(scalars).read()
    assert text.count('"accuracy/top1": 79.1,') == 1
    with open(scalars, 'w') as f:  # the 2nd seed ends at 79.3 instead
        f.write(text.replace('"accuracy/top1": 79.1,',
                             '"accuracy/top1": 79.3,'))
    report = collect_results(str(tmp_path), ['5'], METAFILES, 'last')
    row = _row(report, stem, 5)
    assert row[2:] == ['20.80 / 20.80 (+0.00)', '5.50 / 5.42 (+0.08)',
                       f'`{stem}` (mean of 2 runs)']


def test_select_evaluation():
    evals = read_run_evaluations(osp.join(WORK_DIRS,
                                          'resnet50_8xb64-300e-rm_in1k'))
    assert select_evaluation(evals, 'accuracy/top1').step == 3
    assert select_evaluation(evals, 'accuracy/top1', 'best').step == 2
    assert select_evaluation(evals, 'accuracy/top1', 'best',
                             higher_is_better=False).step == 1
    assert select_evaluation(evals, 'coco/bbox_mAP') is None
    with pytest.raises(ValueError, match='mode'):
        select_evaluation(evals, 'accuracy/top1', 'mean')


def test_format_cell():
    assert format_cell(20.9, 20.8) == '20.90 / 20.80 (+0.10)'
    assert format_cell(41.5, 41.5, 1) == '41.5 / 41.5 (+0.0)'
    assert format_cell(20.799999, 20.80) == '20.80 / 20.80 (+0.00)'
    assert format_cell(None, 7.05) == '— / 7.05'
    assert format_cell(3.0, None) == '3.00 / —'
    assert format_cell(None, None) == '—'


def test_bad_metafiles_raise_naming_the_file(tmp_path):
    bad = tmp_path / 'metafile.yml'
    bad.write_text('Models:\n  - Name: x\n    Results:\n      - Metrics: '
                   '{top1_err: high}\n')
    with pytest.raises(ValueError, match=r'metafile\.yml.*not a number'):
        load_metafile(str(bad))
    bad.write_text('Models: [unclosed\n')
    with pytest.raises(ValueError, match='not valid YAML'):
        load_metafile(str(bad))
    with pytest.raises(ValueError, match='unknown paper table'):
        collect_results(WORK_DIRS, ['6'], METAFILES)


def test_project_metafiles_are_consistent():
    notes = []
    entries = load_entries([osp.join(ROOT, 'configs')], notes)
    assert not notes
    names = {e.name for e in entries}
    for entry in entries:
        assert osp.isfile(osp.join(ROOT, entry.config)), entry.config
        if entry.metrics:  # a paper row: must say where it goes
            assert entry.tables and entry.backbone and entry.regularizer
    cifar = sorted(osp.splitext(osp.basename(p))[0] for p in glob.glob(
        osp.join(ROOT, 'configs', 'pretrain', 'cifar', '*.py')))
    assert set(cifar) <= names
    for entry in entries:  # errors, not accuracies
        if 'top1_err' in entry.metrics:
            assert 0 < entry.metrics['top1_err'] < 30
    rm = next(e for e in entries if e.name == 'resnet50_8xb64-300e-rm_in1k')
    assert rm.metrics == {'top1_err': 20.8, 'top5_err': 5.42}


def test_cli_writes_markdown(tmp_path, capsys):
    # in-process (a subprocess would spend its time importing torch & co.)
    cli = load_tool('tools/analysis_tools/collect_results.py')
    out = tmp_path / 'results.md'
    cli.main(['--work-dirs', WORK_DIRS, '--tables', '5', '9', '--metafiles',
              *METAFILES, '--out', str(out)])
    stdout = capsys.readouterr().out
    assert stdout == out.read_text()
    assert '### Table 5:' in stdout and '### Table 9:' in stdout
    assert '### Table 7:' not in stdout
    assert '20.90 / 20.80 (+0.10)' in stdout
    with pytest.raises(SystemExit):  # a table the paper lacks
        cli.main(['--work-dirs', WORK_DIRS, '--tables', '6'])
    cli.main(['--paper-only', '--tables', '7', '--metafiles', *METAFILES])
    paper = capsys.readouterr().out
    assert '| ATSS | ResNet-50 | + RM | 41.5 | 59.9 | 45.1 | ' \
        '`configs/det/atss/atss_r50-rm_fpn_1x_coco.py` |' in paper


def test_cli_imports_mmrm_only_after_reading_its_arguments(tmp_path):
    """--help and a mistyped --work-dirs answer in a fresh interpreter that
    never imports torch, mmrm or an OpenMMLab library (they answer at once
    instead of after mmrm's import); a whole report imports mmrm normally."""
    probe = (
        'import runpy, sys\n'
        'sys.argv = [TOOL] + sys.argv[1:]\n'
        'try:\n'
        '    runpy.run_path(TOOL, run_name="__main__")\n'
        'except SystemExit as e:\n'
        '    code = e.code\n'
        'else:\n'
        '    code = 0\n'
        'heavy = [m for m in ("torch", "mmengine", "mmpretrain", "mmdet", '
        '"mmseg", "mmcv", "mmrm") if m in sys.modules]\n'
        'print("EXIT", code, "HEAVY", heavy, file=sys.stderr)\n')
    tool = osp.join(ROOT, 'tools', 'analysis_tools', 'collect_results.py')
    env = dict(os.environ, PYTHONPATH=ROOT)

    def call(*args):
        return subprocess.run(
            [sys.executable, '-c', f'TOOL = {tool!r}\n' + probe, *args],
            capture_output=True, text=True, env=env, timeout=300)

    out = call('--help')
    assert 'EXIT 0 HEAVY []' in out.stderr and '--all-tables' in out.stdout
    missing = str(tmp_path / 'work_dirz')
    out = call('--work-dirs', missing)
    assert 'EXIT 2 HEAVY []' in out.stderr
    assert f"--work-dirs {missing!r}: no such folder" in out.stderr
    out = call('--work-dirs', WORK_DIRS, '--metafiles', *METAFILES,
               '--tables', '6')
    assert 'EXIT 2' in out.stderr and "unknown paper table(s) ['6']" in \
        out.stderr
    out = call('--work-dirs', WORK_DIRS, '--metafiles', *METAFILES)
    assert 'EXIT 0' in out.stderr and "'mmrm'" in out.stderr
    assert out.stdout.startswith('### Runs found under')
