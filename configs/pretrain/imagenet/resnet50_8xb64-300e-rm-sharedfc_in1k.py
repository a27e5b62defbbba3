# Table 4a ablation: RM with the RoI branch sharing the classifier `fc`
# instead of a separate fc_roi (numbers: metafile.yml).
_base_ = './resnet50_8xb64-300e-rm_in1k.py'
model = dict(head=dict(share_fc=True))
