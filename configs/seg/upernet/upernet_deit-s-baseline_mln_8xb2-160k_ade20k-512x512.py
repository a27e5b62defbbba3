# UperNet + multi-level neck, ADE20K 512x512, 160k iterations: mmseg's
# DeiT-S recipe with final LayerNorm
# (vit/vit_deit-s16-ln_mln_upernet_8xb2-160k_ade20k-512x512: AdamW lr 6e-5,
# wd 0.01, 1500 warm-up iterations + poly, 8 GPUs x 2 images) with the
# backbone weights from mmrm's DeiT-S ImageNet pretraining; this file loads
# the *baseline* (stock Mixup + CutMix) weights, the -cutmix / -rm configs
# beside it change only the checkpoint. mmrm's extension beyond the
# RecursiveMix paper (no paper numbers).
# The 224px pretraining has a 14x14 position embedding, this backbone a 32x32
# one: convert for this config, resizing (bicubic) as mmseg's Pretrained does:
#   tools/model_converters/convert_checkpoint.py
#   work_dirs/deit-small_4xb256-300e_in1k/epoch_300.pth
#   checkpoints/deit-small-512px_baseline_backbone.pth
#   --backbone-config <this file> --resize-pos-embed
_base_ = 'mmseg::vit/vit_deit-s16-ln_mln_upernet_8xb2-160k_ade20k-512x512.py'

custom_imports = dict(imports=['mmrm'], allow_failed_imports=False)

# patch_bias=True: DeiT's patch embedding has a bias; mmseg's default (False)
# would leave it out (the stock config drops it silently, strict=False).
# The final LayerNorm (final_norm=True) and LN eps 1e-6 come from the base
# and match mmpretrain's ViT.
model = dict(
    pretrained=None,
    backbone=dict(
        patch_bias=True,
        init_cfg=dict(
            type='StrictPretrained',
            checkpoint='checkpoints/deit-small-512px_baseline_backbone.pth')))
