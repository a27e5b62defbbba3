# PyramidNet-200 (bottleneck, alpha 240) baseline, CIFAR-10, 300 epochs.
# Paper: Table 1 (numbers: metafile.yml).
_base_ = './_base_/cifar10_bs32_300e.py'
model = dict(
    backbone=dict(type='PyramidNet', depth=200, alpha=240, bottleneck=True,
                  out_indices=(2, )),
    head=dict(in_channels=1024))
