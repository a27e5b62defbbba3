# PSPNet on the Fashion-MNIST scenes (paper Table 9's recipe, shrunk):
# configs/seg/pspnet/pspnet_r50-d8-baseline_4xb4-80k_ade20k-512x512.py
# (mmseg's stock PSPNet: dilated ResNet, output stride 8, SGD, poly, with a
# strictly loaded plain ResNet backbone) with only what the small backbone,
# the small data and the short schedule need changed
# (_base_/scenes_segmentation.py): the narrow ResNet-18, dilated as the stock
# one, with BN and its normalisation; PSP head 64 wide (stock 512),
# auxiliary FCN 32 (stock 256); the stock ADE20K pipeline at a quarter of the
# scale; 11 classes; 8 images per batch; 1000 iterations instead of 80k with
# the stock lr x 10 scaled to 8 images, 0.05 (pilots with the baseline
# pretraining, 1000 iterations: mIoU 11.6 with 0.005, 23.4 with 0.02, 26.6
# with 0.05; docs/transfer.md). The init is the checkpoint: --cfg-options
# model.backbone.init_cfg.checkpoint=PATH (or model.backbone.init_cfg=None).
_base_ = ['../seg/pspnet/pspnet_r50-d8-baseline_4xb4-80k_ade20k-512x512.py',
          './_base_/scenes_segmentation.py']

model = dict(_base_.scenes_seg_model,
             decode_head=dict(_base_.scenes_seg_decode_head,
                              in_channels=_base_.r18w16_channels[3]))
train_dataloader, val_dataloader = _base_.scenes_seg_loaders
optim_wrapper = dict(optimizer=dict(lr=0.05))
test_dataloader = val_dataloader
param_scheduler = [dict(_base_.param_scheduler[0],
                        end=_base_.scenes_seg_iters)]
train_cfg, default_hooks, env_cfg = _base_.scenes_seg_runtime
