"""Small builders shared by the tests."""
import torch
from mmpretrain.structures import DataSample


def cls_batch(labels, height, width, channels=3, seed=0, dtype=torch.uint8):
    """A data batch as a dataloader gives it: uint8 images + DataSamples."""
    g = torch.Generator().manual_seed(seed)
    inputs = torch.randint(0, 256, (len(labels), channels, height, width),
                           generator=g).to(dtype)
    samples = [DataSample().set_gt_label(int(l)) for l in labels]
    return {'inputs': inputs, 'data_samples': samples}
