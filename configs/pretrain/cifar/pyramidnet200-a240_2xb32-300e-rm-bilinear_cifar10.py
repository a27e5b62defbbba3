# Ablation (paper Table 4b, CIFAR-10): RM resizes the history batch with
# bilinear instead of nearest interpolation. Paper: 2.58% top-1 error
# (vs 2.35% with nearest, the default).
_base_ = './pyramidnet200-a240_2xb32-300e-rm_cifar10.py'
data_preprocessor = dict(interpolation='bilinear')
