"""Results of mmengine runs next to the RecursiveMix paper's numbers.

Convention (one per table, the paper's): Tables 1-6 (classification) give
the top-1 / top-5 **error** in %, metafile keys ``top1_err`` / ``top5_err``;
Tables 7-8 (COCO) give AP in %, Table 9 (ADE20K) mIoU / mAcc / aAcc in %,
under the keys mmengine logs (``coco/bbox_mAP``, ..., ``mIoU``). The
metafiles (``configs/**/metafile.yml``) hold the paper's numbers in this
convention and are their only source in the repository; runs log accuracy
(mmpretrain, %), AP as a fraction (mmdet) and mIoU in % (mmseg), converted
here (``100 - accuracy``, ``100 x AP``).

``collect_results(work_dirs, tables, metafile_roots, select)`` returns the
markdown report (:mod:`mmrm.report.collect`); ``paper_tables(tables,
metafile_roots)`` the paper's numbers alone, as the docs show them. The
report itself uses only the standard library and yaml.
"""
from .collect import build_table, collect_results, paper_tables
from .inventory import RunFolder, find_run_folders, planned_length, unfinished
from .metafile import MetafileEntry, load_entries, load_metafile, norm_key
from .paper_tables import (TABLES, Column, TableSpec, check_tables,
                           format_cell, render_paper_table, render_table)
from .runs import (Evaluation, last_metric, read_run_evaluations, read_scalars,
                   select_evaluation)

__all__ = [
    'MetafileEntry', 'load_entries', 'load_metafile', 'norm_key', 'Evaluation',
    'read_run_evaluations', 'read_scalars', 'last_metric', 'select_evaluation',
    'RunFolder', 'find_run_folders', 'planned_length', 'unfinished', 'TABLES',
    'Column', 'TableSpec', 'check_tables', 'build_table', 'collect_results',
    'paper_tables', 'format_cell', 'render_table', 'render_paper_table'
]
