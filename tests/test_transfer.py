"""The downstream-transfer benchmark (``python -m benchmarks.transfer.run``)
at smoke scale, its analysis (paired differences, intervals, verdicts), its
generated scenes and its fine-tuning configs (configs/transfer/).

One ``--smoke`` run (tiny data, a few iterations per stage and cell) is
shared by the tests: it generates the scenes, pretrains and converts the RM
backbone and fine-tunes / evaluates the random-init and RM cells of all six
tasks.
"""
import contextlib
import io
import json
import math
import os
import os.path as osp
import shutil

import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

from benchmarks.transfer import analysis, report, run as run_py, stages
from benchmarks.transfer.pilot import write_pilot
from mmrm.datasets import fmnist_scenes as scenes

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
SPLITS = ('training', 'validation')
SMOKE = run_py.PRESETS['smoke']


def _run_smoke(work_root, *more):
    """The benchmark's --smoke run in this process; its stdout."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        run_py.main(['--smoke', '--work-root', str(work_root), *more])
    return out.getvalue()


@pytest.fixture(scope='module')
def smoke(tmp_path_factory):
    """``(work root, stdout)`` of one smoke run."""
    root = tmp_path_factory.mktemp('transfer_smoke')
    return root, _run_smoke(root)


def _coco(root, split):
    with open(osp.join(root, 'annotations', f'instances_{split}.json')) as f:
        return json.load(f)


def _cell(root, task, init, pseed, fseed):
    with open(osp.join(root, 'finetune', stages.cell_name(
            task, init, pseed, fseed), 'result.json')) as f:
        return json.load(f)


# ---------------------------------------------------------------- the run
def test_smoke_run_reports_every_cell_of_the_six_tasks(smoke):
    root, out = smoke
    plan = run_py.cells(SMOKE)
    assert {(t, i) for t, i, _, _ in plan} == {
        (t, i) for t in stages.TASKS for i in ('random', 'rm')}
    assert set(stages.TASKS) == {'atss', 'gfl', 'mask_rcnn', 'htc',
                                 'pspnet', 'upernet'}
    for cell in plan:  # one progress line per cell
        assert f'{stages.cell_name(*cell)}: ' in out, out
    with open(osp.join(root, 'results.json')) as f:
        rows = json.load(f)
    want = {(t, m, i, ps, fs) for t, i, ps, fs in plan
            for m in stages.TASKS[t][1]}
    assert {(r['task'], r['metric'], r['init'], r['pretrain_seed'],
             r['finetune_seed']) for r in rows} == want
    info = json.load(open(osp.join(root, 'run_info.json')))
    assert info['cells_done'] == info['cells_planned'] == len(plan)
    assert info['cells_missing'] == []
    assert set(info['pretrain_top1']) == {'rm'}
    md = open(osp.join(root, 'results.md')).read()
    for name in ('ATSS box AP', 'GFL box AP', 'HTC mask AP', 'PSPNet mIoU'):
        assert name in md
    assert osp.getsize(osp.join(root, 'results.png')) > 0


def test_smoke_values_are_the_logged_metrics_in_percent(smoke):
    """results.json holds mmdet's COCO fractions x 100 and mmseg's mIoU as
    logged (already percent), per cell."""
    root, _ = smoke
    rows = json.load(open(osp.join(root, 'results.json')))
    for cell in run_py.cells(SMOKE):
        task = cell[0]
        done = _cell(root, *cell)
        scale = 1.0 if task in stages.SEG_TASKS else 100.0
        for metric, key in stages.TASKS[task][1].items():
            logged = done['logged'].get(key, 0.0)  # no box: AP 0
            value = next(r['value'] for r in rows if (
                r['task'], r['init'], r['metric'], r['finetune_seed']) == (
                    task, cell[1], metric, cell[3]))
            assert value == pytest.approx(round(scale * logged, 4)), cell
            assert math.isfinite(value)


def test_percent_scales_coco_fractions_and_keeps_miou():
    assert stages.percent('atss', {'coco/bbox_mAP': 0.281}) == {
        'bbox_mAP': pytest.approx(28.1)}
    assert stages.percent('htc', {'coco/bbox_mAP': 0.3, 'coco/segm_mAP':
                                  0.25}) == {'bbox_mAP': pytest.approx(30.0),
                                             'segm_mAP': pytest.approx(25.0)}
    assert stages.percent('pspnet', {'mIoU': 14.2}) == {'mIoU': 14.2}
    assert stages.percent('gfl', {}) == {'bbox_mAP': 0.0}  # nothing scored


def test_smoke_cells_start_from_the_converted_backbone(smoke):
    """Each fine-tuning config ran from the strictly loaded converted
    checkpoint: the backbone at the first iteration equals it tensor for
    tensor (checked by the benchmark's StartCheck hook, every cell)."""
    root, _ = smoke
    for cell in run_py.cells(SMOKE):
        done = _cell(root, *cell)
        assert done['iters'] == 2
        assert done['backbone_equals_converted'] is (
            None if cell[1] == 'random' else True), cell


def test_start_check_tells_other_weights_apart(smoke):
    from types import SimpleNamespace

    from mmdet.models.backbones import ResNet
    ckpt = stages.backbone_file(str(smoke[0]), 'rm', 0, SMOKE['pretrain'])
    model = SimpleNamespace(backbone=ResNet(18, stem_channels=16,
                                            base_channels=16))
    check = stages.StartCheck(dict(type='StrictPretrained', checkpoint=ckpt))
    check.before_train(SimpleNamespace(model=model))
    assert check.equal is False  # a fresh init
    model.backbone.load_state_dict(torch.load(ckpt, weights_only=True)[
        'state_dict'])
    check.before_train(SimpleNamespace(model=model))
    assert check.equal is True


def test_smoke_rerun_in_two_workers_skips_finished_stages_and_cells(
        smoke, tmp_path):
    root, _ = smoke
    done = osp.join(root, 'pretrain', stages.pretrain_name(
        'rm', 0, SMOKE['pretrain']), 'result.json')
    before = os.path.getmtime(done)
    # no record in tmp_path; two spawned workers, as the full run uses
    out = _run_smoke(root, '--out-dir', str(tmp_path), '--jobs', '2')
    n = len(run_py.cells(SMOKE)) + 1  # + the RM pretraining
    assert out.count('done earlier, skipped') == n, out
    assert os.path.getmtime(done) == before


def test_smoke_run_on_a_new_work_root_continues_from_the_record(
        smoke, tmp_path):
    """A new machine: an empty work root, the committed outputs with their
    records.json: nothing runs again and the outputs keep every cell."""
    root, _ = smoke
    out_dir = tmp_path / 'out'
    out_dir.mkdir()
    for name in ('records.json', 'results.json', 'run_info.json'):
        shutil.copy(osp.join(root, name), out_dir / name)
    before = json.load(open(out_dir / 'results.json'))
    out = _run_smoke(tmp_path / 'new_root', '--out-dir', str(out_dir))
    n = len(run_py.cells(SMOKE))
    assert f'{n} cells recorded in {out_dir}: not run again' in out, out
    assert 'done earlier' not in out and not osp.isdir(
        tmp_path / 'new_root' / 'pretrain'), out
    assert json.load(open(out_dir / 'results.json')) == before


def test_pilot_table_reads_the_finished_pretrainings(smoke, tmp_path):
    root, _ = smoke
    q = dict(SMOKE['pretrain'])
    epochs = q.pop('epochs')
    table = write_pilot(str(root), str(tmp_path), dict(
        methods=('baseline', 'rm'), pretrain=q, epochs=[epochs, 99],
        seeds=[0]))
    top1 = json.load(open(osp.join(root, 'run_info.json')))[
        'pretrain_top1']['rm']['0']
    assert table == {'rm': {epochs: pytest.approx(top1)}}
    md = open(tmp_path / 'pilot.md').read()
    assert f'| {epochs} | — | {top1:.2f} |' in md
    assert osp.getsize(tmp_path / 'pilot.png') > 0


def test_finished_cell_of_another_preset_is_refused(tmp_path):
    path = str(tmp_path / 'result.json')
    stages.write_done(path, dict(preset=dict(a=1)))
    assert stages.read_done(path, dict(a=1)) == dict(preset=dict(a=1))
    with pytest.raises(ValueError, match='another preset'):
        stages.read_done(path, dict(a=2))


# ------------------------------------------------------------------ design
def test_cells_pair_pretraining_and_finetuning_seeds():
    p = dict(SMOKE, seeds=dict(atss=[3, 5], htc=[3]),
             methods=('baseline', 'rm'),
             replicates=[dict(init='baseline', pretrain_seed=3,
                              finetune_seeds=[100], tasks=('atss', ))])
    plan = run_py.cells(p)
    main = [c for c in plan if c[2] in (None, c[3])]
    assert len(main) == 3 * 3  # (task, seed) pairs x inits
    assert {(c[0], c[1], c[2], c[3]) for c in main} == {
        (t, i, None if i == 'random' else s, s)
        for t, s in (('atss', 3), ('atss', 5), ('htc', 3))
        for i in ('random', 'baseline', 'rm')}
    assert [c for c in plan if c not in main] == [('atss', 'baseline', 3,
                                                   100)]
    assert plan.index(('htc', 'rm', 3, 3)) < plan.index(
        ('atss', 'random', None, 5))  # seed rows outermost


def test_phases_run_each_cell_after_its_pretraining():
    p = dict(SMOKE, seeds=dict(atss=[0, 1, 2], upernet=[0, 1]),
             methods=('baseline', 'rm'),
             replicates=[dict(init='rm', pretrain_seed=0,
                              finetune_seeds=[100], tasks=('upernet', ))])
    phases = run_py.phases(p, 'W', 'F', 'D')
    assert len(phases) == 4
    finished, seen = set(), []
    for jobs in phases:
        for kind, args in jobs:
            if kind == 'finetune':
                task, init, pseed, fseed = args[:4]
                seen.append(args[:4])
                assert init == 'random' or (init, pseed) in finished, args
        finished |= {(a[0], a[1]) for k, a in jobs if k == 'pretrain'}
    assert sorted(seen, key=str) == sorted(run_py.cells(p), key=str)


def test_phases_of_a_subset_hold_its_cells_and_pretrainings_only():
    p = dict(SMOKE, seeds=dict(atss=[0, 1, 2], upernet=[0, 1, 2]),
             methods=('baseline', 'rm'),
             replicates=[dict(init='baseline', pretrain_seed=0,
                              finetune_seeds=[100], tasks=('atss', ))])
    phases = run_py.phases(p, 'W', 'F', 'D', tasks=('atss', ), seeds=(0, 1))
    jobs = [(k, a[:4] if k == 'finetune' else a[:2])
            for phase in phases for k, a in phase]
    assert sorted(a for k, a in jobs if k == 'pretrain') == [
        ('baseline', 0), ('baseline', 1), ('rm', 0), ('rm', 1)]
    assert sorted((a for k, a in jobs if k == 'finetune'), key=str) == sorted(
        [('atss', i, None if i == 'random' else s, s) for s in (0, 1)
         for i in ('random', 'baseline', 'rm')] + [('atss', 'baseline', 0,
                                                    100)], key=str)
    finished = set()
    for phase in phases:  # still each cell after its pretraining
        for k, a in phase:
            assert k == 'pretrain' or a[1] == 'random' or (
                a[1], a[2]) in finished
        finished |= {(a[0], a[1]) for k, a in phase if k == 'pretrain'}


# ---------------------------------------------------------------- analysis
def _rows(values: dict, task='atss', metric='bbox_mAP'):
    return [dict(task=task, metric=metric, init=i, pretrain_seed=None if
                 i == 'random' else ps, finetune_seed=fs, value=v)
            for (i, ps, fs), v in values.items()]


def test_paired_difference_interval_is_the_student_t_interval():
    rows = _rows({('baseline', s, s): 20.0 for s in range(3)} | {
        ('rm', 0, 0): 21.0, ('rm', 1, 1): 22.0, ('rm', 2, 2): 23.0})
    d = analysis.paired_difference(rows, 'atss', 'bbox_mAP', 'rm')
    ci = d['interval']
    # diffs 1, 2, 3: mean 2, std 1, t(0.975, 2) = 4.3027
    assert d['diffs'] == [1.0, 2.0, 3.0]
    assert ci['mean'] == pytest.approx(2.0)
    assert ci['half'] == pytest.approx(4.3027 / 3**0.5, rel=1e-4)
    assert d['verdict'] == 'no difference resolved'  # 2 - 2.48 < 0


def test_verdicts_follow_the_interval():
    up = _rows({('baseline', s, s): 20.0 + s for s in range(4)} | {
        ('rm', s, s): 22.0 + s + 0.1 * (s % 2) for s in range(4)})
    assert analysis.paired_difference(up, 'atss', 'bbox_mAP', 'rm')[
        'verdict'] == 'rm > baseline'
    down = _rows({('baseline', s, s): 20.0 + s for s in range(4)} | {
        ('cutmix', s, s): 18.0 + s + 0.1 * (s % 2) for s in range(4)})
    assert analysis.paired_difference(down, 'atss', 'bbox_mAP', 'cutmix')[
        'verdict'] == 'cutmix < baseline'
    one = _rows({('baseline', 0, 0): 20.0, ('rm', 0, 0): 25.0})
    d = analysis.paired_difference(one, 'atss', 'bbox_mAP', 'rm')
    assert d['interval'] is None and d['verdict'] == '1 pair: no interval'


def test_pairing_is_by_seed_and_ignores_replicates():
    """Unpaired seeds are left out; a replicate (another fine-tuning seed of
    one pretraining) is not a pair of the design, it measures the
    fine-tuning spread."""
    rows = _rows({('baseline', 0, 0): 20.0, ('baseline', 1, 1): 21.0,
                  ('baseline', 0, 100): 24.0, ('baseline', 0, 101): 22.0,
                  ('rm', 1, 1): 23.0, ('rm', 2, 2): 30.0,
                  ('rm', 0, 100): 26.0})
    d = analysis.paired_difference(rows, 'atss', 'bbox_mAP', 'rm')
    assert d['seeds'] == [1] and d['diffs'] == [2.0]
    spread = analysis.finetune_spread(rows, 'atss', 'bbox_mAP')
    # baseline p0: 20, 24, 22 (std 2); rm p0: 26 alone (not a group)
    assert spread == dict(std=pytest.approx(2.0), dof=2, groups=1)


def test_report_reads_the_papers_gains_from_the_metafiles():
    for task, (_, metrics) in stages.TASKS.items():
        for key in metrics.values():
            for init in ('cutmix', 'rm'):
                gain = report.paper_gain(task, key, init)
                assert gain is not None, (task, key, init)
            assert report.paper_gain(task, key, 'rm') > 0, (task, key)


# ----------------------------------------------------------------- scenes
def test_scene_annotations_are_consistent(smoke):
    """Every mask inside its box, box = mask extent, area = mask pixels,
    instance masks disjoint, semantic map = union of the instance masks
    (with their classes); garments from the splits pretraining never saw."""
    from pycocotools import mask as mask_utils
    data = osp.join(smoke[0], 'fmnist_scenes')
    for split in SPLITS:
        coco = _coco(data, split)
        assert len(coco['images']) == SMOKE['scenes'][
            'train' if split == 'training' else 'val']
        _, first, end = scenes.SOURCES[split]
        for img in coco['images']:
            anns = [a for a in coco['annotations']
                    if a['image_id'] == img['id']]
            assert anns, 'a scene without garments'
            sem = np.asarray(Image.open(osp.join(
                data, 'annotations', split,
                img['file_name'].replace('.jpg', '.png'))))
            union = np.zeros_like(sem, dtype=bool)
            for a in anns:
                assert a['iscrowd'] == 0 and 1 <= a['category_id'] <= 10
                assert first <= a['fmnist_index'] < end
                m = mask_utils.decode(a['segmentation']).astype(bool)
                x, y, w, h = a['bbox']
                inside = np.zeros_like(m)
                inside[y:y + h, x:x + w] = True
                assert m.any() and not (m & ~inside).any(), 'mask out of box'
                ys, xs = np.nonzero(m)
                assert [xs.min(), ys.min(), xs.max() - xs.min() + 1,
                        ys.max() - ys.min() + 1] == [x, y, w, h]
                assert a['area'] == m.sum()
                assert not (union & m).any(), 'instance masks overlap'
                union |= m
                assert (sem[m] == a['category_id']).all()
            assert ((sem > 0) == union).all(), 'semantic map != union'


def test_scene_generator_is_deterministic_from_its_seed(tmp_path):
    kw = dict(train=2, val=1, size=64,
              fmnist_root=osp.join(REPO, 'data', 'fashion_mnist'))
    for name, seed in (('a', 0), ('b', 0), ('c', 1)):
        scenes.make_scenes(str(tmp_path / name), seed=seed, **kw)

    def files(name):
        base = tmp_path / name
        return {str(p.relative_to(base)): p.read_bytes()
                for p in sorted(base.rglob('*')) if p.is_file()}

    assert files('a') == files('b')
    assert files('a')['images/training/000000.jpg'] != files('c')[
        'images/training/000000.jpg']


def test_missing_photographs_name_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match='docs/figures/src'):
        scenes.load_photos(photo_dir=str(tmp_path))


