"""The transfer benchmark's committed record (``records.json``): the report
and the run on a new machine continue from it instead of from the old
machine's work root; outputs committed before it are carried once.

The cells here are written by hand in the layout the run leaves (no
training): what is tested is the bookkeeping, not the fine-tuning.
"""
import json
import os
import os.path as osp

import pytest

from benchmarks.transfer import records, report, run as run_py, stages

FULL = run_py.PRESETS['full']
PLAN = run_py.cells(FULL)


def _cell(work_root, task, init, pseed, fseed, value, seconds=60.0):
    path = osp.join(work_root, 'finetune',
                    stages.cell_name(task, init, pseed, fseed))
    os.makedirs(path)
    metrics = {m: value for m in stages.TASKS[task][1]}
    stages.write_done(osp.join(path, 'result.json'), dict(
        task=task, init=init, pretrain_seed=pseed, finetune_seed=fseed,
        preset=stages.cell_signature(task, init, FULL), metrics=metrics,
        seconds=seconds, cpu_seconds=seconds / 2, checkpoint='/gone.pth'))


def _pretrain(work_root, method, seed, top1, seconds=600.0):
    q = FULL['pretrain']
    path = osp.join(work_root, 'pretrain',
                    stages.pretrain_name(method, seed, q))
    os.makedirs(path)
    stages.write_done(osp.join(path, 'result.json'), dict(
        method=method, seed=seed, preset=q, top1=top1, seconds=seconds,
        cpu_seconds=seconds / 2, convert_seconds=1.0,
        convert_cpu_seconds=0.5, backbone='/gone_backbone.pth'))


def _report(work_root, out_dir):
    info = dict(preset='full', jobs=2, threads=1, budget='b')
    return report.write_outputs(str(work_root), str(out_dir), FULL, PLAN,
                                info)


def _values(out_dir):
    with open(osp.join(out_dir, 'results.json')) as f:
        return {(r['task'], r['init'], r['pretrain_seed'], r['finetune_seed'],
                 r['metric']): r['value'] for r in json.load(f)}


def test_a_new_work_root_keeps_the_cells_recorded_by_the_old_one(tmp_path):
    old, new, out = tmp_path / 'old', tmp_path / 'new', tmp_path / 'out'
    _cell(old, 'atss', 'rm', 0, 0, 30.0, seconds=100.0)
    _report(old, out)
    record = json.load(open(out / records.RECORDS))
    assert '/gone.pth' not in json.dumps(record)  # no machine paths
    _cell(new, 'atss', 'baseline', 0, 0, 28.0, seconds=50.0)
    info = _report(new, out)
    assert _values(out) == {('atss', 'rm', 0, 0, 'bbox_mAP'): 30.0,
                            ('atss', 'baseline', 0, 0, 'bbox_mAP'): 28.0}
    assert info['cells_done'] == 2 and info['cells_carried'] == 0
    atss = info['stage_times']['finetune+test atss']
    assert atss == dict(runs=2, seconds=150.0, cpu_seconds=75.0)


def _legacy_outputs(out_dir):
    """Outputs as committed before records.json: values and stage sums."""
    os.makedirs(out_dir)
    rows = [dict(task='atss', metric='bbox_mAP', init=i, pretrain_seed=s,
                 finetune_seed=0, value=v)
            for i, s, v in (('random', None, 22.0), ('rm', 0, 31.0))]
    json.dump(rows, open(osp.join(out_dir, 'results.json'), 'w'))
    json.dump(dict(preset='full', pretrain_top1={'rm': {'0': 90.0}},
                   stage_times={
                       'data': dict(seconds=2.0, cpu_seconds=2.0),
                       'pretrain+convert': dict(runs=1, seconds=900.0,
                                                cpu_seconds=600.0),
                       'finetune+test atss': dict(runs=2, seconds=200.0,
                                                  cpu_seconds=100.0),
                       'finetune+test htc': dict(runs=0, seconds=0,
                                                 cpu_seconds=0),
                       'total': dict(seconds=1102.0, cpu_seconds=702.0)}),
              open(osp.join(out_dir, 'run_info.json'), 'w'))


