"""Checkpoint converter and StrictPretrained initializer (CPU, tiny inputs).

The pretraining models are the real ones, built in the test from mmrm's
pretrain configs (RM ResNet-50 and RM PVTv2-B1 classifiers) or from
torchvision (the official RecursiveMix-pytorch ResNet-50 layout); their
weights are randomised so that "loaded" and "left at init" cannot coincide.
"""
import os.path as osp
from collections import OrderedDict

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.model import BaseModule
from mmengine.registry import WEIGHT_INITIALIZERS, DefaultScope

from helpers import load_tool
import mmrm.convert  # noqa: F401  (registers StrictPretrained)
from mmrm.convert import (DeepStemError, NotACheckpointError, StrictLoadError,
                          TaskCheckpointError, UnsafeCheckpointError,
                          WrongBackboneError, convert_checkpoint,
                          load_checkpoint_file)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
RM_R50_CFG = osp.join(ROOT, 'configs/pretrain/imagenet/'
                      'resnet50_8xb64-300e-rm_in1k.py')
RM_PVT_CFG = osp.join(ROOT, 'configs/pretrain/imagenet/'
                      'pvtv2-b1_8xb64-300e-rm_in1k.py')
FMNIST_RM_CFG = osp.join(ROOT, 'configs/pretrain/fashion_mnist/'
                         'resnet18-w16_1xb128-3e-rm_fmnist-64px.py')


# ----------------------------------------------------------------- helpers
def randomize_(state_dict, seed=0):
    """Replace every float tensor by random values (in place), count
    buffers by random ints; returns the dict."""
    g = torch.Generator().manual_seed(seed)
    for k, v in state_dict.items():
        if v.is_floating_point():
            state_dict[k] = torch.randn(v.shape, generator=g)
        else:
            state_dict[k] = torch.randint(0, 1000, v.shape, generator=g,
                                          dtype=v.dtype)
    return state_dict


def build_classifier(cfg_path):
    """The pretraining model of an mmrm config (mmpretrain scope)."""
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(cfg_path)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(cfg.model), cfg


def save_mmengine_checkpoint(model, path, seed=0):
    """A checkpoint shaped like mmengine's Runner.save_checkpoint output:
    meta, state_dict, message_hub (HistoryBuffer + numpy), optimizer."""
    state_dict = randomize_(OrderedDict(model.state_dict()), seed)
    hub = MessageHub.get_instance(f'test_convert_hub_{seed}')
    hub.update_scalar('train/loss', 1.5)
    hub.update_info('iter', 3)
    optim = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    torch.save(
        dict(meta=dict(epoch=1, iter=3, cfg='model = dict()', seed=0,
                       mmengine_version='0.10.7',
                       dataset_meta=dict(classes=('a', 'b'))),
             state_dict=state_dict,
             message_hub=hub.state_dict(),
             optimizer=optim.state_dict(),
             param_schedulers=[]), path)
    return state_dict


def backbone_part(state_dict):
    return OrderedDict((k[len('backbone.'):], v)
                       for k, v in state_dict.items()
                       if k.startswith('backbone.'))


def build_det_resnet(**kwargs):
    from mmdet.models.backbones import ResNet
    return ResNet(**kwargs)


def build_seg_resnet(**kwargs):
    from mmseg.models.backbones import ResNet
    return ResNet(**kwargs)


def assert_module_equals(module, state_dict):
    own = module.state_dict()
    assert set(own) == set(state_dict)
    for k, v in state_dict.items():
        assert torch.equal(own[k], v), k


# ------------------------------------------------------- shared conversions
@pytest.fixture(scope='module')
def rm_r50(tmp_path_factory):
    """An RM ResNet-50 classifier checkpoint (mmengine layout), converted."""
    tmp = tmp_path_factory.mktemp('rm_r50')
    model, _ = build_classifier(RM_R50_CFG)
    src, dst = str(tmp / 'epoch_300.pth'), str(tmp / 'r50_backbone.pth')
    full = save_mmengine_checkpoint(model, src)
    converted = convert_checkpoint(src, dst, backbone='resnet50')
    return dict(src=src, dst=dst, full=full, converted=converted)


