"""Known-harmless third-party warnings that mmrm's own set-up triggers,
filtered by their exact message only where mmrm triggers them (explained
in docs/pipeline.md, "Warnings you will not see"):

* setuptools' ``pkg_resources is deprecated as an API`` (twice per config
  load): mmengine's config inheritance (``_base_ = 'mmdet::...'``) asks
  ``mmengine.utils.is_installed``, which imports and then reloads
  ``pkg_resources``;
* torch's ``broadcast_buffers is deprecated`` (DDP, torch >= 2.13):
  mmengine's DDP wrapper passes ``broadcast_buffers=False`` (BN statistics
  stay per rank, as in every OpenMMLab repository). RM's history is not a
  registered buffer (plain attributes of the preprocessor and head), so DDP
  syncs none of it either way.
"""
import contextlib
import warnings

#: ``(category, message regex)`` of each filtered warning
KNOWN_HARMLESS = (
    (UserWarning, r'pkg_resources is deprecated as an API'),
    (FutureWarning, r'`broadcast_buffers` is deprecated'),
)


@contextlib.contextmanager
def known_harmless_warnings_filtered():
    """Within the block, ignore the :data:`KNOWN_HARMLESS` warnings."""
    with warnings.catch_warnings():
        for category, message in KNOWN_HARMLESS:
            warnings.filterwarnings('ignore', message=message,
                                    category=category)
        yield
