"""The downstream-transfer benchmark (benchmarks/transfer/run.py) at smoke
scale, its generated scenes and its fine-tuning configs (configs/transfer/).

One ``--smoke`` run (tiny data, a few iterations per stage and cell) is
shared by the tests: it generates the scenes, pretrains and converts the
three backbones and fine-tunes / evaluates every (task, init) cell.
"""
import contextlib
import io
import json
import math
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

from helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
run_py = load_tool('benchmarks/transfer/run.py')
scenes = load_tool('tools/dataset_converters/make_fmnist_scenes.py')
SPLITS = ('training', 'validation')


def _run_smoke(work_root):
    """benchmarks/transfer/run.py --smoke in this process; its stdout."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        run_py.main(['--smoke', '--work-root', str(work_root)])
    return out.getvalue()


@pytest.fixture(scope='module')
def smoke(tmp_path_factory):
    """``(work root, stdout)`` of one smoke run."""
    root = tmp_path_factory.mktemp('transfer_smoke')
    return root, _run_smoke(root)


def _coco(root, split):
    with open(osp.join(root, 'annotations', f'instances_{split}.json')) as f:
        return json.load(f)


# ---------------------------------------------------------------- the run
def test_smoke_run_reports_every_cell_in_percent(smoke):
    root, out = smoke
    plan = run_py.cells(run_py.PRESETS['smoke'])
    assert {(t, i) for t, i, _ in plan} == {
        (t, i) for t in run_py.TASKS for i in ('random', 'rm')}
    for task, init, seed in plan:  # one progress line per cell
        assert f'{task} {init} seed {seed}: ' in out, out
    with open(osp.join(root, 'results.json')) as f:
        rows = json.load(f)
    want = {(i, t, m, s) for t, i, s in plan for m in run_py.TASKS[t][1]}
    assert {(r['init'], r['task'], r['metric'], r['seed'])
            for r in rows} == want
    assert all(0 <= r['value'] <= 100 and math.isfinite(r['value'])
               for r in rows)
    info = json.load(open(osp.join(root, 'run_info.json')))
    assert info['cells_done'] == info['cells_planned'] == len(plan)
    assert set(info['pretrain_top1']) == {'rm'}
    md = open(osp.join(root, 'results.md')).read()
    assert 'ATSS box AP' in md and 'UperNet mIoU' in md
    assert osp.getsize(osp.join(root, 'results.png')) > 0


def test_smoke_cells_start_from_the_converted_backbone(smoke):
    """Each fine-tuning config ran from the strictly loaded converted
    checkpoint: the backbone at the first iteration equals it tensor for
    tensor (checked by the benchmark's StartCheck hook, every cell)."""
    root, _ = smoke
    for task, init, seed in run_py.cells(run_py.PRESETS['smoke']):
        with open(osp.join(root, 'finetune', f'{task}_{init}_seed{seed}',
                           'result.json')) as f:
            cell = json.load(f)
        assert cell['iters'] == 2
        assert cell['backbone_equals_converted'] is (
            None if init == 'random' else True), (task, init)


def test_start_check_tells_other_weights_apart(smoke):
    from types import SimpleNamespace

    from mmdet.models.backbones import ResNet
    ckpt = osp.join(smoke[0], 'checkpoints', 'resnet18-w16_rm_backbone.pth')
    model = SimpleNamespace(backbone=ResNet(18, stem_channels=16,
                                            base_channels=16))
    check = run_py.stages.StartCheck(
        dict(type='StrictPretrained', checkpoint=ckpt))
    check.before_train(SimpleNamespace(model=model))
    assert check.equal is False  # a fresh init
    model.backbone.load_state_dict(torch.load(ckpt, weights_only=True)[
        'state_dict'])
    check.before_train(SimpleNamespace(model=model))
    assert check.equal is True


def test_smoke_rerun_skips_finished_stages_and_cells(smoke):
    root, _ = smoke
    before = os.path.getmtime(osp.join(root, 'pretrain', 'rm', 'result.json'))
    out = _run_smoke(root)
    n = len(run_py.cells(run_py.PRESETS['smoke'])) + 1  # + RM pretraining
    assert out.count('done earlier, skipped') == n, out
    assert os.path.getmtime(
        osp.join(root, 'pretrain', 'rm', 'result.json')) == before


def test_finished_cell_of_another_preset_is_refused(tmp_path):
    path = str(tmp_path / 'result.json')
    run_py.stages.write_done(path, dict(preset=dict(a=1)))
    assert run_py.stages.read_done(path, dict(a=1)) == dict(
        preset=dict(a=1))
    with pytest.raises(ValueError, match='another preset'):
        run_py.stages.read_done(path, dict(a=2))


# ----------------------------------------------------------------- scenes
def test_scene_annotations_are_consistent(smoke):
    """Every mask inside its box, box = mask extent, area = mask pixels,
    instance masks disjoint, semantic map = union of the instance masks
    (with their classes); garments from the splits pretraining never saw."""
    from pycocotools import mask as mask_utils
    data = osp.join(smoke[0], 'fmnist_scenes')
    for split in SPLITS:
        coco = _coco(data, split)
        assert len(coco['images']) == run_py.PRESETS['smoke']['scenes'][
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


# ---------------------------------------------------------------- configs
def _cell_cfg(root, task, init):
    p = run_py.PRESETS['smoke']
    return run_py.stages.cell_config(task, init, 0, p, str(root),
                              osp.join(str(root), 'fmnist_scenes'))


def test_transfer_configs_use_the_pretraining_normalisation():
    from mmrm.datasets.fashion_mnist import normalization
    mean, std = normalization()
    for config, _ in run_py.TASKS.values():
        pre = Config.fromfile(osp.join(REPO, config)).model.data_preprocessor
        assert list(pre.mean) == mean and list(pre.std) == std, config


@pytest.mark.parametrize('task', list(run_py.TASKS))
def test_datasets_load_through_mmdet_and_mmseg(smoke, task):
    from mmengine.registry import init_default_scope
    cfg = _cell_cfg(smoke[0], task, 'rm')
    init_default_scope(cfg.default_scope)
    registry = __import__(f'{cfg.default_scope}.registry',
                          fromlist=['DATASETS']).DATASETS
    data = osp.join(smoke[0], 'fmnist_scenes')
    for loader, split in (('train_dataloader', 'training'),
                          ('test_dataloader', 'validation')):
        ds = registry.build(cfg[loader].dataset)
        coco = _coco(data, split)
        assert len(ds) == len(coco['images'])
        sample = ds[0]['data_samples']
        img_id = int(osp.basename(sample.img_path)[:-4])
        n = sum(a['image_id'] == img_id for a in coco['annotations'])
        if task == 'upernet':
            sem = np.asarray(Image.open(sample.seg_map_path))
            if split == 'validation':  # no random resize / crop
                assert np.array_equal(sample.gt_sem_seg.data[0].numpy(), sem)
            assert ds.metainfo['classes'][0] == 'background'
        else:
            assert len(sample.gt_instances.labels) == n
            if task == 'mask_rcnn':
                assert len(sample.gt_instances.masks) == n


def test_report_reads_the_paper_numbers_from_the_metafiles():
    report = load_tool('benchmarks/transfer/report.py')
    for task, (_, metrics) in run_py.TASKS.items():
        for key in metrics.values():
            paper = report.paper_numbers(task, key)
            assert set(paper) == {'baseline', 'cutmix', 'rm'}, (task, key)
            assert paper['rm'] > paper['baseline']
