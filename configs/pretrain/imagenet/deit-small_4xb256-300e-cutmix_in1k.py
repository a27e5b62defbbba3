# DeiT-Small + CutMix only (alpha 1.0, every batch) instead of the stock
# Mixup/CutMix pair; otherwise deit-small_4xb256-300e_in1k.py. mmrm's
# extension beyond the RecursiveMix paper (no paper numbers).
_base_ = './deit-small_4xb256-300e_in1k.py'
model = dict(train_cfg=dict(augments=[dict(type='CutMix', alpha=1.0)]))
