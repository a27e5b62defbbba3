# Ablation (paper Table 4b, CIFAR-100): RM resizes the history batch with
# bilinear instead of nearest interpolation (the default).
# Numbers: metafile.yml.
_base_ = './resnet18_2xb64-200e-rm_cifar100.py'
data_preprocessor = dict(interpolation='bilinear')
