# Ablation (paper Table 4a, CIFAR-100): RM with ONE linear classifier for the
# global and the RoI branch (share_fc=True) instead of separate classifiers
# (the default). Numbers: metafile.yml.
_base_ = './resnet18_2xb64-200e-rm_cifar100.py'
model = dict(head=dict(share_fc=True))
