# DenseNet-161 (CIFAR stem: mmrm DenseNet_CIFAR) baseline, CIFAR-100, 200
# epochs: the DenseNet-121 config with arch 161.
# Paper: Table 3 (numbers: metafile.yml).
_base_ = './densenet121_2xb64-200e_cifar100.py'
model = dict(backbone=dict(arch='161'), head=dict(in_channels=2208))