def test_outputs_from_before_the_record_are_carried_once(tmp_path):
    work, out = tmp_path / 'work', tmp_path / 'out'
    _legacy_outputs(out)
    _cell(work, 'mask_rcnn', 'rm', 0, 0, 25.0, seconds=400.0)
    first = _report(work, out)
    second = _report(work, out)  # from records.json now
    assert _values(out) == {
        ('atss', 'random', None, 0, 'bbox_mAP'): 22.0,
        ('atss', 'rm', 0, 0, 'bbox_mAP'): 31.0,
        ('mask_rcnn', 'rm', 0, 0, 'bbox_mAP'): 25.0,
        ('mask_rcnn', 'rm', 0, 0, 'segm_mAP'): 25.0}
    for info in (first, second):
        assert info['cells_carried'] == 2 and info['cells_done'] == 3
        times = info['stage_times']
        assert times['finetune+test atss (earlier sittings)'] == dict(
            runs=2, seconds=200.0, cpu_seconds=100.0)
        assert 'finetune+test htc (earlier sittings)' not in times
        assert times['finetune+test mask_rcnn']['seconds'] == 400.0
        assert times['total']['seconds'] == pytest.approx(
            2.0 + 900.0 + 200.0 + 400.0)  # the data stage: this work root's
    assert first['pretrain_top1'] == second['pretrain_top1'] == {
        'rm': {0: 90.0}}
    md = open(out / 'results.md').read()
    assert '2 cells are carried' in md


def test_a_pretraining_run_again_shows_both_top1(tmp_path):
    work, out = tmp_path / 'work', tmp_path / 'out'
    _legacy_outputs(out)
    _pretrain(work, 'rm', 0, 89.5)
    _pretrain(work, 'baseline', 0, 91.0)  # not in the record: no rerun
    for _ in range(2):  # the second report reads it from records.json
        info = _report(work, out)
        assert info['pretrain_reruns'] == [('rm', 0, 89.5, 90.0)]
        assert info['pretrain_top1'] == {'rm': {0: 89.5},
                                         'baseline': {0: 91.0}}
        md = open(out / 'results.md').read()
        assert 'Pretraining rm seed 0 ran again: top-1 89.50 (recorded 90.00' \
            in md
        assert 'to the last digit' not in md


def test_a_pretraining_run_again_to_the_same_top1_is_named_once(tmp_path):
    work, out = tmp_path / 'work', tmp_path / 'out'
    _legacy_outputs(out)
    _pretrain(work, 'rm', 0, 90.0)
    info = _report(work, out)
    assert info['pretrain_reruns'] == [('rm', 0, 90.0, 90.0)]
    md = open(out / 'results.md').read()
    assert ('Pretrainings run again that reached the top-1 recorded before '
            'to the last digit (1): rm seed 0.') in md
    assert 'Pretraining rm seed 0 ran again' not in md


def test_a_recorded_cell_made_with_other_settings_is_refused(tmp_path):
    work, out = tmp_path / 'work', tmp_path / 'out'
    _cell(work, 'atss', 'rm', 0, 0, 30.0)
    _report(work, out)
    path = out / records.RECORDS
    record = json.load(open(path))
    record['cells'][0]['preset']['configs'] = 'another digest'
    json.dump(record, open(path, 'w'))
    with pytest.raises(ValueError, match='other settings or configs'):
        records.load(str(out), 'full', FULL)
    with pytest.raises(ValueError, match="preset 'full', not 'smoke'"):
        records.load(str(out), 'smoke', run_py.PRESETS['smoke'])


def test_the_run_leaves_recorded_cells_and_their_pretrainings_out():
    done = {c for c in PLAN if c[0] == 'atss' and c[3] in (0, 100, 101)}
    kept = [job[1] for jobs in run_py.phases(
        FULL, 'w', 'f', 'd', tasks=['atss'], seeds=[0, 1], recorded=done)
        for job in jobs]
    cells = {a[:4] for a in kept if len(a) > 5}
    assert cells == {c for c in PLAN if c[0] == 'atss' and c[3] == 1}
    pretrain_seeds = {a[1] for a in kept if len(a) == 5}
    assert pretrain_seeds == {1}  # seed 0's cells are all recorded