# ------------------------------------------------------------ round trips
def test_mmpretrain_rm_resnet50_roundtrip(rm_r50):
    full, converted = rm_r50['full'], rm_r50['converted']
    # the input really is an RM classifier with the training-only fc_roi
    assert {'head.fc.weight', 'head.fc_roi.weight'} <= set(full)
    # a default weights-only load refuses the mmengine checkpoint (its
    # message hub pickles HistoryBuffer/numpy objects) ... (asked with
    # torch's default, empty allow-list: a Runner test in this process may
    # have allow-listed mmengine's types process-wide, as tools/train.py does)
    allowed = torch.serialization.get_safe_globals()
    torch.serialization.clear_safe_globals()
    try:
        unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(
            rm_r50['src'])
    finally:
        torch.serialization.add_safe_globals(allowed)
    assert 'mmengine.logging.history_buffer.HistoryBuffer' in unsafe
    # ... the converted file does not: backbone only, with meta
    saved = torch.load(rm_r50['dst'], map_location='cpu', weights_only=True)
    assert set(saved) == {'state_dict', 'meta'}
    meta = saved['meta']
    assert meta['source_layout'] == 'mmpretrain'
    assert meta['backbone'] == 'resnet50'
    assert meta['verified_with'] == ['mmdet.ResNet', 'mmseg.ResNet']
    assert 'head.fc_roi.weight' in meta['dropped_keys']
    assert meta['mmrm_version'] != 'unknown'
    expected = backbone_part(full)
    assert list(saved['state_dict']) == list(converted) == list(expected)
    assert not any(k.startswith(('backbone.', 'fc', 'head'))
                   for k in converted)
    for k, v in expected.items():
        assert torch.equal(saved['state_dict'][k], v), k

    # loads strictly, via the initializer, into mmdet's and mmseg's ResNet-50
    init_cfg = dict(type='StrictPretrained', checkpoint=rm_r50['dst'])
    for build in (build_det_resnet, build_seg_resnet):
        backbone = build(depth=50, init_cfg=init_cfg)
        backbone.init_weights()
        assert_module_equals(backbone, expected)


def test_strict_pretrained_prefix_reads_full_mmengine_checkpoint(rm_r50):
    """prefix='backbone.' takes the backbone out of the raw pretraining
    checkpoint, whose message hub needs the weights-only allow-list."""
    backbone = build_det_resnet(
        depth=50,
        init_cfg=dict(type='StrictPretrained', checkpoint=rm_r50['src'],
                      prefix='backbone.'))
    backbone.init_weights()
    assert_module_equals(backbone, backbone_part(rm_r50['full']))
    # without the prefix the whole classifier does not fit: refused
    bad = build_det_resnet(
        depth=50,
        init_cfg=dict(type='StrictPretrained', checkpoint=rm_r50['src']))
    with pytest.raises(StrictLoadError, match='prefix="backbone."'):
        bad.init_weights()


@pytest.mark.parametrize('wrapper', ['state_dict', 'model'])
def test_official_recursivemix_layout(tmp_path, wrapper):
    """torchvision keys + fc + fc_roi, DDP `module.` prefix, wrapped like
    the official code's `{'epoch', 'state_dict', 'optimizer'}`."""
    import torchvision
    tv = torchvision.models.resnet18(num_classes=10)
    state = randomize_(OrderedDict(tv.state_dict()), seed=1)
    state['fc_roi.weight'] = torch.randn(10, 512)
    state['fc_roi.bias'] = torch.randn(10)
    ddp_state = OrderedDict(('module.' + k, v) for k, v in state.items())
    src = str(tmp_path / 'official.pth')
    torch.save({'epoch': 300, wrapper: ddp_state,
                'optimizer': {'state': {}, 'param_groups': []}}, src)
    dst = str(tmp_path / 'sub' / 'r18.pth')
    converted = convert_checkpoint(src, dst, backbone='resnet18')
    expected = OrderedDict((k, v) for k, v in state.items()
                           if not k.startswith(('fc.', 'fc_roi.')))
    assert list(converted) == list(expected)
    meta = torch.load(dst, weights_only=True)['meta']
    assert meta['source_layout'] == 'torchvision'
    assert sorted(meta['dropped_keys']) == [
        'fc.bias', 'fc.weight', 'fc_roi.bias', 'fc_roi.weight']
    det = build_det_resnet(depth=18)
    det.load_state_dict(converted, strict=True)
    assert_module_equals(det, expected)


