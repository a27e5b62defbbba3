# PyramidNet-200 (bottleneck, alpha 240) + RecursiveMix (alpha 0.5, omega 0.1),
# CIFAR-10, 300 epochs.
# Paper Table 1: 2.35% top-1 error.
_base_ = ['./pyramidnet200-a240_2xb32-300e_cifar10.py', '../_base_/rm.py']
custom_imports = _base_.rm_custom_imports
data_preprocessor = _base_.rm_data_preprocessor
model = dict(
    neck=None,
    head=dict(_base_.rm_head, num_classes=10, in_channels=1024,
              omega=0.1, topk=(1, 5)))
custom_hooks = _base_.rm_custom_hooks
