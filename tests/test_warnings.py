"""The third-party warnings mmrm filters where its own set-up triggers them
(mmrm/apis/quiet.py), matched by message: the real ones are caught,
unrelated warnings are not; and the fact behind the DDP one: RM's history
is no registered buffer, so DDP's buffer syncing never touches it."""
import os
import os.path as osp
import socket
import warnings

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from helpers import cls_batch
from mmrm.apis import build_cfg
from mmrm.apis.quiet import known_harmless_warnings_filtered

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SEG_DEMO = osp.join(ROOT, 'configs/seg/demo/'
                    'upernet_r18-w16-rm_1xb2-20i_ade20k-fixture-128x128.py')
FMNIST_RM = osp.join(ROOT, 'configs/pretrain/fashion_mnist/'
                     'resnet18-w16_1xb128-3e-rm_fmnist-64px.py')


def _messages(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        fn()
    return [f'{w.category.__name__}: {w.message}' for w in caught]


def test_only_the_known_warnings_are_filtered():

    def warn_all():
        with known_harmless_warnings_filtered():
            warnings.warn('pkg_resources is deprecated as an API. See ...',
                          UserWarning)
            warnings.warn('`broadcast_buffers` is deprecated. Use ...',
                          FutureWarning)
            warnings.warn('something else is deprecated', UserWarning)
            warnings.warn('`broadcast_buffers` is deprecated', UserWarning)

    assert _messages(warn_all) == [
        'UserWarning: something else is deprecated',
        'UserWarning: `broadcast_buffers` is deprecated']


def test_module_restricted_filters_match_only_that_module():
    """The generic torch message is filtered only when mmpretrain's MNIST
    reader triggers it (torch warns once per process, so the filter is
    checked with explicit warnings)."""
    text = 'The given NumPy array is not writable, and PyTorch ...'

    def warn_from(module):
        with known_harmless_warnings_filtered():
            warnings.warn_explicit(text, UserWarning, 'x.py', 1,
                                   module=module)

    assert _messages(lambda: warn_from('mmpretrain.datasets.mnist')) == []
    assert _messages(lambda: warn_from('my_project.data')) == [
        f'UserWarning: {text}']


def test_mmdet_num_anchors_warning_is_filtered():
    from mmdet.models.dense_heads import ATSSHead

    def build():
        with DefaultScope.overwrite_default_scope('mmdet'):
            ATSSHead(num_classes=2, in_channels=32, feat_channels=32,
                     stacked_convs=1, anchor_generator=dict(
                         type='AnchorGenerator', ratios=[1.0],
                         octave_base_scale=8, scales_per_octave=1,
                         strides=[8]))

    def build_filtered():
        with known_harmless_warnings_filtered():
            build()

    assert any('num_anchors' in m for m in _messages(build))
    assert not any('num_anchors' in m for m in _messages(build_filtered))


def test_loading_an_inheriting_config_shows_no_pkg_resources_warning():
    """`_base_ = 'mmseg::...'` makes mmengine import and reload
    pkg_resources: the warning comes without the filter, not with it."""
    raw = _messages(lambda: Config.fromfile(SEG_DEMO))
    assert any('pkg_resources is deprecated' in m for m in raw), raw
    assert not any('pkg_resources' in m
                   for m in _messages(lambda: build_cfg(SEG_DEMO)))


def test_ddp_broadcast_buffers_warning_is_the_filtered_one():
    """torch's real DDP warning (mmengine passes broadcast_buffers=False)
    is caught by the filter's pattern (1-process gloo group)."""
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel as DDP
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}',
                            rank=0, world_size=1)
    try:
        net = torch.nn.BatchNorm1d(2)

        def wrap():
            DDP(net, broadcast_buffers=False)

        def wrap_filtered():
            with known_harmless_warnings_filtered():
                DDP(net, broadcast_buffers=False)

        emitted = any('broadcast_buffers' in m for m in _messages(wrap))
        filtered = _messages(wrap_filtered)
    finally:
        dist.destroy_process_group()
    if not emitted:  # the deprecation came with torch 2.13 (quiet.py)
        pytest.skip(f'torch {torch.__version__} does not warn about '
                    'broadcast_buffers: nothing to filter')
    assert not any('broadcast_buffers' in m for m in filtered)


def test_rm_history_is_not_a_registered_buffer():
    from mmengine.optim import OptimWrapper
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(FMNIST_RM)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(
            dict(cfg.model, data_preprocessor=cfg.data_preprocessor))
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    for seed in (0, 1):
        model.train_step(cls_batch([0, 1, 2, 3], 64, 64, channels=3,
                                   seed=seed), wrapper)
    mix = model.data_preprocessor.recursive_mix
    assert model.head.history_logits is not None
    assert mix.history_inputs is not None
    names = [n for n, _ in model.named_buffers()] + list(model.state_dict())
    assert not [n for n in names if 'history' in n], names
    # the only buffers (what broadcast_buffers would sync): BN statistics
    # and the preprocessor's constant normalisation
    others = [n for n, _ in model.named_buffers() if n.rsplit('.', 1)[-1]
              not in ('running_mean', 'running_var', 'num_batches_tracked')]
    assert others == ['data_preprocessor.mean', 'data_preprocessor.std']