def test_old_checkpoint_without_num_batches_tracked(tmp_path):
    """torch < 0.4.1 checkpoints lack BN counters: filled with 0 and
    recorded, everything else is still checked strictly."""
    import torchvision
    state = randomize_(OrderedDict(
        torchvision.models.resnet18().state_dict()), seed=2)
    nbt = [k for k in state if k.endswith('num_batches_tracked')]
    for k in nbt:
        del state[k]
    src = str(tmp_path / 'old.pth')
    torch.save(state, src)
    converted = convert_checkpoint(src, str(tmp_path / 'o.pth'), 'resnet18')
    assert all(converted[k].item() == 0 for k in nbt)
    meta = torch.load(str(tmp_path / 'o.pth'), weights_only=True)['meta']
    assert sorted(meta['filled_keys']) == sorted(nbt)


def test_pvtv2_b1_roundtrip(tmp_path):
    from mmdet.models.backbones import PyramidVisionTransformerV2
    model, _ = build_classifier(RM_PVT_CFG)
    src = str(tmp_path / 'pvt.pth')
    full = save_mmengine_checkpoint(model, src, seed=3)
    dst = str(tmp_path / 'pvtv2_b1.pth')
    converted = convert_checkpoint(src, dst, backbone='pvtv2-b1')
    expected = backbone_part(full)
    assert list(converted) == list(expected)
    meta = torch.load(dst, weights_only=True)['meta']
    assert meta['verified_with'] == ['mmdet.PyramidVisionTransformerV2']
    # the strict-init PVTv2 (mmdet's own ignores the initializer type)
    from mmdet.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmdet'):
        pvt = MODELS.build(dict(
            type='StrictPyramidVisionTransformerV2', embed_dims=64,
            num_layers=[2, 2, 2, 2],
            init_cfg=dict(type='StrictPretrained', checkpoint=dst)))
    assert isinstance(pvt, PyramidVisionTransformerV2)
    pvt.init_weights()
    assert_module_equals(pvt, expected)
    # PVTv2-B1 weights are refused by a ResNet target and by PVTv2-B2
    with pytest.raises(WrongBackboneError, match='PVTv2'):
        convert_checkpoint(src, str(tmp_path / 'x.pth'), backbone='resnet50')
    with pytest.raises(StrictLoadError, match='missing keys') as err:
        convert_checkpoint(src, str(tmp_path / 'x.pth'), backbone='pvtv2-b2')
    # the first line names the difference: blocks per stage
    assert str(err.value).splitlines()[0].endswith(
        ': depths (2, 2, 2, 2) vs (3, 4, 6, 3) (checkpoint: PVTv2 (embed '
        'dims (64, 128, 320, 512), depths (2, 2, 2, 2)); module: PVTv2 '
        '(embed dims (64, 128, 320, 512), depths (3, 4, 6, 3)))')
    assert not osp.exists(tmp_path / 'x.pth')


def official_pvt_state(mmdet_state):
    """mmdet PVTv2 weights in the official PVTv2 release's layout (written
    here from that code's module names: ``patch_embed{s}.proj``,
    ``block{s}.{j}.attn.q`` / ``.kv`` / ``.proj``, ``mlp.fc1`` /
    ``dwconv.dwconv`` / ``fc2`` as Linear layers, stage norms ``norm{s}``)."""
    out = OrderedDict()
    for key, v in mmdet_state.items():
        stage, part, rest = key.split('.', 3)[1:]
        s = int(stage) + 1
        if part == '0':
            out[f'patch_embed{s}.' + rest.replace('projection.', 'proj.')] = v
        elif part == '2':
            out[f'norm{s}.{rest}'] = v
        else:
            j, rest = rest.split('.', 1)
            block = f'block{s}.{j}.'
            if rest.startswith('attn.attn.in_proj_'):
                kind, c = rest.rsplit('_', 1)[1], v.shape[0] // 3
                out[block + f'attn.q.{kind}'] = v[:c]
                out[block + f'attn.kv.{kind}'] = v[c:]
            elif rest.startswith('attn.attn.out_proj.'):
                out[block + 'attn.proj.' + rest.rsplit('.', 1)[1]] = v
            elif rest.startswith('ffn.layers.'):
                idx, kind = rest.split('.')[2:]
                name = {'0': 'fc1', '1': 'dwconv.dwconv', '4': 'fc2'}[idx]
                linear = name != 'dwconv.dwconv' and kind == 'weight'
                out[block + f'mlp.{name}.{kind}'] = v.flatten(1) if linear \
                    else v
            else:  # norm1, norm2, attn.sr, attn.norm
                out[block + rest] = v
    return out