# ---------------------------------------------------------------- configs
def test_transfer_configs_use_the_pretraining_normalisation():
    from mmrm.datasets.fashion_mnist import normalization
    mean, std = normalization()
    for config, _ in stages.TASKS.values():
        pre = Config.fromfile(osp.join(REPO, config)).model.data_preprocessor
        assert list(pre.mean) == mean and list(pre.std) == std, config


def _no_scope(x):
    if isinstance(x, dict):
        return {k: _no_scope(v) for k, v in x.items() if k != '_scope_'}
    if isinstance(x, (list, tuple)):
        return [_no_scope(v) for v in x]
    return x


@pytest.mark.parametrize('task', list(stages.TASKS))
def test_pipelines_are_the_stock_ones_at_the_scenes_size(task):
    """The transfer configs' pipelines equal the stock recipe's (the paper
    config each inherits) with only the sizes changed (and, for the
    ADE20K-style maps, class 0 kept)."""
    path = osp.join(REPO, stages.TASKS[task][0])
    config = Config.fromfile(path)
    stock = Config.fromfile(osp.join(osp.dirname(path), _first_base(path)))
    size = 128

    def resized(t):
        t = dict(t)
        if t['type'] == 'Resize':
            t['scale'] = (4 * size, size) if task in stages.SEG_TASKS else (
                size, size)
        elif t['type'] == 'RandomResize':
            t['scale'] = (4 * size, size)
        elif t['type'] == 'RandomCrop':
            t['crop_size'] = (size, size)
        elif t['type'] == 'LoadAnnotations' and task in stages.SEG_TASKS:
            t = dict(type='LoadAnnotations')  # no reduce_zero_label
        return t

    for loader, key in (('train_dataloader', 'train_pipeline'),
                        ('test_dataloader', 'test_pipeline')):
        want = _no_scope([resized(t) for t in stock[key]])
        got = _no_scope(config[loader].dataset.pipeline)
        assert got == want, (task, loader)


