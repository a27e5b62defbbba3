"""tools/model_converters/publish_model.py: an RM pretraining checkpoint of
the Fashion-MNIST demo (trained a few iterations here) becomes the plain
classifier's weights, which torch loads weights-only, mmpretrain's stock
(baseline) config loads strictly, and mmpretrain's inferencer runs with the
RM model's own predictions."""
import glob
import hashlib
import os.path as osp
import struct

import numpy as np
import pytest
import torch

from helpers import load_tool, safe_globals_restored

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
RM = osp.join(ROOT, 'configs/pretrain/fashion_mnist/'
              'resnet18-w16_1xb128-3e-rm_fmnist-64px.py')
BASELINE = osp.join(ROOT, 'configs/pretrain/fashion_mnist/'
                    'resnet18-w16_1xb128-3e_fmnist-64px.py')
publish_tool = load_tool('tools/model_converters/publish_model.py')


@pytest.fixture(autouse=True, scope='module')
def restore_safe_globals():
    yield from safe_globals_restored()


@pytest.fixture(scope='module')
def rm_checkpoint(tmp_path_factory, fmnist_small):
    """epoch_1.pth of the RM demo after 4 iterations on real images."""
    from mmrm import apis
    work = tmp_path_factory.mktemp('rm_run')
    cfg = apis.build_cfg(RM, work_dir=str(work), cfg_options={
        'train_dataloader.dataset.data_root': fmnist_small,
        'val_dataloader.dataset.data_root': fmnist_small,
        'train_dataloader.dataset.indices': 64,
        'train_dataloader.batch_size': 16,
        'train_dataloader.num_workers': 0, 'val_dataloader.num_workers': 0,
        'train_cfg.max_epochs': 1, 'train_cfg.val_interval': 10,
        'param_scheduler': [], 'log_level': 'WARNING'})
    apis.train(cfg)
    return str(work / 'epoch_1.pth')


def fmnist_test_images(root, count):
    """The first ``count`` Fashion-MNIST test images (28x28 uint8)."""
    with open(osp.join(root, 't10k-images-idx3-ubyte'), 'rb') as f:
        _, n, h, w = struct.unpack('>IIII', f.read(16))
        data = np.frombuffer(f.read(count * h * w), dtype=np.uint8)
    return list(data.reshape(count, h, w))


def weights_only_load(path):
    """torch.load(weights_only=True) with torch's own allow-list only
    (torch < 2.4: its fixed list is the only one)."""
    if not hasattr(torch.serialization, 'get_safe_globals'):
        return torch.load(path, map_location='cpu', weights_only=True)
    saved = torch.serialization.get_safe_globals()
    torch.serialization.clear_safe_globals()
    try:
        return torch.load(path, map_location='cpu', weights_only=True)
    finally:
        torch.serialization.add_safe_globals(saved)


def test_published_rm_checkpoint_is_the_stock_classifier_with_the_rm_predictions(
        rm_checkpoint, fmnist_small, tmp_path, capsys):
    from mmpretrain.apis import ImageClassificationInferencer
    from mmpretrain.registry import MODELS
    from mmengine.config import Config
    out = str(tmp_path / 'fmnist_rm.pth')
    assert publish_tool.main([rm_checkpoint, out, '--config', BASELINE]) == 0
    (published, ) = glob.glob(str(tmp_path / 'fmnist_rm-*.pth'))
    with open(published, 'rb') as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    assert published == str(tmp_path / f'fmnist_rm-{sha[:8]}.pth')
    assert 'dropped head.fc_roi.bias, head.fc_roi.weight' in \
        capsys.readouterr().out

    # the training checkpoint needs mmengine's types allow-listed; the
    # published one loads with torch's defaults
    with pytest.raises(Exception, match='Weights only load failed'):
        weights_only_load(rm_checkpoint)
    ckpt = weights_only_load(published)
    assert set(ckpt) == {'state_dict', 'meta'}
    assert not [k for k in ckpt['state_dict'] if 'fc_roi' in k]
    assert len(ckpt['meta']['dataset_meta']['classes']) == 10
    trained = torch.load(rm_checkpoint, map_location='cpu',
                         weights_only=False)['state_dict']
    for key, value in ckpt['state_dict'].items():
        assert torch.equal(value, trained[key]), key

    # strictly into the stock classifier of the baseline config
    model = MODELS.build(Config.fromfile(BASELINE).model)
    model.load_state_dict(ckpt['state_dict'], strict=True)
    assert type(model.head).__name__ == 'LinearClsHead'

    images = fmnist_test_images(fmnist_small, 32)
    stock = ImageClassificationInferencer(model=BASELINE,
                                          pretrained=published, device='cpu')
    rm = ImageClassificationInferencer(model=RM, pretrained=rm_checkpoint,
                                       device='cpu')
    assert type(rm.model.head).__name__ == 'RecursiveMixHead'
    got, want = stock(images, batch_size=8), rm(images, batch_size=8)
    assert [r['pred_label'] for r in got] == [r['pred_label'] for r in want]
    assert [r['pred_class'] for r in got] == [r['pred_class'] for r in want]
    scores = np.stack([r['pred_scores'] for r in got])
    np.testing.assert_allclose(
        scores, np.stack([r['pred_scores'] for r in want]), atol=1e-6)
    assert np.ptp(scores, axis=0).max() > 1e-3  # not one constant answer


def test_wrong_stock_config_is_refused_and_nothing_written(rm_checkpoint,
                                                           tmp_path, capsys):
    wider = tmp_path / 'wider.py'
    wider.write_text(f'_base_ = {BASELINE!r}\n'
                     'model = dict(backbone=dict(base_channels=32), '
                     'head=dict(in_channels=256))\n')
    out = str(tmp_path / 'x.pth')
    assert publish_tool.main([rm_checkpoint, out, '--config',
                              str(wider)]) == 1
    assert 'shape mismatches' in capsys.readouterr().err
    assert not glob.glob(str(tmp_path / 'x*.pth'))


def test_ema_weights_are_published_unless_no_ema():
    state = {'backbone.w': torch.zeros(2), 'head.fc.weight': torch.zeros(2),
             'head.fc_roi.weight': torch.zeros(2)}
    ema = {'steps': torch.tensor(3), 'module.backbone.w': torch.ones(2),
           'module.head.fc.weight': torch.ones(2),
           'module.head.fc_roi.weight': torch.ones(2)}
    ckpt = {'state_dict': state, 'ema_state_dict': ema}
    got, dropped, used = publish_tool.published_state(ckpt)
    assert used and dropped == ['head.fc_roi.weight']
    assert set(got) == {'backbone.w', 'head.fc.weight'}
    assert all(torch.equal(v, torch.ones(2)) for v in got.values())
    got, _, used = publish_tool.published_state(ckpt, use_ema=False)
    assert not used and all(torch.equal(v, torch.zeros(2))
                            for v in got.values())