def test_official_pvt_release_layout_goes_through_its_adapter(tmp_path):
    """The PVTv2 adapter's release layout: official keys (and the
    classifier head) -> mmdet's keys, every tensor as it was."""
    from mmdet.models.backbones import PyramidVisionTransformerV2
    expected = randomize_(OrderedDict(PyramidVisionTransformerV2(
        embed_dims=32, num_layers=[2, 2, 2, 2]).state_dict()), seed=7)
    official = official_pvt_state(expected)
    official['head.weight'], official['head.bias'] = torch.randn(
        1000, 256), torch.randn(1000)
    src, dst = str(tmp_path / 'pvt_v2_b0.pth'), str(tmp_path / 'b0.pth')
    torch.save(official, src)
    converted = convert_checkpoint(src, dst, backbone='pvtv2-b0')
    assert set(converted) == set(expected)
    for k, v in expected.items():
        assert torch.equal(converted[k], v), k
    meta = torch.load(dst, weights_only=True)['meta']
    assert meta['source_layout'] == 'pvt-official'
    assert meta['dropped_keys'] == ['head.bias', 'head.weight']
    assert meta['verified_with'] == ['mmdet.PyramidVisionTransformerV2']


def test_backbone_config_dict_and_cli(tmp_path, capsys):
    """The small Fashion-MNIST ResNet, target taken from its pretrain
    config, through tools/model_converters/convert_checkpoint.py; with the
    preset instead, the error names the base width and --backbone-config."""
    model, cfg = build_classifier(FMNIST_RM_CFG)
    src = str(tmp_path / 'fmnist.pth')
    full = save_mmengine_checkpoint(model, src, seed=4)
    cli = load_tool('tools/model_converters/convert_checkpoint.py')
    dst = str(tmp_path / 'fmnist_backbone.pth')
    assert cli.main([src, dst, '--backbone-config', FMNIST_RM_CFG]) == 0
    saved = torch.load(dst, weights_only=True)
    assert saved['meta']['backbone_cfg']['stem_channels'] == 16
    expected = backbone_part(full)
    det = build_det_resnet(depth=18, stem_channels=16, base_channels=16)
    det.load_state_dict(saved['state_dict'], strict=True)
    assert_module_equals(det, expected)
    # the preset (64 channels) does not fit: exit 1, file not written
    capsys.readouterr()
    assert cli.main([src, str(tmp_path / 'y.pth'), '--backbone',
                     'resnet18']) == 1
    assert not osp.exists(tmp_path / 'y.pth')
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith(f'error: StrictLoadError: {src} -> '
                               'mmdet.ResNet: base width 16 vs 64, stem width '
                               '16 vs 64 (checkpoint: ResNet-18 (BasicBlock')
    assert 'hint: the checkpoint is not a standard-width ResNet' in \
        lines[-1] and '--backbone-config PRETRAIN_CONFIG' in lines[-1]
    # --no-verify writes the file without the strict loading, and says so;
    # without it the summary names the modules it was verified with
    capsys.readouterr()
    assert cli.main([src, str(tmp_path / 'z.pth'), '--backbone-config',
                     FMNIST_RM_CFG, '--no-verify']) == 0
    assert 'not verified (--no-verify)' in capsys.readouterr().out
    assert torch.load(tmp_path / 'z.pth', weights_only=True)['meta'][
        'verified_with'] == []
    assert torch.load(dst, weights_only=True)['meta']['verified_with']


def test_families_are_one_table_and_each_preset_resolves_to_its_family():
    """The presets and the config types come from the adapters' table: no
    preset or type is shadowed by another family's, and each preset resolves
    through its own family's adapter."""
    from mmrm.convert import ADAPTERS, PRESETS, resolve_target
    from mmrm.convert.targets import TYPES
    assert list(ADAPTERS) == ['resnet', 'pvtv2', 'vit', 'swin']
    assert len(PRESETS) == sum(len(a.presets) for a in ADAPTERS.values())
    assert len(TYPES) == sum(len(a.types) for a in ADAPTERS.values())
    for adapter in ADAPTERS.values():
        for name in adapter.presets:
            target = resolve_target(name)
            assert (target.adapter, target.name) == (adapter, name)


