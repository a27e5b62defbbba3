"""The four classifiers (same backbone and initial weights) and the batches.

Every method is an mmpretrain ``ImageClassifier`` built from the registry:
baseline (GAP + linear head, hard-label CE), Mixup / CutMix (the same with
mmpretrain's batch augment, alpha 1, soft-label CE), RM
(``RecursiveMixDataPreprocessor`` alpha 0.5 + ``RecursiveMixHead`` omega
0.5). Optimizer: SGD (lr 0.01, momentum 0.9, wd 1e-4), fp32 or AMP fp16.
"""
import torch

from . import METHODS

MEAN = [123.675, 116.28, 103.53]
STD = [58.395, 57.12, 57.375]


def model_config(method: str, arch: str, base_channels: int,
                 num_classes: int) -> dict:
    """mmpretrain ``ImageClassifier`` config of one method.

    Args:
        method: one of :data:`METHODS`.
        arch: ``'resnet18'``, ``'resnet34'`` or ``'resnet50'``.
        base_channels: width of the first stage (and of the stem).
        num_classes: K.
    """
    if method not in METHODS:
        raise ValueError(f'method must be one of {METHODS}, got {method!r}')
    depth = int(arch.replace('resnet', ''))
    in_channels = base_channels * 8 * (4 if depth >= 50 else 1)
    backbone = dict(type='ResNet', depth=depth, base_channels=base_channels,
                    stem_channels=base_channels, out_indices=(3, ),
                    style='pytorch')
    pre = dict(type='ClsDataPreprocessor', num_classes=num_classes,
               mean=MEAN, std=STD, to_rgb=False)
    soft = dict(type='CrossEntropyLoss', loss_weight=1.0, use_soft=True)
    if method == 'rm':
        return dict(
            type='ImageClassifier', backbone=backbone, neck=None,
            head=dict(type='RecursiveMixHead', num_classes=num_classes,
                      in_channels=in_channels, omega=0.5, loss=soft),
            data_preprocessor=dict(pre, type='RecursiveMixDataPreprocessor',
                                   alpha=0.5))
    hard = dict(type='CrossEntropyLoss', loss_weight=1.0)
    cfg = dict(
        type='ImageClassifier', backbone=backbone,
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=num_classes,
                  in_channels=in_channels,
                  loss=hard if method == 'baseline' else soft),
        data_preprocessor=pre)
    if method in ('mixup', 'cutmix'):
        cfg['train_cfg'] = dict(augments=dict(
            type='Mixup' if method == 'mixup' else 'CutMix', alpha=1.0))
    return cfg


def build(method: str, args, device: torch.device, backbone_state=None):
    """``(model, optim_wrapper)`` of one method on ``device``; the backbone
    takes ``backbone_state`` when given (same start for every method)."""
    import mmrm  # noqa: F401  registers the RM components
    from mmengine.optim import AmpOptimWrapper, OptimWrapper
    from mmpretrain.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(
        model_config(method, args.arch, args.base_channels, args.num_classes))
    model.init_weights()
    if backbone_state is not None:
        model.backbone.load_state_dict(backbone_state)
    model.to(device).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9,
                                weight_decay=1e-4)
    if args.amp:
        return model, AmpOptimWrapper(optimizer=optimizer, dtype='float16')
    return model, OptimWrapper(optimizer=optimizer)


class BatchPool:
    """A few fixed uint8 batches ``(B, 3, S, S)`` on the device with their
    labels; every call returns a fresh copy (the preprocessors write into
    the data samples)."""

    def __init__(self, args, device, size: int = 4):
        g = torch.Generator().manual_seed(1)
        shape = (args.batch, 3, args.img_size, args.img_size)
        self.inputs = [
            torch.randint(0, 256, shape, generator=g,
                          dtype=torch.uint8).to(device) for _ in range(size)
        ]
        self.labels = [
            torch.randint(0, args.num_classes, (args.batch, ),
                          generator=g).tolist() for _ in range(size)
        ]
        self.count = 0

    def __call__(self) -> dict:
        from mmpretrain.structures import DataSample
        i = self.count % len(self.inputs)
        self.count += 1
        return {
            'inputs': self.inputs[i].clone(),
            'data_samples':
            [DataSample().set_gt_label(l) for l in self.labels[i]]
        }
