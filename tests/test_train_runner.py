"""RM inside mmengine's Runner on real Fashion-MNIST images (tiny budget)."""
import glob
import json
import os

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from mmengine.runner import Runner

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@HOOKS.register_module(force=True)
class RecordHistoryAtEpochStartHook(Hook):
    """Test probe: was the RM history empty at the first iteration of an epoch?"""
    priority = 'LOWEST'
    seen = []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if batch_idx == 0:
            pre = runner.model.data_preprocessor
            RecordHistoryAtEpochStartHook.seen.append(
                (pre.recursive_mix.history_inputs is None,
                 runner.model.head.history_logits is None))


KEEP_HISTORY = [dict(type='RecursiveMixHistoryHook', reset_each_epoch=False)]


def tiny_cfg(tmp_path, data_root, name, **cfg_options):
    cfg = Config.fromfile(os.path.join(ROOT, 'configs/pretrain/fashion_mnist', name))
    cfg.merge_from_dict({
        'work_dir': str(tmp_path),
        'train_dataloader.dataset.indices': 48,
        'train_dataloader.dataset.data_root': data_root,
        'train_dataloader.batch_size': 16,
        'train_dataloader.num_workers': 0,
        'val_dataloader.dataset.indices': 32,
        'val_dataloader.dataset.data_root': data_root,
        'val_dataloader.num_workers': 0,
        'train_cfg.max_epochs': 2,
        'train_cfg.val_interval': 2,
        'default_hooks.logger.interval': 1,
        'param_scheduler': [],
        **cfg_options,
    })
    cfg.test_dataloader = cfg.val_dataloader
    return cfg


def scalars(work_dir):
    path = glob.glob(os.path.join(work_dir, '*', 'vis_data', 'scalars.json'))[0]
    return [json.loads(line) for line in open(path)]


def test_rm_trains_logs_both_losses_and_resets_history_each_epoch(tmp_path, fmnist_small):
    RecordHistoryAtEpochStartHook.seen = []
    cfg = tiny_cfg(tmp_path, fmnist_small, 'resnet18-w16_1xb128-3e-rm_fmnist-64px.py')
    cfg.custom_hooks = cfg.custom_hooks + [dict(type='RecordHistoryAtEpochStartHook')]
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert RecordHistoryAtEpochStartHook.seen == [(True, True), (True, True)]
    logs = scalars(tmp_path)
    train = [r for r in logs if 'loss_rm' in r]
    assert len(train) == 6  # 3 iterations x 2 epochs
    assert all(r['loss'] > 0 and torch.isfinite(torch.tensor(r['loss_rm'])) for r in train)
    assert train[0]['loss_rm'] == 0.0  # first iteration: nothing pasted yet
    assert any(r['loss_rm'] > 0 for r in train[1:3])
    val = [r for r in logs if 'accuracy/top1' in r]
    assert len(val) == 1 and 0.0 <= val[0]['accuracy/top1'] <= 100.0


def test_history_kept_across_epochs_when_reset_is_off(tmp_path, fmnist_small):
    RecordHistoryAtEpochStartHook.seen = []
    cfg = tiny_cfg(tmp_path, fmnist_small, 'resnet18-w16_1xb128-3e-rm_fmnist-64px.py',
                   custom_hooks=KEEP_HISTORY + [dict(type='RecordHistoryAtEpochStartHook')])
    Runner.from_cfg(cfg).train()
    assert RecordHistoryAtEpochStartHook.seen == [(True, True), (False, False)]


@HOOKS.register_module(force=True)
class RecordHistoryAroundValHook(Hook):
    """Test probe: the RM history (object and values) at the end of a
    training epoch, after the validation that follows, and at the start of
    the next training epoch (before RecursiveMixHistoryHook, which has the
    priority NORMAL)."""
    priority = 'VERY_HIGH'
    seen = []

    @staticmethod
    def _state(runner):
        pre = runner.model.data_preprocessor.recursive_mix
        tensors = (pre.history_inputs, pre.history_scores, runner.model.head.history_logits)
        return [(t, t.clone()) for t in tensors]

    def after_train_epoch(self, runner):
        self.seen.append(('train_end', self._state(runner)))

    def after_val_epoch(self, runner, metrics=None):
        self.seen.append(('val_end', self._state(runner)))

    def before_train_epoch(self, runner):
        if runner.epoch > 0:
            self.seen.append(('train_start', self._state(runner)))