def test_cli_preset_spelling_is_normalised_once_and_unknown_listed(
        tmp_path, capsys):
    """--backbone PVTv2_B1 is the preset pvtv2-b1 (one normalisation, the
    one the converter uses); an unknown name exits 2 listing the presets."""
    from mmrm.convert import PRESETS, preset_name
    src = tmp_path / 'any.pth'
    torch.save({'conv1.weight': torch.zeros(1)}, str(src))
    cli = load_tool('tools/model_converters/convert_checkpoint.py')
    args = cli.parse_args([str(src), str(tmp_path / 'o.pth'), '--backbone',
                           'PVTv2_B1'])
    assert args.backbone == 'pvtv2-b1' == preset_name('PVTv2_B1')
    with pytest.raises(SystemExit) as exit_:
        cli.parse_args([str(src), str(tmp_path / 'o.pth'), '--backbone',
                        'resnet42'])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--backbone: unknown backbone preset 'resnet42'; choose one of " \
        f"{', '.join(PRESETS)}, or --backbone-config" in err


def test_strict_pretrained_names_the_difference_from_the_file(tmp_path):
    """The converted narrow ResNet-18 given to an R50 config's backbone: the
    first line names depth, block and widths; the hint quotes the backbone
    the file's meta records."""
    src = str(tmp_path / 'fmnist.pth')
    save_mmengine_checkpoint(build_classifier(FMNIST_RM_CFG)[0], src, seed=6)
    dst = str(tmp_path / 'r18w16_backbone.pth')
    convert_checkpoint(src, dst, Config.fromfile(
        FMNIST_RM_CFG).model.backbone.to_dict())
    r50 = build_det_resnet(
        depth=50, init_cfg=dict(type='StrictPretrained', checkpoint=dst))
    with pytest.raises(StrictLoadError) as err:
        r50.init_weights()
    first, *rest = str(err.value).splitlines()
    assert first == (
        f'StrictPretrained({dst}) -> ResNet: depth 18 vs 50, block type '
        'BasicBlock vs Bottleneck, base width 16 vs 64, stem width 16 vs 64 '
        '(checkpoint: ResNet-18 (BasicBlock, blocks (2, 2, 2, 2), base width '
        '16, plain stem of width 16); module: ResNet-50 (Bottleneck, blocks '
        '(3, 4, 6, 3), base width 64, plain stem of width 64))')
    assert len(err.value.missing) > 100  # the details follow
    assert "hint: the file was converted for backbone ResNet-18: {'type': " \
        "'ResNet', 'depth': 18" in rest[-1] and "'base_channels': 16" in \
        rest[-1]


# ------------------------------------------------------------------ errors
def small_resnet_state(deep_stem=False, seed=5):
    from mmpretrain.models.backbones import ResNet, ResNetV1c
    cls = ResNetV1c if deep_stem else ResNet
    net = cls(depth=18, stem_channels=16, base_channels=16)
    return randomize_(OrderedDict(net.state_dict()), seed)


def test_not_a_checkpoint(tmp_path):
    text = tmp_path / 'notes.pth'
    text.write_text('this is not a checkpoint\n')
    with pytest.raises(NotACheckpointError, match='not a PyTorch checkpoint'):
        convert_checkpoint(str(text), str(tmp_path / 'o.pth'))
    empty = tmp_path / 'empty.pth'
    empty.write_bytes(b'')
    with pytest.raises(NotACheckpointError, match='empty'):
        convert_checkpoint(str(empty), str(tmp_path / 'o.pth'))
    listing = tmp_path / 'list.pth'
    torch.save([torch.zeros(1)], str(listing))
    with pytest.raises(NotACheckpointError, match='list'):
        convert_checkpoint(str(listing), str(tmp_path / 'o.pth'))
    no_tensor = tmp_path / 'meta_only.pth'
    torch.save({'meta': {'epoch': 1}}, str(no_tensor))
    with pytest.raises(NotACheckpointError, match='no tensors'):
        convert_checkpoint(str(no_tensor), str(tmp_path / 'o.pth'))
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        convert_checkpoint(str(tmp_path / 'missing.pth'),
                           str(tmp_path / 'o.pth'))
    assert not osp.exists(tmp_path / 'o.pth')


class _Opaque:  # pickled as a custom class: refused by weights-only loads
    pass


def test_unsafe_pickle_needs_explicit_trust(tmp_path):
    state = OrderedDict(('backbone.' + k, v)
                        for k, v in small_resnet_state().items())
    src = str(tmp_path / 'opaque.pth')
    torch.save({'state_dict': state, 'extra': _Opaque()}, src)
    with pytest.raises(UnsafeCheckpointError, match='_Opaque'):
        load_checkpoint_file(src)
    assert 'state_dict' in load_checkpoint_file(src, trusted=True)