def _first_base(path):
    """The stock-recipe (paper) config a transfer config inherits: the first
    entry of its ``_base_`` list."""
    import ast
    with open(path) as f:
        tree = ast.parse(f.read())
    (bases, ) = [node.value for node in tree.body
                 if isinstance(node, ast.Assign)
                 and getattr(node.targets[0], 'id', None) == '_base_']
    return ast.literal_eval(bases)[0]


@pytest.mark.parametrize('task', list(stages.TASKS))
def test_datasets_load_through_mmdet_and_mmseg(smoke, task):
    from mmengine.registry import init_default_scope
    root = str(smoke[0])
    cfg = stages.cell_config(task, 'rm', 0, 0, SMOKE, root,
                             osp.join(root, 'fmnist_scenes'))
    init_default_scope(cfg.default_scope)
    registry = __import__(f'{cfg.default_scope}.registry',
                          fromlist=['DATASETS']).DATASETS
    data = osp.join(root, 'fmnist_scenes')
    for loader, split in (('train_dataloader', 'training'),
                          ('test_dataloader', 'validation')):
        ds = registry.build(cfg[loader].dataset)
        coco = _coco(data, split)
        assert len(ds) == len(coco['images'])
        sample = ds[0]['data_samples']
        img_id = int(osp.basename(sample.img_path)[:-4])
        n = sum(a['image_id'] == img_id for a in coco['annotations'])
        sem_file = osp.join(data, 'annotations', split, f'{img_id:06d}.png')
        if task in stages.SEG_TASKS:
            sem = np.asarray(Image.open(sample.seg_map_path))
            if split == 'validation':  # no random resize / crop
                assert np.array_equal(sample.gt_sem_seg.data[0].numpy(), sem)
            assert ds.metainfo['classes'][0] == 'background'
            continue
        assert len(sample.gt_instances.labels) == n
        if task in ('mask_rcnn', 'htc'):
            assert len(sample.gt_instances.masks) == n
        if task == 'htc' and split == 'training':
            # the semantic branch learns the scene's semantic map (flipped
            # or not by the stock pipeline's RandomFlip)
            sem = np.asarray(Image.open(sem_file))
            got = sample.gt_sem_seg.sem_seg[0].numpy()
            assert np.array_equal(got, sem) or np.array_equal(
                got, sem[:, ::-1])
