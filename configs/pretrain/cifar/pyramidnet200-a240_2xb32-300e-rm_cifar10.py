# PyramidNet-200 (bottleneck, alpha 240) + RecursiveMix (alpha 0.5, omega 0.1),
# CIFAR-10, 300 epochs.
# Paper: Tables 1 and 4 (default row) (numbers: metafile.yml).
_base_ = ['./pyramidnet200-a240_2xb32-300e_cifar10.py', '../_base_/rm.py']
data_preprocessor = _base_.rm_data_preprocessor
model = dict(neck=None, head=dict(_base_.rm_head, omega=0.1))