@pytest.mark.parametrize('task_keys', [
    ('neck.fpn_convs.0.conv.weight', 'bbox_head.atss_cls.weight'),
    ('rpn_head.rpn_conv.weight', 'roi_head.bbox_head.fc_cls.weight'),
    ('decode_head.conv_seg.weight', 'auxiliary_head.conv_seg.weight'),
])
def test_detector_or_segmentor_checkpoint_refused(tmp_path, task_keys):
    state = OrderedDict(('backbone.' + k, v)
                        for k, v in small_resnet_state().items())
    for k in task_keys:
        state[k] = torch.randn(4, 4)
    src = str(tmp_path / 'det.pth')
    torch.save({'meta': {}, 'state_dict': state}, src)
    head = task_keys[-1].split('.')[0]
    with pytest.raises(TaskCheckpointError, match=rf'detector/segmentor.*'
                       rf'{head}\.\*'):
        convert_checkpoint(src, str(tmp_path / 'o.pth'), 'resnet18')


def test_wrong_backbone(tmp_path):
    state = small_resnet_state()
    src = str(tmp_path / 'r18w16.pth')
    torch.save(OrderedDict(('backbone.' + k, v) for k, v in state.items()),
               src)
    # ResNet weights for a PVTv2 target
    with pytest.raises(WrongBackboneError, match=r'ResNet-18 \(BasicBlock, '
                       r'blocks \(2, 2, 2, 2\).*target is PVTv2'):
        convert_checkpoint(src, str(tmp_path / 'o.pth'), 'pvtv2-b1')
    # unsupported target type
    with pytest.raises(WrongBackboneError, match='ConvNeXt'):
        convert_checkpoint(src, str(tmp_path / 'o.pth'),
                           dict(type='mmpretrain.ConvNeXt'))
    # ResNet-18 (BasicBlock) weights for ResNet-50: every key listed
    with pytest.raises(StrictLoadError) as err:
        convert_checkpoint(src, str(tmp_path / 'o.pth'), 'resnet50')
    assert 'layer1.0.conv3.weight' in err.value.missing
    assert ('conv1.weight', (16, 3, 7, 7), (64, 3, 7, 7)) in \
        err.value.mismatched
    assert err.value.summary.startswith(
        'depth 18 vs 50, block type BasicBlock vs Bottleneck, base width 16 '
        'vs 64')
    # a standard-width ResNet-18 for ResNet-50: the hint names the preset
    from mmpretrain.models.backbones import ResNet
    std = randomize_(OrderedDict(ResNet(depth=18).state_dict()))
    torch.save(std, str(tmp_path / 'r18.pth'))
    with pytest.raises(StrictLoadError, match='hint: the checkpoint fits '
                       '--backbone resnet18$'):
        convert_checkpoint(str(tmp_path / 'r18.pth'),
                           str(tmp_path / 'o.pth'), 'resnet50')
    # a ViT-like state dict is not taken for any ResNet
    torch.save({'patch_embed.projection.weight': torch.randn(8, 3, 16, 16),
                'layers.0.ln1.weight': torch.randn(8)},
               str(tmp_path / 'vit.pth'))
    with pytest.raises(WrongBackboneError, match='unknown'):
        convert_checkpoint(str(tmp_path / 'vit.pth'),
                           str(tmp_path / 'o.pth'), 'resnet50')
    assert not osp.exists(tmp_path / 'o.pth')


def test_deep_stem_checkpoint(tmp_path):
    state = small_resnet_state(deep_stem=True)
    src = str(tmp_path / 'v1c.pth')
    torch.save({'state_dict': OrderedDict(
        ('backbone.' + k, v) for k, v in state.items())}, src)
    plain = dict(type='ResNet', depth=18, stem_channels=16,
                 base_channels=16)
    with pytest.raises(DeepStemError, match='stem.0.conv.weight'):
        convert_checkpoint(src, str(tmp_path / 'o.pth'), plain)
    # for a deep-stem target the mmpretrain stem is translated and loads
    v1c = dict(plain, type='ResNetV1c')
    converted = convert_checkpoint(src, str(tmp_path / 'o.pth'), v1c)
    assert torch.equal(converted['stem.0.weight'], state['stem.0.conv.weight'])
    assert torch.equal(converted['stem.4.running_var'],
                       state['stem.1.bn.running_var'])
    det = build_det_resnet(depth=18, stem_channels=16, base_channels=16,
                           deep_stem=True)
    det.load_state_dict(converted, strict=True)
    # and a plain-stem checkpoint is refused by a deep-stem target
    plain_src = str(tmp_path / 'plain.pth')
    torch.save(OrderedDict(('backbone.' + k, v)
                           for k, v in small_resnet_state().items()),
               plain_src)
    with pytest.raises(DeepStemError, match='plain-stem'):
        convert_checkpoint(plain_src, str(tmp_path / 'p.pth'), v1c)


