"""RM under mixed precision (mmengine's AmpOptimWrapper on the CPU) and
over many iterations.

Every step here is ``model.train_step(data, optim_wrapper)``, mmengine's own
training step: the data preprocessor and the model run inside
``optim_wrapper.optim_context(model)``, which is autocast for
``AmpOptimWrapper``. On the CPU the wrapper gets torch's CPU GradScaler
(``helpers.amp_optim_wrapper``); CUDA autocast kernels are not exercised here.
"""
import copy
import gc
import math
import os
from types import SimpleNamespace

import pytest
import torch
from mmengine.optim import OptimWrapper
from mmpretrain.registry import HOOKS, MODELS

from helpers import amp_optim_wrapper, cls_batch, needs_cpu_fp16_autocast


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


def sgd(model, lr=0.01):
    return OptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=lr))


def losses_of(log_vars):
    return {k: float(v.detach()) for k, v in log_vars.items()}


@pytest.mark.parametrize('dtype,tol_cls,tol_rm,tol_logits', [
    ('bfloat16', 0.01, 0.1, 0.1),
    pytest.param('float16', 0.002, 0.01, 0.02,
                 marks=needs_cpu_fp16_autocast)])
def test_amp_train_step_losses_match_float32_and_history_keeps_precision(
        dtype, tol_cls, tol_rm, tol_logits, monkeypatch):
    """The same classifier, batches and boxes through mmengine's train_step
    with OptimWrapper (float32) and AmpOptimWrapper (autocast), 6 steps, the
    AMP model given the float32 model's weights before each step (so that
    each step compares one forward, not two diverging trajectories):
    losses agree within the autocast dtype's precision (measured: bf16
    loss_cls 0.5 %, loss_rm 4 %; fp16 0.1 %, 0.2 %); the history images
    and labels are bitwise those of the float32 run (mixing is not an
    autocast op); the history logits are float32 and close."""
    torch.manual_seed(0)
    ref = tiny_rm_classifier()
    amp = copy.deepcopy(ref)
    ref_optim, amp_optim = sgd(ref), amp_optim_wrapper(amp.parameters(), dtype, monkeypatch)
    rm_seen = 0
    for it in range(6):
        amp.load_state_dict(ref.state_dict())
        a = losses_of(ref.train_step(cls_batch([it % 5, 1, 2, 3], 64, 48, seed=it), ref_optim))
        b = losses_of(amp.train_step(cls_batch([it % 5, 1, 2, 3], 64, 48, seed=it), amp_optim))
        assert b['loss_cls'] == pytest.approx(a['loss_cls'], rel=tol_cls)
        assert b['loss_rm'] == pytest.approx(a['loss_rm'], rel=tol_rm, abs=1e-4)
        rm_seen += a['loss_rm'] > 1e-3
        ref_rm, amp_rm = ref.data_preprocessor.recursive_mix, amp.data_preprocessor.recursive_mix
        assert amp_rm.history_inputs.dtype == torch.float32
        assert torch.equal(amp_rm.history_inputs, ref_rm.history_inputs)
        assert amp_rm.history_scores.dtype == torch.float32
        assert torch.equal(amp_rm.history_scores, ref_rm.history_scores)
        assert amp.head.history_logits.dtype == torch.float32
        assert torch.allclose(amp.head.history_logits, ref.head.history_logits,
                              rtol=0, atol=tol_logits)
    assert rm_seen >= 3  # the consistency loss was compared, not only zeros


def overflow_pre_hook(row, factor=1e6):
    """A forward pre-hook that multiplies one sample's input by ``factor``:
    1e6 in fp16 makes its output overflow to inf (above 65504), and so do
    the gradients of the layer's weight, as in a real overflow. bf16 has
    float32's range, so there ``factor=inf`` stands in for the overflow."""
    def hook(module, args):
        x = args[0].clone()
        x[row] = x[row] * factor
        return (x, )
    return hook


@pytest.mark.parametrize('dtype,factor', [
    pytest.param('float16', 1e6, marks=needs_cpu_fp16_autocast),
    ('bfloat16', float('inf'))])
