# PyramidNet-164 (bottleneck, alpha 270) + RecursiveMix (alpha 0.5, omega 0.1),
# CIFAR-100, 200 epochs.
# Paper: Tables 2 and 3 (numbers: metafile.yml).
_base_ = ['./pyramidnet164-a270_2xb64-200e_cifar100.py', '../_base_/rm.py']
data_preprocessor = _base_.rm_data_preprocessor
model = dict(neck=None, head=dict(_base_.rm_head, omega=0.1))
