"""RecursiveMixHistoryHook on a bare model (the Runner path is in test_train_runner)."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MessageHub
from mmpretrain.registry import HOOKS, MODELS

from helpers import amp_optim_wrapper, cls_batch


def rm_model(head='RecursiveMixHead', pre='RecursiveMixDataPreprocessor'):
    head_cfg = dict(type=head, num_classes=3, in_channels=16)
    if head == 'LinearClsHead':
        neck = dict(type='GlobalAveragePooling')
    else:
        neck = None
    pre_cfg = dict(type=pre, num_classes=3, mean=[0.0] * 3, std=[1.0] * 3)
    return MODELS.build(dict(
        type='ImageClassifier', data_preprocessor=pre_cfg,
        backbone=dict(type='ResNet', depth=18, stem_channels=4, base_channels=2, out_indices=(3, )),
        neck=neck, head=head_cfg))


def fake_runner(model, it=0, epoch=0, dataset=None):
    return SimpleNamespace(model=model, iter=it, epoch=epoch,
                           message_hub=MessageHub.get_instance('test_hook'),
                           train_dataloader=SimpleNamespace(dataset=dataset))


def test_epoch_start_resets_both_histories():
    model = rm_model()
    data = model.data_preprocessor(cls_batch([0, 1], 32, 32), training=True)
    model(**data, mode='loss')
    assert model.head.history_logits is not None
    HOOKS.build(dict(type='RecursiveMixHistoryHook')).before_train_epoch(fake_runner(model))
    assert model.head.history_logits is None
    assert model.data_preprocessor.recursive_mix.history_inputs is None


def test_no_reset_when_switched_off():
    model = rm_model()
    data = model.data_preprocessor(cls_batch([0, 1], 32, 32), training=True)
    model(**data, mode='loss')
    HOOKS.build(dict(type='RecursiveMixHistoryHook', reset_each_epoch=False)
                ).before_train_epoch(fake_runner(model))
    assert model.head.history_logits is not None
    assert model.data_preprocessor.recursive_mix.history_inputs is not None


def test_reset_each_epoch_on_the_preprocessor_names_the_hook():
    with pytest.raises(ValueError, match=r"reset_each_epoch is an argument "
                       r"of the hook .*RecursiveMixHistoryHook"):
        MODELS.build(dict(type='RecursiveMixDataPreprocessor', num_classes=3,
                          reset_each_epoch=False))


@pytest.mark.parametrize('head,pre', [('LinearClsHead', 'RecursiveMixDataPreprocessor'),
                                      ('RecursiveMixHead', 'ClsDataPreprocessor')])
def test_half_of_rm_is_refused(head, pre):
    model = rm_model(head=head, pre=pre)
    with pytest.raises(ValueError, match='needs both'):
        HOOKS.build(dict(type='RecursiveMixHistoryHook')).before_train(fake_runner(model))


def test_matching_pair_passes_and_arms_the_preprocessor_for_this_runner():
    model = rm_model()
    runner = fake_runner(model)
    assert model.data_preprocessor._armed_for is None
    HOOKS.build(dict(type='RecursiveMixHistoryHook')).before_train(runner)
    assert model.data_preprocessor._armed_for == 'test_hook'


@pytest.mark.parametrize('bad', [float('nan'), float('inf')])
def test_non_finite_consistency_loss_stops_with_iteration_number(bad):
    hook = HOOKS.build(dict(type='RecursiveMixHistoryHook'))
    hook.after_train_iter(fake_runner(None, it=5), 0, outputs={'loss_rm': torch.tensor(0.3)})
    with pytest.raises(FloatingPointError, match='iteration 42'):
        hook.after_train_iter(fake_runner(None, it=41), 0, outputs={'loss_rm': torch.tensor(bad)})


def test_amp_tolerates_a_few_non_finite_steps_in_a_row(monkeypatch):
    """With AmpOptimWrapper a non-finite loss_rm is an overflow step that
    the GradScaler skips: up to amp_skip_limit in a row pass (a finite step
    starts the count again), one more stops the run. With the plain
    OptimWrapper the first one stops it."""
    from mmengine.optim import OptimWrapper
    hook = HOOKS.build(dict(type='RecursiveMixHistoryHook', amp_skip_limit=2))
    param = torch.nn.Parameter(torch.zeros(1))
    runner = SimpleNamespace(iter=0, epoch=0, optim_wrapper=amp_optim_wrapper(
        [param], 'float16', monkeypatch))
    nan, ok = {'loss_rm': torch.tensor(float('nan'))}, {'loss_rm': torch.tensor(0.1)}
    for outputs in (nan, nan, ok, nan, nan):
        hook.after_train_iter(runner, 0, outputs=outputs)
    with pytest.raises(FloatingPointError, match='consistency loss is nan'):
        hook.after_train_iter(runner, 0, outputs=nan)
    runner.optim_wrapper = OptimWrapper(torch.optim.SGD([param], lr=0.1))
    with pytest.raises(FloatingPointError, match='consistency loss is nan'):
        HOOKS.build(dict(type='RecursiveMixHistoryHook')).after_train_iter(
            runner, 0, outputs=nan)


def test_class_count_mismatch_is_refused():
    model = rm_model()
    hook = HOOKS.build(dict(type='RecursiveMixHistoryHook'))
    dataset = SimpleNamespace(metainfo={'classes': ('a', 'b', 'c', 'd')})
    runner = fake_runner(model, dataset=dataset)
    with pytest.raises(ValueError, match='num_classes=3 but the training dataset'):
        hook.before_train(runner)
    assert model.data_preprocessor._armed_for is None  # refused: not armed
    dataset.metainfo['classes'] = ('a', 'b', 'c')
    hook.before_train(runner)
    assert model.data_preprocessor._armed_for == 'test_hook'
    model.data_preprocessor.num_classes = 4
    with pytest.raises(ValueError, match='RecursiveMixDataPreprocessor num_classes=4'):
        hook.before_train(runner)


def _training_hub(name):
    """A message hub as a Runner's inside its training loop (mmengine's
    RuntimeInfoHook sets loop_stage='train' at before_train)."""
    hub = MessageHub.get_instance(name)
    hub.update_info('loop_stage', 'train')
    return hub


def test_training_step_in_a_runner_without_the_hook_names_the_fix():
    model = rm_model()
    batch = cls_batch([0, 1], 32, 32)
    model.data_preprocessor(batch, training=True)  # no Runner: not checked
    _training_hub('runner_without_hook')
    with pytest.raises(RuntimeError, match=r"without RecursiveMixHistoryHook.*"
                       r"custom_hooks = \[dict\(type='RecursiveMixHistoryHook'"):
        model.data_preprocessor(batch, training=True)
    model.data_preprocessor(batch, training=False)  # evaluation: not checked
    # armed by the hook of another Runner: still refused in this one
    model.data_preprocessor.arm('an_earlier_runner')
    with pytest.raises(RuntimeError, match='without RecursiveMixHistoryHook'):
        model.data_preprocessor(batch, training=True)
    hub = _training_hub('runner_with_hook')
    HOOKS.build(dict(type='RecursiveMixHistoryHook')).before_train(
        SimpleNamespace(model=model, message_hub=hub, train_dataloader=None))
    out = model.data_preprocessor(batch, training=True)
    assert out['data_samples'][0].rm_valid  # mixed with the earlier batch
