"""RM under mixed precision (CPU bfloat16 autocast) and over many iterations.

mmengine's ``AmpOptimWrapper`` needs a GPU; on the CPU the same code path of
the model (preprocessor + head under ``torch.autocast``) is exercised here.
"""
import gc
import os

import pytest
import torch
from mmpretrain.registry import MODELS

from helpers import cls_batch


def tiny_rm_classifier(num_classes=5):
    return MODELS.build(dict(
        type='ImageClassifier',
        data_preprocessor=dict(type='RecursiveMixDataPreprocessor', num_classes=num_classes,
                               mean=[127.5] * 3, std=[60.0] * 3, seed=0),
        backbone=dict(type='ResNet', depth=18, stem_channels=8, base_channels=8,
                      out_indices=(3, )),
        neck=None,
        head=dict(type='RecursiveMixHead', num_classes=num_classes, in_channels=64,
                  omega=0.5)))


def step(model, optim, batch, autocast=False):
    data = model.data_preprocessor(batch, training=True)
    with torch.autocast('cpu', dtype=torch.bfloat16, enabled=autocast):
        losses = model(**data, mode='loss')
    loss = sum(losses.values())
    optim.zero_grad()
    loss.backward()
    optim.step()
    return losses


def train_steps(batches, autocast=False):
    """A fresh tiny RM classifier trained on ``batches``; checks every loss is
    finite, the first step has no consistency loss and a later one has.

    Returns:
        tuple: (model, losses of the last step).
    """
    torch.manual_seed(0)
    model = tiny_rm_classifier()
    model.train()
    optim = torch.optim.SGD(model.parameters(), lr=0.01)
    rm_losses = []
    for batch in batches:
        losses = step(model, optim, batch, autocast=autocast)
        assert all(torch.isfinite(v) for v in losses.values())
        rm_losses.append(losses['loss_rm'].item())
    assert rm_losses[0] == 0.0 and max(rm_losses[1:]) > 0
    return model, losses


def test_bfloat16_autocast_losses_finite_and_history_float32():
    model, losses = train_steps(
        [cls_batch([it % 5, 1, 2], 64, 48, seed=it) for it in range(4)],
        autocast=True)
    assert losses['loss_rm'].dtype == torch.float32  # KL computed in float32
    assert model.data_preprocessor.recursive_mix.history_inputs.dtype == torch.float32


def live_tensors():
    return sum(1 for o in gc.get_objects() if isinstance(o, torch.Tensor))


def rss_bytes():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


def test_soak_2000_iterations_memory_flat_and_history_holds_no_graph():
    """Preprocessor + head + a one-layer conv 'backbone', 2000 steps."""
    torch.manual_seed(0)
    pre = MODELS.build(dict(type='RecursiveMixDataPreprocessor', num_classes=5,
                            mean=[127.5] * 3, std=[60.0] * 3, seed=0))
    head = MODELS.build(dict(type='RecursiveMixHead', num_classes=5, in_channels=4))
    conv = torch.nn.Conv2d(3, 4, 3, stride=4, padding=1)
    params = list(conv.parameters()) + list(head.parameters())
    optim = torch.optim.SGD(params, lr=0.01)
    batches = [cls_batch([i % 5, (i + 1) % 5, 3], 16, 24, seed=i) for i in range(8)]

    def run(n, offset):
        for i in range(offset, offset + n):
            b = batches[i % 8]
            data = pre({'inputs': b['inputs'], 'data_samples': [s.clone() for s in b['data_samples']]},
                       training=True)
            losses = head.loss((conv(data['inputs']),), data['data_samples'])
            optim.zero_grad()
            sum(losses.values()).backward()
            optim.step()
            assert torch.isfinite(losses['loss_rm'])

    run(200, 0)
    gc.collect()
    tensors0, rss0 = live_tensors(), rss_bytes()
    run(1800, 200)
    gc.collect()
    assert live_tensors() - tensors0 <= 5
    assert rss_bytes() - rss0 < 64 * 1024 * 1024
    assert head.history_logits.grad_fn is None and not head.history_logits.requires_grad
    rm = pre.recursive_mix
    assert rm.history_inputs.grad_fn is None and rm.history_scores.grad_fn is None


def test_overflowed_step_is_reported_and_history_of_finite_steps_stays_finite():
    """An fp16-style overflow (inf logits) must not pass silently: the head's
    loss_rm of the NEXT step becomes non-finite and the hook stops the run."""
    from types import SimpleNamespace
    from mmpretrain.registry import HOOKS
    torch.manual_seed(0)
    model = tiny_rm_classifier()
    model.train()
    hook = HOOKS.build(dict(type='RecursiveMixHistoryHook'))
    runner = SimpleNamespace(iter=0, epoch=0)
    for it in range(3):
        data = model.data_preprocessor(cls_batch([0, 1, 2], 64, 64, seed=it), training=True)
        losses = model(**data, mode='loss')
        hook.after_train_iter(runner, it, outputs=losses)
        runner.iter += 1
        assert torch.isfinite(model.head.history_logits).all()
        assert torch.isfinite(model.data_preprocessor.recursive_mix.history_inputs).all()
    model.head.history_logits[0, 0] = float('inf')  # what an overflowed fp16 step leaves
    for seed in range(3, 40):  # until a box is pasted (loss_rm uses the history)
        data = model.data_preprocessor(cls_batch([0, 1, 2], 64, 64, seed=seed), training=True)
        if data['data_samples'][0].rm_valid:
            break
        model.head.history_logits[0, 0] = float('inf')
    losses = model(**data, mode='loss')
    with pytest.raises(FloatingPointError, match=f'iteration {runner.iter + 1}'):
        hook.after_train_iter(runner, 0, outputs=losses)


def test_batch_of_one_and_odd_image_size():
    train_steps([cls_batch([it % 5], 37, 53, seed=it) for it in range(6)])
