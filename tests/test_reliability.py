"""Resume exactness and bad inputs across pretraining, conversion and
fine-tuning (issue 6), through ``tools/train.py`` in-process.

Resume: a run that crashes (a hook raises) and is resumed with ``--resume``
must end where the uninterrupted run ends: same iteration count, weights,
optimizer state (SGD momentum buffers), LR and scheduler state. Exact for the
deterministic Fashion-MNIST baseline; iteration count, optimizer and
scheduler continuation for the det (epoch-based) and seg (iteration-based)
demo configs.

Bad inputs: each must stop the run with an error naming the problem, before
any training step (see docs/checks.md).
"""
import json
import os
import os.path as osp
import shutil

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook

from helpers import load_tool, safe_globals_restored
from mmrm import apis
from mmrm.apis import NothingToLoadError
from mmrm.convert import (NotACheckpointError, StrictLoadError,
                          convert_checkpoint, load_checkpoint_file)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
BASELINE = osp.join(ROOT, 'configs/pretrain/fashion_mnist/'
                    'resnet18-w16_1xb128-3e_fmnist-64px.py')
RM = osp.join(ROOT, 'configs/pretrain/fashion_mnist/resnet18-w16_1xb128-3e-rm_fmnist-64px.py')
DET = osp.join(ROOT, 'configs/det/demo/atss_r18-w16-rm_fpn_5e_coco-fixture.py')
SEG = osp.join(ROOT, 'configs/seg/demo/upernet_r18-w16-rm_1xb2-20i_ade20k-fixture-128x128.py')
COCO = osp.join(ROOT, 'tests/data/coco_fixture')
ADE = osp.join(ROOT, 'tests/data/ade_fixture')


train_tool = load_tool('tools/train.py')


@pytest.fixture(autouse=True, scope='module')
def restore_safe_globals():
    yield from safe_globals_restored()


class SimulatedCrash(RuntimeError):
    pass


class CrashAt(Hook):
    """Raise before the iteration ``at`` (0-based global index)."""
    priority = 'LOWEST'

    def __init__(self, at):
        self.at = at

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter == self.at:
            raise SimulatedCrash(f'simulated crash at iter {self.at}')


class Probe(Hook):
    """Records the state right after loading/resuming, and each step."""
    priority = 'LOWEST'

    def __init__(self):
        self.start = None
        self.steps = []

    def before_train(self, runner):
        opt = runner.optim_wrapper.optimizer
        self.start = dict(
            iter=runner.iter, epoch=runner.epoch,
            opt=_clone(opt.state_dict()),
            sched=[s.state_dict() for s in _schedulers(runner)])

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.steps.append({k: float(v.detach()) for k, v in outputs.items()})


def _schedulers(runner):
    s = runner.param_schedulers
    return list(s.values())[0] if isinstance(s, dict) else list(s)


def _clone(obj):
    if isinstance(obj, torch.Tensor):
        return obj.detach().clone()
    if isinstance(obj, dict):
        return {k: _clone(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_clone(v) for v in obj)
    return obj


def train(argv, hooks=(), mutate=None):
    """tools/train.py's arguments, through mmrm.apis.train as the tool
    runs them, with extra hooks / config edits."""
    args = train_tool.parse_args(argv)
    cfg = train_tool.cfg_from_args(args)
    cfg.log_level = 'WARNING'
    if mutate is not None:
        mutate(cfg)
    return apis.train(cfg, allow_partial_load=args.allow_partial_load,
                      extra_hooks=hooks)


def assert_same(a, b, path='root'):
    """Exact equality of nested checkpoint parts (tensors bitwise)."""
    if isinstance(a, torch.Tensor):
        assert torch.equal(a, b), f'{path} differs'
    elif isinstance(a, dict):
        assert set(a) == set(b), f'{path}: keys {set(a) ^ set(b)}'
        for k in a:
            assert_same(a[k], b[k], f'{path}.{k}')
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f'{path}[{i}]')
    else:
        assert a == b, f'{path}: {a!r} != {b!r}'


