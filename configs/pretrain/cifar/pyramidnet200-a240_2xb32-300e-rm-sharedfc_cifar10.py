# Ablation (paper Table 4a, CIFAR-10): RM with ONE linear classifier for the
# global and the RoI branch (share_fc=True). Paper: 2.61% top-1 error
# (vs 2.35% with separate classifiers, the default).
_base_ = './pyramidnet200-a240_2xb32-300e-rm_cifar10.py'
model = dict(head=dict(share_fc=True))
