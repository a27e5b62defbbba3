# ResNet-18 (CIFAR stem: mmpretrain ResNet_CIFAR) baseline, CIFAR-100, 200
# epochs. Paper: Table 3 (numbers: metafile.yml).
# zero_init_residual=False: the official CIFAR ResNet has no zero-initialised
# last BN in its residual blocks (mmpretrain's default would add one).
_base_ = './_base_/cifar100_bs64_200e.py'
model = dict(
    backbone=dict(
        type='ResNet_CIFAR', depth=18, num_stages=4, out_indices=(3, ),
        style='pytorch', zero_init_residual=False),
    head=dict(in_channels=512))