# ------------------------------------------------------------- fixtures
def fmnist_argv(work, data_root, n_train=48, batch=16, epochs=2, cfg=None,
                extra=()):
    return [cfg or BASELINE, '--work-dir', str(work), '--cfg-options',
            f'train_dataloader.dataset.data_root={data_root}',
            f'val_dataloader.dataset.data_root={data_root}',
            f'test_dataloader.dataset.data_root={data_root}',
            f'train_dataloader.dataset.indices={n_train}',
            f'train_dataloader.batch_size={batch}',
            'val_dataloader.dataset.indices=16',
            'test_dataloader.dataset.indices=16',
            'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
            'test_dataloader.num_workers=0',
            f'train_cfg.max_epochs={epochs}', 'train_cfg.val_interval=100',
            'randomness.deterministic=True', *extra]


def deterministic_pipeline(cfg):
    """Drop the random crop/flip: mmengine re-seeds on resume but does not
    restore the numpy/python RNG state of the data pipeline, so random
    augmentations after a resume differ from an uninterrupted run."""
    cfg.train_dataloader.dataset.pipeline = [
        t for t in cfg.train_dataloader.dataset.pipeline
        if t['type'] not in ('RandomCrop', 'RandomFlip')]


@pytest.fixture(scope='module')
def demo_backbone(tmp_path_factory):
    """A converted backbone checkpoint for the det/seg demo configs."""
    from mmpretrain.models.backbones import ResNet
    backbone_cfg = Config.fromfile(RM).model.backbone
    net = ResNet(**{k: v for k, v in backbone_cfg.items() if k != 'type'})
    d = tmp_path_factory.mktemp('demo_backbone')
    src, dst = str(d / 'pre.pth'), str(d / 'backbone.pth')
    torch.save({'state_dict': {'backbone.' + k: v
                               for k, v in net.state_dict().items()}}, src)
    convert_checkpoint(src, dst, backbone=backbone_cfg.to_dict())
    return dst


def det_argv(work, ckpt, extra=()):
    return [DET, '--work-dir', str(work), '--cfg-options',
            f'model.backbone.init_cfg.checkpoint={ckpt}',
            f'train_dataloader.dataset.data_root={COCO}/',
            f'val_dataloader.dataset.data_root={COCO}/',
            f'test_dataloader.dataset.data_root={COCO}/',
            f'val_evaluator.ann_file={COCO}/annotations/'
            'instances_val2017.json',
            f'test_evaluator.ann_file={COCO}/annotations/'
            'instances_val2017.json', *extra]


def seg_argv(work, ckpt, extra=()):
    return [SEG, '--work-dir', str(work), '--cfg-options',
            f'model.backbone.init_cfg.checkpoint={ckpt}',
            f'train_dataloader.dataset.data_root={ADE}',
            f'val_dataloader.dataset.data_root={ADE}',
            f'test_dataloader.dataset.data_root={ADE}', *extra]


def small_det_images(cfg):
    for name in ('train_dataloader', 'val_dataloader'):
        for t in cfg[name].dataset.pipeline:
            if t['type'] == 'Resize':
                t['scale'] = (160, 128)


# --------------------------------------------------------------- resume
def test_resume_is_exact_for_the_deterministic_baseline(tmp_path,
                                                        fmnist_small):
    """2 epochs x 3 iterations uninterrupted == crash at iteration 3 (epoch 2
    start, epoch_1.pth saved) + ``--resume``: bitwise equal weights, SGD
    momentum buffers, LR, scheduler state and counters. (CPU, fixed thread
    count, deterministic algorithms: no tolerance is needed.)"""
    full = train(fmnist_argv(tmp_path / 'full', fmnist_small),
                 mutate=deterministic_pipeline)
    assert full.iter == 6 and full.epoch == 2

    work = tmp_path / 'split'
    with pytest.raises(SimulatedCrash):
        train(fmnist_argv(work, fmnist_small), hooks=[CrashAt(3)],
              mutate=deterministic_pipeline)
    assert osp.isfile(work / 'epoch_1.pth') and \
        not osp.isfile(work / 'epoch_2.pth')
    first = load_checkpoint_file(str(work / 'epoch_1.pth'))
    probe = Probe()
    argv = fmnist_argv(work, fmnist_small)
    resumed = train(argv[:1] + ['--resume'] + argv[1:], hooks=[probe],
                    mutate=deterministic_pipeline)
    # it continued from the checkpoint: 3 more iterations, not 6
    assert probe.start['iter'] == 3 and probe.start['epoch'] == 1
    assert_same(probe.start['opt']['state'], first['optimizer']['state'])
    assert len(probe.steps) == 3
    assert resumed.iter == 6 and resumed.epoch == 2

    a = load_checkpoint_file(str(tmp_path / 'full' / 'epoch_2.pth'))
    b = load_checkpoint_file(str(work / 'epoch_2.pth'))
    assert a['meta']['iter'] == b['meta']['iter'] == 6
    assert a['meta']['epoch'] == b['meta']['epoch'] == 2
    assert_same(a['state_dict'], b['state_dict'], 'state_dict')
    # SGD with momentum: one momentum buffer per parameter, all equal
    state = a['optimizer']['state']
    assert state and all('momentum_buffer' in s for s in state.values())
    assert_same(a['optimizer'], b['optimizer'], 'optimizer')
    assert_same(a['param_schedulers'], b['param_schedulers'], 'schedulers')
    lr_a = a['optimizer']['param_groups'][0]['lr']
    assert lr_a == b['optimizer']['param_groups'][0]['lr']
    assert lr_a != first['optimizer']['param_groups'][0]['lr']
    # and training changed the weights after the resume
    assert not torch.equal(first['state_dict']['backbone.conv1.weight'],
                           b['state_dict']['backbone.conv1.weight'])