def test_validation_between_epochs_keeps_the_history(tmp_path, fmnist_small):
    """reset_each_epoch=False and validation after every epoch (batch 7, not
    the training batch 16): the history of the last training step survives
    the validation unchanged, object and values, into the next epoch."""
    RecordHistoryAroundValHook.seen = []
    cfg = tiny_cfg(tmp_path, fmnist_small, 'resnet18-w16_1xb128-3e-rm_fmnist-64px.py',
                   **{'train_cfg.val_interval': 1, 'val_dataloader.batch_size': 7},
                   custom_hooks=KEEP_HISTORY + [dict(type='RecordHistoryAroundValHook')])
    Runner.from_cfg(cfg).train()
    names = [name for name, _ in RecordHistoryAroundValHook.seen]
    assert names == ['train_end', 'val_end', 'train_start', 'train_end', 'val_end']
    for later in RecordHistoryAroundValHook.seen[1:3]:
        for (t0, v0), (t1, v1) in zip(RecordHistoryAroundValHook.seen[0][1], later[1]):
            assert t1 is t0 and torch.equal(v1, v0)
            assert v1.size(0) == 16


def test_rm_head_without_rm_preprocessor_is_refused(tmp_path, fmnist_small):
    cfg = tiny_cfg(tmp_path, fmnist_small, 'resnet18-w16_1xb128-3e-rm_fmnist-64px.py')
    cfg.data_preprocessor = dict(num_classes=10, mean=[72.94] * 3, std=[90.02] * 3)
    runner = Runner.from_cfg(cfg)
    with pytest.raises(ValueError, match='needs both'):
        runner.train()


def test_resume_starts_with_empty_history_as_documented(tmp_path, fmnist_small):
    """The RM history is not saved in checkpoints: after --resume the first
    iteration is plain, exactly as at an epoch start (reset_each_epoch=False
    here, so that only the resume can empty it)."""
    from mmrm.convert import allow_mmengine_checkpoints
    allow_mmengine_checkpoints()
    opts = {'custom_hooks': KEEP_HISTORY, 'train_cfg.val_interval': 10}
    cfg = tiny_cfg(tmp_path, fmnist_small, 'resnet18-w16_1xb128-3e-rm_fmnist-64px.py',
                   **opts, **{'train_cfg.max_epochs': 1})
    Runner.from_cfg(cfg).train()
    RecordHistoryAtEpochStartHook.seen = []
    cfg = tiny_cfg(tmp_path, fmnist_small, 'resnet18-w16_1xb128-3e-rm_fmnist-64px.py', **opts)
    cfg.resume = True
    cfg.custom_hooks = KEEP_HISTORY + [dict(type='RecordHistoryAtEpochStartHook')]
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.epoch == 2 and runner.iter == 6
    assert RecordHistoryAtEpochStartHook.seen == [(True, True)]


RM_CONFIG = os.path.join(ROOT, 'configs/pretrain/fashion_mnist/'
                         'resnet18-w16_1xb128-3e-rm_fmnist-64px.py')


def _child(tmp_path, name, custom_hooks):
    """A child config of the RM demo that sets its own ``custom_hooks``."""
    path = tmp_path / f'{name}.py'
    path.write_text(f'_base_ = {RM_CONFIG!r}\ncustom_hooks = {custom_hooks}\n')
    return str(path)


def test_child_config_that_replaces_custom_hooks_cannot_train_rm_without_the_hook(
        tmp_path, fmnist_small):
    """`custom_hooks = [EMAHook]` in a child config replaces the base's list
    and so drops RecursiveMixHistoryHook: the first training step stops with
    the fix, no step is taken. With the fix (the base's hooks kept) the
    history is cleared at each epoch start and the class-count check is
    back."""
    from mmrm import apis
    RecordHistoryAtEpochStartHook.seen = []
    ema_only = _child(tmp_path, 'ema_only', "[dict(type='EMAHook')]")
    cfg = tiny_cfg(tmp_path / 'w1', fmnist_small, ema_only)
    with pytest.raises(RuntimeError, match=(
            r"without RecursiveMixHistoryHook.*custom_hooks = "
            r"_base_\.custom_hooks \+ \[dict\(\.\.\.\)\]")):
        apis.train(cfg)
    assert not glob.glob(str(tmp_path / 'w1' / '*.pth'))

    fixed = _child(tmp_path, 'fixed', "_base_.custom_hooks + [dict(type="
                   "'EMAHook'), dict(type='RecordHistoryAtEpochStartHook')]")
    runner = apis.train(tiny_cfg(tmp_path / 'w2', fmnist_small, fixed))
    assert runner.iter == 6
    assert RecordHistoryAtEpochStartHook.seen == [(True, True), (True, True)]
    wrong = tiny_cfg(tmp_path / 'w3', fmnist_small, fixed,
                     **{'model.head.num_classes': 12,
                        'data_preprocessor.num_classes': 12})
    with pytest.raises(ValueError, match='num_classes=12 but the training '
                       'dataset FashionMNIST has 10 classes'):
        apis.train(wrong)
