# Fashion-MNIST (real, 60k/10k 28x28 grey images, 10 classes) for the CPU demo
# and the Fashion-MNIST benchmarks: the Debian package `dataset-fashion-mnist`
# unpacked into data/fashion_mnist by
# tools/dataset_converters/prepare_fashion_mnist.sh.
# Images are upsampled to 64x64 (a 2x2 last-stage map for a ResNet) and become
# 3-channel through the 3-value mean/std of the data preprocessor
# (broadcasting (N,1,H,W) to (N,3,H,W)). mean/std: the training set's pixel
# statistics on the 0-255 scale. This file is the one place they are written:
# mmrm.datasets.fashion_mnist reads them from here.
img_size = 64
data_preprocessor = dict(
    num_classes=10, mean=[72.94] * 3, std=[90.02] * 3, to_rgb=False)

train_pipeline = [
    dict(type='RandomCrop', crop_size=28, padding=2),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='Resize', scale=(img_size, img_size)),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='Resize', scale=(img_size, img_size)),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=128,
    num_workers=1,
    persistent_workers=False,
    dataset=dict(
        type='FashionMNIST', data_root='data/fashion_mnist', download=False,
        test_mode=False, pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True))
# the test split, unshuffled, in batches of 256
val_dataloader = dict(
    train_dataloader,
    batch_size=256,
    dataset=dict(train_dataloader['dataset'], split='test', test_mode=True,
                 pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False))
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
