# ImageNet-1k data of the official RecursiveMix recipe (`--aug_plus`):
# RandomResizedCrop 224 + horizontal flip + ColorJitter(0.4, 0.4, 0.4) + PCA
# lighting noise (AlexNet-style, alphastd 0.1). 64 images per GPU.
_base_ = 'mmpretrain::_base_/datasets/imagenet_bs64.py'

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4),
    dict(
        type='Lighting',
        # ImageNet RGB PCA on the 0-255 scale (0.2175, 0.0188, 0.0045 x 255)
        eigval=[55.46, 4.794, 1.148],
        eigvec=[[-0.5675, 0.7192, 0.4009], [-0.5808, -0.0045, -0.8140],
                [-0.5836, -0.6948, 0.4203]],
        alphastd=0.1,
        to_rgb=True),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