def _check_continuation(probe, ckpt, at_iter, total, runner, work, last):
    assert probe.start['iter'] == at_iter
    assert_same(probe.start['opt']['state'], ckpt['optimizer']['state'])
    assert probe.start['opt']['state'], 'optimizer state was not restored'
    assert_same(probe.start['sched'], ckpt['param_schedulers'])
    assert len(probe.steps) == total - at_iter
    assert runner.iter == total
    end = load_checkpoint_file(str(work / last))
    assert end['meta']['iter'] == total
    assert all(s['_global_step'] == total for s in end['param_schedulers'])


def test_resume_det_demo_continues(tmp_path, demo_backbone):
    """ATSS demo (epoch based, 2 iterations per epoch): crash at the start
    of epoch 2, ``--resume``: the SGD momentum buffers and the LinearLR
    state are those of epoch_1.pth, and the run ends at iteration 4."""
    extra = ['train_cfg.max_epochs=2', 'train_cfg.val_interval=10',
             'default_hooks.checkpoint.interval=1']
    work = tmp_path / 'work'
    with pytest.raises(SimulatedCrash):
        train(det_argv(work, demo_backbone, extra), hooks=[CrashAt(2)],
              mutate=small_det_images)
    ckpt = load_checkpoint_file(str(work / 'epoch_1.pth'))
    assert ckpt['meta']['iter'] == 2
    probe = Probe()
    argv = det_argv(work, demo_backbone, extra)
    runner = train(argv[:1] + ['--resume'] + argv[1:], hooks=[probe],
                   mutate=small_det_images)
    assert all('momentum_buffer' in s
               for s in ckpt['optimizer']['state'].values())
    _check_continuation(probe, ckpt, 2, 4, runner, work, 'epoch_2.pth')


def test_resume_seg_demo_continues(tmp_path, demo_backbone):
    """UperNet demo (iteration based): CheckpointHook every 2 iterations,
    crash before the third iteration (iter_2.pth saved), ``--resume``:
    AdamW moments and PolyLR state of iter_2.pth, end at 3."""
    extra = ['train_cfg.max_iters=3', 'train_cfg.val_interval=100',
             'default_hooks.checkpoint.interval=2']
    work = tmp_path / 'work'
    with pytest.raises(SimulatedCrash):
        train(seg_argv(work, demo_backbone, extra), hooks=[CrashAt(2)])
    ckpt = load_checkpoint_file(str(work / 'iter_2.pth'))
    assert ckpt['meta']['iter'] == 2
    assert all('exp_avg' in s for s in ckpt['optimizer']['state'].values())
    probe = Probe()
    argv = seg_argv(work, demo_backbone, extra)
    runner = train(argv[:1] + ['--resume'] + argv[1:], hooks=[probe])
    _check_continuation(probe, ckpt, 2, 3, runner, work, 'iter_3.pth')