def test_backbone_shape_reads_stems_widths_and_inputs():
    """The facts the one-line summaries are made of, from the shapes of
    mmpretrain's deep stem (stem.i.conv) and mmdet's (stem.3i)."""
    from mmrm.convert.mismatch import backbone_shape, differences
    v1c = backbone_shape(small_resnet_state(deep_stem=True))
    assert (v1c['depth'], v1c['stem'], v1c['stem_width'],
            v1c['base_width']) == (18, 'deep', 16, 16)
    det = backbone_shape(build_det_resnet(
        depth=50, deep_stem=True, in_channels=1).state_dict())
    assert (det['block'], det['stem'], det['stem_width'],
            det['in_channels']) == ('Bottleneck', 'deep', 64, 1)
    assert differences(v1c, det) == [
        'depth 18 vs 50', 'block type BasicBlock vs Bottleneck',
        'base width 16 vs 64', 'stem width 16 vs 64', 'input channels 3 vs 1']
    plain = backbone_shape(small_resnet_state())
    assert differences(plain, v1c) == ['stem plain vs deep']
    assert backbone_shape({'head.fc.weight': torch.zeros(2, 2)}) is None


# ------------------------------------------------ mmcv ops not built yet
#: runs a script as mmcv-lite would: mmcv without its compiled extension
#: (what `make demo`'s set-up leaves while the ops build in the background)
WITHOUT_MMCV_OPS = """
import importlib.abc, runpy, sys
class WithoutCompiledOps(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == 'mmcv._ext':
            raise ModuleNotFoundError("No module named 'mmcv._ext'", name=name)
sys.meta_path.insert(0, WithoutCompiledOps())
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
"""


def _without_mmcv_ops(*argv):
    import subprocess
    import sys
    return subprocess.run(
        [sys.executable, '-c', WITHOUT_MMCV_OPS, *argv], cwd=ROOT,
        capture_output=True, text=True, timeout=600)


def test_converter_without_mmcv_ops_names_the_missing_build(tmp_path):
    """Right after `make demo` (mmcv-lite, the ops build still running) the
    strict check cannot import mmdet/mmseg: the converter stops with the ops
    guard's message (what is missing, the command that finishes it, the
    --no-verify way) instead of a traceback from inside mmdet's imports;
    with --no-verify it converts."""
    # the simulation is the real failure: mmdet's import breaks as reported
    probe = tmp_path / 'import_mmdet.py'
    probe.write_text('import mmdet.models\n')
    proc = _without_mmcv_ops(str(probe))
    assert "No module named 'mmcv._ext'" in proc.stderr, proc.stderr[-2000:]
    src, dst = str(tmp_path / 'r18w16.pth'), tmp_path / 'backbone.pth'
    torch.save({'state_dict': OrderedDict(
        ('backbone.' + k, v) for k, v in small_resnet_state().items())}, src)
    tool = osp.join(ROOT, 'tools/model_converters/convert_checkpoint.py')
    proc = _without_mmcv_ops(tool, src, str(dst), '--backbone-config',
                             FMNIST_RM_CFG)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert 'Traceback' not in proc.stderr, proc.stderr[-2000:]
    (line, ) = [x for x in proc.stderr.splitlines() if x.startswith('error')]
    assert line.startswith(f'error: MmcvOpsError: {src}: the strict check of '
                           'the converted weights builds mmdet\'s / mmseg\'s '
                           'ResNet, and importing mmdet and mmseg needs '
                           'mmcv\'s compiled ops, but the installed mmcv has '
                           'none (mmcv-lite'), line
    assert '`bash scripts/setup_env.sh`' in line and '--no-verify' in line
    assert not dst.exists()
    proc = _without_mmcv_ops(tool, src, str(dst), '--backbone-config',
                             FMNIST_RM_CFG, '--no-verify')
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'not verified (--no-verify)' in proc.stdout
    assert torch.load(dst, weights_only=True)['meta']['verified_with'] == []
    # the official PVT layout is translated by mmdet's own code: the same
    # message, even with --no-verify
    from mmdet.models.backbones import PyramidVisionTransformerV2
    official = str(tmp_path / 'pvt_v2_b0.pth')
    torch.save(official_pvt_state(PyramidVisionTransformerV2(
        embed_dims=32, num_layers=[2, 2, 2, 2]).state_dict()), official)
    proc = _without_mmcv_ops(tool, official, str(tmp_path / 'b0.pth'),
                             '--backbone', 'pvtv2-b0', '--no-verify')
    assert proc.returncode == 1 and 'Traceback' not in proc.stderr, \
        proc.stderr[-2000:]
    assert 'error: MmcvOpsError: translating the official PVT layout uses ' \
        "mmdet's pvt_convert" in proc.stderr


