# Ablation (paper Table 4b, CIFAR-10): RM resizes the history batch with
# bilinear instead of nearest interpolation (the default).
# Numbers: metafile.yml.
_base_ = './pyramidnet200-a240_2xb32-300e-rm_cifar10.py'
data_preprocessor = dict(interpolation='bilinear')
