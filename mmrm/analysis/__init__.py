"""Analysis helpers behind ``tools/analysis`` and ``benchmarks``.

- :mod:`mmrm.analysis.effective_classes`: effective class number of mixed
  targets (paper Fig. 8) for Mixup, CutMix and RecursiveMix label streams.
- :mod:`mmrm.analysis.mixing`: consecutive mixed batches with their boxes and
  label weights, and the matplotlib grid that draws them.
- :mod:`mmrm.analysis.tables`: small markdown-table helpers.

The modules import mmpretrain lazily where they can, so ``import
mmrm.analysis`` stays cheap.
"""
