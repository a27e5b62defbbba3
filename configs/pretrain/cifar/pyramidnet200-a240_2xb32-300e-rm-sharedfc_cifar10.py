# Ablation (paper Table 4a, CIFAR-10): RM with ONE linear classifier for the
# global and the RoI branch (share_fc=True) instead of separate classifiers
# (the default). Numbers: metafile.yml.
_base_ = './pyramidnet200-a240_2xb32-300e-rm_cifar10.py'
model = dict(head=dict(share_fc=True))
