# Table 4a ablation: RM with the RoI branch sharing the classifier `fc`
# (paper: 20.92 top-1 error vs 20.80 with a separate fc_roi).
_base_ = './resnet50_8xb64-300e-rm_in1k.py'
model = dict(head=dict(share_fc=True))
