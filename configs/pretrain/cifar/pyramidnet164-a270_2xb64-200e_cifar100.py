# PyramidNet-164 (bottleneck, alpha 270) baseline, CIFAR-100, 200 epochs.
# Paper: Tables 2 and 3 (numbers: metafile.yml).
_base_ = './_base_/cifar100_bs64_200e.py'
model = dict(
    backbone=dict(type='PyramidNet', depth=164, alpha=270, bottleneck=True,
                  out_indices=(2, )),
    head=dict(in_channels=1144))
