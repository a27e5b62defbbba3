"""Results of mmengine runs in the layout of the RecursiveMix paper's tables.

``collect_results(work_dirs, tables, metafile_roots, select)`` returns
markdown: one table per paper table (1-5: classification, 7-8: COCO,
9: ADE20K), each cell ``ours / paper (ours - paper)``; see
:mod:`mmrm.report.paper_tables`.
"""
from .metafile import MetafileEntry, load_entries, load_metafile, norm_key
from .runs import (Evaluation, last_metric, read_run_evaluations, read_scalars,
                   select_evaluation)
from .paper_tables import (TABLES, Column, TableSpec, build_table, collect_results,
                     format_cell, render_table)

__all__ = [
    'MetafileEntry', 'load_entries', 'load_metafile', 'norm_key', 'Evaluation',
    'read_run_evaluations', 'read_scalars', 'last_metric', 'select_evaluation', 'TABLES', 'Column',
    'TableSpec', 'build_table', 'collect_results', 'format_cell',
    'render_table'
]
