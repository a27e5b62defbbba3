# Ablation (paper Table 4b, CIFAR-100): RM resizes the history batch with
# bilinear instead of nearest interpolation. Paper: 18.78% top-1 error
# (vs 18.64% with nearest, the default).
_base_ = './resnet18_2xb64-200e-rm_cifar100.py'
data_preprocessor = dict(interpolation='bilinear')
