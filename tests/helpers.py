"""Small builders shared by the tests."""
import importlib.util
import os.path as osp

import torch
from mmpretrain.structures import DataSample

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def cls_batch(labels, height, width, channels=3, seed=0, dtype=torch.uint8):
    """A data batch as a dataloader gives it: uint8 images + DataSamples."""
    g = torch.Generator().manual_seed(seed)
    inputs = torch.randint(0, 256, (len(labels), channels, height, width),
                           generator=g).to(dtype)
    samples = [DataSample().set_gt_label(int(l)) for l in labels]
    return {'inputs': inputs, 'data_samples': samples}


def load_tool(path):
    """A command-line script of the repository as a module, in-process
    (``path`` relative to the root, e.g. ``'tools/train.py'``)."""
    name = 'mmrm_tool_' + osp.splitext(path)[0].replace('/', '_')
    spec = importlib.util.spec_from_file_location(name, osp.join(ROOT, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
