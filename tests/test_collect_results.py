"""Results -> paper tables (mmrm/report, tools/analysis_tools/collect_results.py), on the
recorded mmengine runs of tests/data/work_dirs_fixture (see make_fixture.py
there for how they were produced and which values they hold)."""
import glob
import os.path as osp
import shutil

import pytest

from helpers import load_tool
from mmrm.report import (collect_results, format_cell, load_entries,
                         load_metafile, read_run_evaluations,
                         select_evaluation)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
FIXTURE = osp.join(ROOT, 'tests', 'data', 'work_dirs_fixture')
WORK_DIRS = osp.join(FIXTURE, 'runs')  # a work_dirs folder
# fixture det/seg entries first, then whatever the project has
METAFILES = [osp.join(FIXTURE, 'metafiles'), osp.join(ROOT, 'configs')]


def _row(markdown, config, table):
    """Cells of the row of ``config`` in table ``table`` of the report."""
    section = markdown.split(f'### Table {table}:')[1].split('### Table')[0]
    for line in section.splitlines():
        if f'`{config}`' in line:
            return [c.strip() for c in line.strip().strip('|').split('|')]
    raise AssertionError(f'no row for {config} in table {table}')


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
    assert '`pvtv2-b1_8xb64-300e-rm_in1k`: run folder found but no ' \
        'evaluation' in report_last


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
                             [str(tmp_path / 'no_such_dir')], 'last')
    rows = [line for line in report.splitlines() if line.startswith('| ')
            and '---' not in line and 'Backbone' not in line]
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
                   '{accuracy/top1: high}\n')
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
    for entry in entries:
        if 'accuracy/top1' in entry.metrics:
            assert 50 < entry.metrics['accuracy/top1'] < 100
    rm = next(e for e in entries if e.name == 'resnet50_8xb64-300e-rm_in1k')
    assert rm.metrics == {'accuracy/top1': 79.2, 'accuracy/top5': 94.58}


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
    with pytest.raises(SystemExit):  # argparse rejects a table it lacks
        cli.main(['--tables', '6'])
