# UperNet on the Fashion-MNIST scenes (paper Table 9's recipe, shrunk):
# configs/seg/upernet/upernet_r50-baseline_8xb2-80k_ade20k-512x512.py
# (mmseg's stock UperNet with the official RecursiveMix optimizer, AdamW,
# poly to 0, and a strictly loaded backbone), changed as the PSPNet transfer
# config beside it (_base_/scenes_segmentation.py; UperNet head 64 wide on
# all four stages) with the stock lr x 10, 1e-3 (pilots with the baseline
# pretraining: with 1e-4 every init learned only the background class in 500
# iterations, mIoU 7.0; with 1e-3, 14.0 after 500 iterations and 25.9 after
# 1000; docs/transfer.md). The init is the checkpoint (see the PSPNet
# config).
_base_ = ['../seg/upernet/upernet_r50-baseline_8xb2-80k_ade20k-512x512.py',
          './_base_/scenes_segmentation.py']

model = dict(_base_.scenes_seg_model,
             decode_head=dict(_base_.scenes_seg_decode_head,
                              in_channels=_base_.r18w16_channels))
train_dataloader, val_dataloader = _base_.scenes_seg_loaders
optim_wrapper = dict(optimizer=dict(lr=0.001))
test_dataloader = val_dataloader
param_scheduler = [dict(_base_.param_scheduler[0],
                        end=_base_.scenes_seg_iters)]
train_cfg, default_hooks, env_cfg = _base_.scenes_seg_runtime