# ------------------------------------------------------ StrictPretrained
@pytest.fixture()
def small_backbone_file(tmp_path):
    state = small_resnet_state()
    path = str(tmp_path / 'small.pth')
    torch.save({'state_dict': state, 'meta': {}}, path)
    return path, state


def _strict_resnet(checkpoint):
    return build_det_resnet(
        depth=18, stem_channels=16, base_channels=16,
        init_cfg=dict(type='StrictPretrained', checkpoint=checkpoint))


@pytest.mark.parametrize('change', ['missing', 'unexpected', 'shape'])
def test_strict_pretrained_refuses_mismatch(small_backbone_file, tmp_path,
                                            change):
    path, state = small_backbone_file
    state = OrderedDict(state)
    if change == 'missing':
        del state['layer2.1.bn2.weight']
        key = 'layer2.1.bn2.weight'
    elif change == 'unexpected':
        state['layer5.0.conv1.weight'] = torch.randn(3, 3)
        key = 'layer5.0.conv1.weight'
    else:
        state['layer3.0.conv1.weight'] = torch.randn(64, 32, 1, 1)
        key = 'layer3.0.conv1.weight (64, 32, 1, 1) vs (64, 32, 3, 3)'
    bad = str(tmp_path / f'bad_{change}.pth')
    torch.save({'state_dict': state}, bad)
    backbone = _strict_resnet(bad)
    before = OrderedDict((k, v.clone())
                         for k, v in backbone.state_dict().items())
    with pytest.raises(StrictLoadError) as err:
        backbone.init_weights()
    assert bad in str(err.value) and key in str(err.value)
    # nothing was half-loaded
    assert_module_equals(backbone, before)


def test_strict_pretrained_missing_file_stops_before_training(tmp_path):
    """A runner-built model fails in init_weights, i.e. before any step."""
    missing = str(tmp_path / 'nope' / 'backbone.pth')
    backbone = _strict_resnet(missing)
    with pytest.raises(FileNotFoundError, match=r'nope/backbone\.pth'):
        backbone.init_weights()


def test_strict_pretrained_registered_and_wins_over_children(
        small_backbone_file):
    path, state = small_backbone_file
    # visible from the downstream scopes through the root registry
    for scope in ('mmdet', 'mmseg', 'mmpretrain'):
        with DefaultScope.overwrite_default_scope(scope):
            init = WEIGHT_INITIALIZERS.build(
                dict(type='StrictPretrained', checkpoint=path))
        assert isinstance(init, mmrm.convert.StrictPretrainedInit)

    class Child(BaseModule):

        def __init__(self):
            super().__init__(init_cfg=dict(type='Constant', val=0.,
                                           layer='Conv2d'))
            self.conv = nn.Conv2d(2, 2, 1)

    class Parent(BaseModule):

        def __init__(self, init_cfg):
            super().__init__(init_cfg=init_cfg)
            self.child = Child()

    ref = Parent(None)
    saved = randomize_(OrderedDict(ref.state_dict()), seed=7)
    ckpt = osp.join(osp.dirname(path), 'parent.pth')
    torch.save(saved, ckpt)
    model = Parent(dict(type='StrictPretrained', checkpoint=ckpt))
    model.init_weights()
    # the child's own Constant(0) init did not overwrite the loaded weights
    assert_module_equals(model, saved)