def test_amp_overflow_step_is_skipped_and_does_not_poison_the_history(
        monkeypatch, dtype, factor):
    """AMP (fp16; bf16 where torch has no CPU fp16 autocast). Step 3
    overflows in the main classifier for sample 0 (faked with a forward hook): its loss is not finite, the GradScaler skips the
    step (weights unchanged, scale halved), and sample 0's history logits
    are not finite. The next steps use the other history rows only: their
    losses are finite, the hook does not stop the run and the weights move
    again. Step 6 overflows in the RoI classifier (loss_rm itself not
    finite): under AMP the hook logs it, the GradScaler skips the step and
    training goes on."""
    torch.manual_seed(0)
    model = tiny_rm_classifier()
    optim = amp_optim_wrapper(model.parameters(), dtype, monkeypatch)
    hook = HOOKS.build(dict(type='RecursiveMixHistoryHook'))
    runner = SimpleNamespace(iter=0, epoch=0, optim_wrapper=optim)

    def step(seed):
        log = model.train_step(cls_batch([0, 1, 2], 64, 64, seed=seed), optim)
        hook.after_train_iter(runner, runner.iter, outputs=log)
        runner.iter += 1
        return losses_of(log)

    def weights():
        return [p.detach().clone() for p in model.parameters()]

    for seed in range(2):
        assert all(map(math.isfinite, step(seed).values()))
    before, scale = weights(), optim.loss_scaler.get_scale()
    handle = model.head.fc.register_forward_pre_hook(overflow_pre_hook(0, factor))
    log = step(2)
    handle.remove()
    assert not math.isfinite(log['loss_cls'])
    assert optim.loss_scaler.get_scale() == scale / 2
    assert all(torch.equal(a, b) for a, b in zip(before, weights()))
    hist = model.head.history_logits
    assert not torch.isfinite(hist[0]).all() and torch.isfinite(hist[1:]).all()
    rm = model.data_preprocessor.recursive_mix
    assert torch.isfinite(rm.history_inputs).all() and torch.isfinite(rm.history_scores).all()

    log = step(3)  # uses the history of the overflowed step
    assert all(map(math.isfinite, log.values())) and log['loss_rm'] > 0
    assert not all(torch.equal(a, b) for a, b in zip(before, weights()))
    assert torch.isfinite(model.head.history_logits).all()

    step(4)
    before, scale = weights(), optim.loss_scaler.get_scale()
    handle = model.head.fc_roi.register_forward_pre_hook(overflow_pre_hook(1, factor))
    log = step(5)  # AMP: logged, not raised
    handle.remove()
    assert not math.isfinite(log['loss_rm'])
    assert optim.loss_scaler.get_scale() == scale / 2
    assert all(torch.equal(a, b) for a, b in zip(before, weights()))
    assert all(map(math.isfinite, step(6).values()))


def live_tensors():
    return sum(1 for o in gc.get_objects() if isinstance(o, torch.Tensor))


def rss_bytes():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


def test_soak_600_iterations_memory_flat_and_history_holds_no_graph():
    """Preprocessor + head + a one-layer conv 'backbone', 600 steps: after
    200 warm-up steps, 400 more leave the number of live tensors (a tensor
    kept per step would add 400) and the resident memory flat."""
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
    run(400, 200)
    gc.collect()
    assert live_tensors() - tensors0 <= 5
    assert rss_bytes() - rss0 < 64 * 1024 * 1024
    assert head.history_logits.grad_fn is None and not head.history_logits.requires_grad
    rm = pre.recursive_mix
    assert rm.history_inputs.grad_fn is None and rm.history_scores.grad_fn is None


def test_batch_of_one_second_step_mixes_on_odd_image_size():
    """Batch 1 per GPU, 37x53 (HxW) images: the second step pastes the first
    image (lam > 0) and has a consistency loss (> 0), as docs/checks.md
    promises."""
    torch.manual_seed(0)
    model = tiny_rm_classifier()
    optim = sgd(model)
    seen = []
    model.data_preprocessor.register_forward_hook(
        lambda module, args, out: seen.append(out['data_samples'][0]))
    first = losses_of(model.train_step(cls_batch([0], 37, 53, seed=0), optim))
    second = losses_of(model.train_step(cls_batch([1], 37, 53, seed=1), optim))
    assert first['loss_rm'] == 0.0 and not seen[0].rm_valid
    assert seen[1].rm_valid and seen[1].rm_lam > 0
    assert seen[1].metainfo['batch_input_shape'] == (37, 53)
    assert second['loss_rm'] > 0 and math.isfinite(second['loss_cls'])
