"""Every pretraining config builds; RM adds only the training-only fc_roi."""
import glob
import os
import re

import pytest
import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS
from mmpretrain.utils import register_all_modules

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = sorted(
    p for sub in ('imagenet', 'fashion_mnist')
    for p in glob.glob(os.path.join(ROOT, 'configs/pretrain', sub, '*.py')))

register_all_modules(init_default_scope=True)


def load(name):
    cfg = Config.fromfile(os.path.join(ROOT, 'configs/pretrain', name))
    return cfg


def build_model(cfg):
    if cfg.get('custom_imports'):
        from mmengine.utils import import_modules_from_strings
        import_modules_from_strings(**cfg.custom_imports)
    model_cfg = cfg.model.copy()
    model_cfg.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    return MODELS.build(model_cfg)


def n_params(model, skip=()):
    return sum(p.numel() for n, p in model.named_parameters()
               if not any(n.startswith(s) for s in skip))


def test_there_are_four_variants_per_imagenet_backbone():
    names = {os.path.basename(p) for p in CONFIGS}
    for arch in ('resnet50', 'pvtv2-b1'):
        for var in ('', '-mixup', '-cutmix', '-rm'):
            assert f'{arch}_8xb64-300e{var}_in1k.py' in names


@pytest.mark.parametrize('path', CONFIGS, ids=os.path.basename)
def test_config_builds_its_model(path):
    cfg = Config.fromfile(path)
    model = build_model(cfg)
    is_rm = '-rm' in os.path.basename(path)
    assert (type(model.head).__name__ == 'RecursiveMixHead') == is_rm
    assert (type(model.data_preprocessor).__name__ ==
            'RecursiveMixDataPreprocessor') == is_rm
    if is_rm:
        assert model.neck is None
        assert [h['type'] for h in cfg.custom_hooks] == ['RecursiveMixHistoryHook']
    if '_in1k' in path:  # {arch}_{GPUs}xb{batch}-300e...
        assert cfg.train_cfg.max_epochs == 300
        per_gpu = int(re.search(r'_\d+xb(\d+)-', path).group(1))
        assert cfg.train_dataloader.batch_size == per_gpu
        assert cfg.optim_wrapper.type == 'AmpOptimWrapper'


def test_imagenet_rm_recipe_values():
    cfg = load('imagenet/resnet50_8xb64-300e-rm_in1k.py')
    assert cfg.data_preprocessor.alpha == 0.5 and cfg.model.head.omega == 0.5
    assert cfg.optim_wrapper.optimizer.lr == 0.2
    assert cfg.optim_wrapper.optimizer.weight_decay == 1e-4
    assert cfg.auto_scale_lr.base_batch_size == 512
    types = [t['type'] for t in cfg.train_pipeline]
    assert types == ['LoadImageFromFile', 'RandomResizedCrop', 'RandomFlip',
                     'ColorJitter', 'Lighting', 'PackInputs']
    base = load('imagenet/resnet50_8xb64-300e_in1k.py')
    assert base.train_pipeline == cfg.train_pipeline
    assert base.optim_wrapper == cfg.optim_wrapper
    assert 'augments' not in cfg.model.get('train_cfg', {})
    assert load('imagenet/resnet50_8xb64-300e-cutmix_in1k.py').model.train_cfg.augments == dict(type='CutMix', alpha=1.0)
    assert load('imagenet/resnet50_8xb64-300e-mixup_in1k.py').model.train_cfg.augments == dict(type='Mixup', alpha=1.0)


def test_resnet50_parameter_counts_train_and_deploy():
    """Paper Table 10: 27.61M to train with RM, 25.56M deployed."""
    rm = build_model(load('imagenet/resnet50_8xb64-300e-rm_in1k.py'))
    plain = build_model(load('imagenet/resnet50_8xb64-300e_in1k.py'))
    assert round(n_params(rm) / 1e6, 2) == 27.61
    assert round(n_params(rm, skip=('head.fc_roi',)) / 1e6, 2) == 25.56
    assert n_params(rm, skip=('head.fc_roi',)) == n_params(plain)
    # the deployed RM weights ARE a plain classifier: strict load, same outputs
    state = {k: v for k, v in rm.state_dict().items() if not k.startswith('head.fc_roi')}
    plain.load_state_dict(state, strict=True)
    rm.eval(), plain.eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(rm(x, mode='tensor'), plain(x, mode='tensor'), atol=1e-5)


@pytest.mark.parametrize('name', ['imagenet/resnet50_8xb64-300e-rm_in1k.py',
                                  'imagenet/pvtv2-b1_8xb64-300e-rm_in1k.py'])
def test_rm_configs_train_two_steps(name):
    """Both backbones feed a feature map to the RM head; loss_rm becomes active."""
    from helpers import cls_batch
    from mmengine.optim import OptimWrapper
    torch.manual_seed(0)
    model = build_model(load(name))
    model.data_preprocessor.recursive_mix.rng = __import__('random').Random(1)
    model.init_weights()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=1e-3))
    seen = []
    for it in range(3):
        losses = model.train_step(cls_batch([it, 5, 999], 64, 64, seed=it), optim)
        assert set(losses) == {'loss', 'loss_cls', 'loss_rm'}
        assert losses['loss'].item() == pytest.approx(
            losses['loss_cls'].item() + losses['loss_rm'].item(), rel=1e-5)
        seen.append(losses['loss_rm'].item())
    assert seen[0] == 0.0 and max(seen[1:]) > 0


def test_imagenet_ablations_change_one_switch():
    rm = load('imagenet/resnet50_8xb64-300e-rm_in1k.py')
    shared = load('imagenet/resnet50_8xb64-300e-rm-sharedfc_in1k.py')
    bilinear = load('imagenet/resnet50_8xb64-300e-rm-bilinear_in1k.py')
    assert shared.model.head.share_fc is True and rm.model.head.share_fc is False
    shared.model.head.share_fc = False
    assert shared.model == rm.model and shared.data_preprocessor == rm.data_preprocessor
    assert bilinear.data_preprocessor.interpolation == 'bilinear'
    bilinear.data_preprocessor.interpolation = 'nearest'
    assert bilinear.data_preprocessor == rm.data_preprocessor and bilinear.model == rm.model