# ----------------------------------------------------------- bad inputs
class NoStep(Hook):
    """Fails the test if a training step starts."""

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        raise AssertionError('a training step started')


def test_missing_fashion_mnist_root(tmp_path, fmnist_small):
    missing = str(tmp_path / 'no_such_dir')
    argv = fmnist_argv(tmp_path / 'w', fmnist_small,
                       extra=[f'train_dataloader.dataset.data_root={missing}'])
    with pytest.raises(FileNotFoundError,
                       match='train_dataloader.dataset .FashionMNIST.: '
                       'data_root does not exist: .*no_such_dir'):
        train(argv, hooks=[NoStep()])


def test_missing_coco_ann_file(tmp_path, demo_backbone):
    argv = det_argv(tmp_path, demo_backbone,
                    ['train_dataloader.dataset.ann_file=annotations/nope.json'])
    with pytest.raises(FileNotFoundError,
                       match='ann_file does not exist: .*annotations/nope'):
        train(argv, hooks=[NoStep()])


def test_empty_ade_image_dir(tmp_path, demo_backbone):
    """mmseg alone fails with numpy's 'need at least one array to
    concatenate'; the preflight names the directory."""
    root = tmp_path / 'ade'
    shutil.copytree(ADE, root)
    for f in (root / 'images' / 'training').iterdir():
        f.unlink()
    argv = seg_argv(tmp_path / 'w', demo_backbone,
                    [f'train_dataloader.dataset.data_root={root}'])
    with pytest.raises(ValueError, match='data_prefix.img_path directory is '
                       'empty: .*images/training'):
        train(argv, hooks=[NoStep()])


def test_missing_ade_image_dir(tmp_path, demo_backbone):
    """The image directory itself is absent (not only empty)."""
    root = tmp_path / 'ade'
    shutil.copytree(ADE, root)
    shutil.rmtree(root / 'images' / 'training')
    argv = seg_argv(tmp_path / 'w', demo_backbone,
                    [f'train_dataloader.dataset.data_root={root}'])
    with pytest.raises(FileNotFoundError, match='data_prefix.img_path '
                       'directory does not exist: .*images/training'):
        train(argv, hooks=[NoStep()])


class _ListDataset:
    """A built dataset as the preflight sees it: ``len`` and
    ``get_data_info``; counts the entries read."""

    def __init__(self, paths):
        self.paths, self.read = paths, []

    def __len__(self):
        return len(self.paths)

    def get_data_info(self, i):
        self.read.append(i)
        return {'img_path': self.paths[i]}


def test_preflight_checks_at_most_the_cap_evenly_spread(tmp_path, monkeypatch):
    """More samples than MAX_CHECKED_FILES (made 5 here): exactly 5 entries
    are read, first and last included, evenly spread; a missing file at a
    checked index is named, one between checked indices is not (the
    documented limit of a capped check)."""
    import importlib
    from types import SimpleNamespace

    # the module (mmrm.apis exports a function of the same name)
    preflight = importlib.import_module('mmrm.apis.preflight')
    monkeypatch.setattr(preflight, 'MAX_CHECKED_FILES', 5)
    paths = []
    for i in range(41):
        paths.append(str(tmp_path / f'{i}.png'))
        open(paths[-1], 'w').close()
    dataset = _ListDataset(paths)
    preflight.check_train_dataset(SimpleNamespace(dataset=dataset))
    assert dataset.read == [0, 10, 20, 30, 40]
    os.remove(paths[40])
    os.remove(paths[15])
    with pytest.raises(FileNotFoundError, match=r'names 1 file\(s\) .*40\.png'):
        preflight.check_train_dataset(SimpleNamespace(dataset=_ListDataset(paths)))


def test_coco_file_names_not_on_disk(tmp_path, demo_backbone):
    """Annotations naming images that are not there: mmdet builds the
    dataset and fails only when a step loads the image; the preflight
    checks the files before training."""
    root = tmp_path / 'coco'
    shutil.copytree(COCO, root)
    ann = root / 'annotations' / 'instances_train2017.json'
    data = json.loads(ann.read_text())
    data['images'][0]['file_name'] = 'renamed_' + data['images'][0][
        'file_name']
    ann.write_text(json.dumps(data))
    argv = det_argv(tmp_path / 'w', demo_backbone,
                    [f'train_dataloader.dataset.data_root={root}/'])
    with pytest.raises(FileNotFoundError,
                       match=r'names 1 file\(s\) that do not exist .*renamed_'):
        train(argv, hooks=[NoStep()])


