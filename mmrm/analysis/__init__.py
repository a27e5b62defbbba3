"""Analysis helpers behind ``tools/analysis_tools`` and ``benchmarks``.

- :mod:`mmrm.analysis.effective_classes`: effective class number of mixed
  targets (paper Fig. 8) for Mixup, CutMix and RecursiveMix label streams.
- :mod:`mmrm.analysis.mixing`: consecutive mixed batches with their boxes and
  label weights, from the real RM preprocessor and mmpretrain's augments.
- :mod:`mmrm.analysis.mixing_grid`: the matplotlib grid that draws them.

The modules import mmpretrain lazily where they can, so ``import
mmrm.analysis`` stays cheap.
"""
