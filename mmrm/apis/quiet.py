"""Known-harmless third-party warnings that mmrm's own set-up triggers,
filtered by their exact message (and, where the message is generic, the
module that warns) only while mmrm builds and runs a config; explained in
docs/pipeline.md, "Warnings mmrm filters, and why they are harmless":

* setuptools' ``pkg_resources is deprecated as an API`` (twice per config
  load): mmengine's config inheritance (``_base_ = 'mmdet::...'``) asks
  ``mmengine.utils.is_installed``, which imports and then reloads
  ``pkg_resources``;
* torch's ``broadcast_buffers is deprecated`` (DDP, torch >= 2.13):
  mmengine's DDP wrapper passes ``broadcast_buffers=False`` (BN statistics
  stay per rank, as in every OpenMMLab repository). RM's history is not a
  registered buffer (plain attributes of the preprocessor and head), so DDP
  syncs none of it either way;
* mmdet's ``num_anchors is deprecated`` (its own anchor heads call it) and
  mmseg's notes on its own stock configs (``build_loss`` / ``reduce_zero_label``
  "will be deprecated", ``avg_non_ignore`` defaults to False as in mmseg's
  published runs, visualisation ``draw`` is False);
* torch's ``The given NumPy array is not writable`` from mmpretrain's
  (Fashion-)MNIST reader, which wraps the read-only file buffer in a tensor
  that nothing writes to.
"""
import contextlib
import warnings

#: ``(category, message regex, module regex)`` of each filtered warning
KNOWN_HARMLESS = (
    (UserWarning, r'pkg_resources is deprecated as an API', ''),
    (FutureWarning, r'`broadcast_buffers` is deprecated', ''),
    (UserWarning, r'DeprecationWarning: `num_anchors` is deprecated',
     r'mmdet\.'),
    (UserWarning, r'``build_loss`` would be deprecated soon', r'mmseg\.'),
    (UserWarning, r'`reduce_zero_label` will be deprecated', r'mmseg\.'),
    (UserWarning, r'Default ``avg_non_ignore`` is False', r'mmseg\.'),
    (UserWarning, r'The draw is False', r'mmseg\.'),
    (UserWarning, r'The given NumPy array is not writable',
     r'mmpretrain\.datasets\.mnist'),
)


@contextlib.contextmanager
def known_harmless_warnings_filtered():
    """Within the block, ignore the :data:`KNOWN_HARMLESS` warnings."""
    with warnings.catch_warnings():
        for category, message, module in KNOWN_HARMLESS:
            warnings.filterwarnings('ignore', message=message,
                                    category=category, module=module)
        yield