@pytest.fixture(scope='module')
def baseline_ckpt(tmp_path_factory, fmnist_small):
    """A real mmengine checkpoint of the baseline (1 iteration)."""
    work = tmp_path_factory.mktemp('baseline_ckpt')
    train(fmnist_argv(work, fmnist_small, n_train=16, epochs=1))
    return str(work / 'epoch_1.pth')


def _truncated(src, dst):
    data = open(src, 'rb').read()
    with open(dst, 'wb') as f:
        f.write(data[:len(data) // 2])
    return str(dst)


@pytest.mark.parametrize('how', ['resume', 'load_from'])
def test_truncated_checkpoint_for_resume_or_load_from(
        how, tmp_path, fmnist_small, baseline_ckpt):
    bad = _truncated(baseline_ckpt, tmp_path / 'epoch_1.pth')
    argv = fmnist_argv(tmp_path / 'w', fmnist_small, n_train=16, epochs=2)
    if how == 'resume':
        argv = argv[:1] + ['--resume', bad] + argv[1:]
    else:
        argv = argv + [f'load_from={bad}']
    with pytest.raises(NotACheckpointError,
                       match=r'epoch_1\.pth is not a PyTorch checkpoint'):
        train(argv, hooks=[NoStep()])


def test_truncated_checkpoint_for_converter_and_strict_init(
        tmp_path, demo_backbone):
    bad = _truncated(demo_backbone, tmp_path / 'backbone.pth')
    with pytest.raises(NotACheckpointError, match='not a PyTorch checkpoint'):
        convert_checkpoint(bad, str(tmp_path / 'out.pth'), backbone=Config.
                           fromfile(RM).model.backbone.to_dict())
    assert not osp.exists(tmp_path / 'out.pth')
    # a truncated converted checkpoint given to a det config
    with pytest.raises(NotACheckpointError, match=r'backbone\.pth'):
        train(det_argv(tmp_path / 'w', bad), hooks=[NoStep()],
              mutate=small_det_images)


def test_checkpoint_of_another_architecture_is_refused(
        tmp_path, fmnist_small, baseline_ckpt):
    """The baseline's checkpoint into the RM classifier: mmengine would load
    the backbone and warn about head.fc_roi; tools/train.py refuses unless
    --allow-partial-load."""
    argv = fmnist_argv(tmp_path / 'w', fmnist_small, n_train=16, epochs=1,
                       cfg=RM, extra=[f'load_from={baseline_ckpt}'])
    with pytest.raises(StrictLoadError) as err:
        train(argv, hooks=[NoStep()])
    msg = str(err.value)
    assert 'missing keys' in msg and 'head.fc_roi.weight' in msg
    assert 'epoch_1.pth' in msg and '--allow-partial-load' in msg
    # explicitly accepted: trains (one iteration), backbone from the file
    runner = train(argv[:1] + ['--allow-partial-load'] + argv[1:])
    assert runner.iter == 1
    # tools/test.py refuses it as well (mmengine would evaluate a model
    # whose RoI classifier is random)
    test_tool = load_tool('tools/test.py')
    with pytest.raises(StrictLoadError, match='head.fc_roi.weight'):
        test_tool.main([RM, baseline_ckpt, '--work-dir', str(tmp_path / 't'),
                        '--cfg-options', *argv[argv.index('--cfg-options')
                                               + 1:]])
    # a shape mismatch (another width) is refused too
    argv = fmnist_argv(tmp_path / 'w2', fmnist_small, n_train=16, epochs=1,
                       extra=[f'load_from={baseline_ckpt}',
                              'model.backbone.base_channels=8',
                              'model.head.in_channels=64'])
    with pytest.raises(StrictLoadError, match='shape mismatches'):
        train(argv, hooks=[NoStep()])


def test_converted_backbone_file_as_load_from_names_the_init_cfg_line(
        tmp_path, demo_backbone):
    """The converter's output given as load_from (tools/train.py) or as the
    checkpoint of tools/test.py: the first line says it is a backbone file
    and shows the init_cfg line; --allow-partial-load, which would load none
    of it and train from scratch, is refused as well."""
    line = ("init_cfg=dict(type='StrictPretrained', checkpoint="
            f"'{demo_backbone}')")
    argv = det_argv(tmp_path / 'w', demo_backbone,
                    extra=[f'load_from={demo_backbone}'])
    with pytest.raises(StrictLoadError) as err:
        train(argv, hooks=[NoStep()], mutate=small_det_images)
    first = str(err.value).splitlines()[0]
    assert f'{demo_backbone} is a backbone file' in first and line in first
    assert '--allow-partial-load' not in str(err.value)
    with pytest.raises(NothingToLoadError, match=(
            r'--allow-partial-load: no key of .* matches ATSS.*nothing '
            r'would load.*is a backbone file')) as err:
        train(argv[:1] + ['--allow-partial-load'] + argv[1:],
              hooks=[NoStep()], mutate=small_det_images)
    assert line in str(err.value)
    test_tool = load_tool('tools/test.py')
    options = argv[argv.index('--cfg-options') + 1:-1]
    for extra in ([], ['--allow-partial-load']):
        with pytest.raises((StrictLoadError, NothingToLoadError)) as err:
            test_tool.main([DET, demo_backbone, '--work-dir',
                            str(tmp_path / 't'), *extra, '--cfg-options',
                            *options])
        assert 'is a backbone file' in str(err.value) and line in str(
            err.value)


@pytest.mark.parametrize('cfg', ['det', 'seg'])
def test_missing_converted_checkpoint_stops_before_training(cfg, tmp_path):
    missing = str(tmp_path / 'not_converted.pth')
    argv = (det_argv if cfg == 'det' else seg_argv)(tmp_path / 'w', missing)
    with pytest.raises(FileNotFoundError,
                       match='StrictPretrained: checkpoint file not found: '
                       '.*not_converted.pth'):
        train(argv, hooks=[NoStep()],
              mutate=small_det_images if cfg == 'det' else None)
    assert not [f for f in os.listdir(tmp_path / 'w') if f.endswith('.pth')]


def test_rm_batch_size_one_and_odd_image_size(tmp_path, fmnist_small):
    """Batch 1 per GPU and 37x53 (HxW) images through the RM classifier:
    two iterations, the second one mixes (history of batch 1)."""
    def odd_size(cfg):
        for t in cfg.train_dataloader.dataset.pipeline:
            if t['type'] == 'Resize':
                t['scale'] = (53, 37)  # (w, h)

    class Shapes(Hook):
        shapes = []

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            Shapes.shapes.append(tuple(data_batch['inputs'][0].shape))

    class Lams(Hook):
        """rm_lam of each training batch, as the preprocessor wrote it."""
        lams = []

        def before_train(self, runner):
            runner.model.data_preprocessor.register_forward_hook(
                lambda module, args, out: Lams.lams.append(
                    out['data_samples'][0].get('rm_lam'))
                if len(args) > 1 and args[1] else None)

    probe = Probe()
    runner = train(fmnist_argv(tmp_path, fmnist_small, n_train=2, batch=1,
                               epochs=1, cfg=RM),
                   hooks=[probe, Shapes(), Lams()], mutate=odd_size)
    assert runner.iter == 2 and len(probe.steps) == 2
    assert Shapes.shapes == [(1, 37, 53)] * 2
    for step in probe.steps:
        assert all(torch.isfinite(torch.tensor(v)) for v in step.values())
    assert probe.steps[0]['loss_rm'] == 0.0  # nothing pasted yet
    # the second step mixes: the first image is pasted, loss_rm > 0
    assert Lams.lams[0] == 0.0 and Lams.lams[1] > 0
    assert probe.steps[1]['loss_rm'] > 0


def test_training_set_empty_after_class_filtering(tmp_path, demo_backbone):
    """Class names that match no annotation: mmdet filters every image out
    (filter_empty_gt) and would build an empty dataloader."""
    argv = det_argv(tmp_path, demo_backbone,
                    ["train_dataloader.dataset.metainfo.classes=['zebra']"])
    with pytest.raises(ValueError, match=r'the training set \(CocoDataset\) '
                       'is empty: no sample was loaded'):
        train(argv, hooks=[NoStep()])
