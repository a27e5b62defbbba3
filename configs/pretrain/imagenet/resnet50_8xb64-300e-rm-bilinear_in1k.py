# Table 4b ablation: RM resizing the history batch with bilinear instead of
# nearest interpolation (numbers: metafile.yml).
_base_ = './resnet50_8xb64-300e-rm_in1k.py'
data_preprocessor = dict(interpolation='bilinear')
