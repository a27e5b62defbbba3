"""The whole results report: first every run found under a work_dirs folder
with its result (in the paper's units) and the table cells it filled or why
it was ignored, then the paper tables that at least one run fills (all of
the requested ones with ``all_tables``).

A top-level run folder ``work_dirs/<stem>`` (or ``<stem>-seedN``, averaged
with it) fills the rows of the metafile entry named ``<stem>``; a run is
ignored, with its reason listed, when its name is no config's, its table was
not requested, it logged no evaluation of the table's metric, or it has not
finished (its dumped config plans more epochs / iterations than it
evaluated). Runs of project configs without paper numbers (the demos, the
pipeline demo, the Fashion-MNIST benchmark) are listed with their result.
"""
import glob
import os.path as osp
from typing import Dict, List, Optional, Sequence

from mmrm.utils.markdown import markdown_table

from .inventory import RunFolder, find_run_folders, unfinished
from .metafile import MetafileEntry, entry_run_name, load_entries
from .paper_tables import (MISSING, RESULT_COLUMNS, TABLES, RowResult,
                           TableSpec, check_tables, format_cell,
                           render_paper_table, render_table)
from .runs import Evaluation, select_evaluation

NOT_PAPER = 'not a paper configuration'
_UNITS = {'epoch': 'epoch', 'iter': 'iteration'}


def _project_configs(roots: Sequence[str]) -> set:
    """Stems of the config files under the metafile roots (no ``_base_``)."""
    stems = set()
    for root in roots:
        if osp.isdir(root):
            stems |= {osp.splitext(osp.basename(p))[0] for p in glob.glob(
                osp.join(root, '**', '*.py'), recursive=True)
                      if '_base_' not in p.split(osp.sep)}
    return stems


def _ignore_reason(run: RunFolder, entries: Dict[str, MetafileEntry],
                   configs: set, tables: Sequence[str]) -> Optional[str]:
    """Why ``run`` fills no table cell (None: it may fill some)."""
    entry = entries.get(run.stem) if run.top_level else None
    if entry is None:
        named = entries.get(run.config or '')
        if named is not None and named.metrics:
            return (f'ignored: its config `{run.config}` is a paper '
                    f'configuration, but only a folder named `{run.config}` '
                    f'(or `{run.config}-seedN`) directly under the work dirs '
                    'folder fills its table')
        name = run.config or run.stem
        if name in configs or name in entries:
            return NOT_PAPER
        return (f'ignored: unknown config name `{name}` (no metafile entry, '
                'no config file of that name)')
    if not entry.metrics:
        return NOT_PAPER
    wanted = [t for t in entry.tables if t in tables]
    if not wanted:
        return (f'ignored: paper table(s) {", ".join(entry.tables)} not '
                'requested (--tables)')
    key = TABLES[wanted[0]].columns[0].log_key
    if not any(key in e.metrics for e in run.evaluations):
        return f'ignored: no metric logged (no evaluation with `{key}`)'
    why = unfinished(run)
    return f'ignored: unfinished run ({why})' if why else None


def _row(spec: TableSpec, row, entry: MetafileEntry, runs: List[RunFolder],
         select: str, uses: Dict[str, List[str]]) -> RowResult:
    """One table row: the mean over ``runs`` (seeds) of each one's selected
    evaluation, next to the entry's paper values."""
    key = spec.columns[0].log_key
    chosen = []
    for run in runs:
        evaluation = select_evaluation(run.evaluations, key, select)
        if evaluation is not None:
            chosen.append(evaluation.metrics)
            uses[run.name].append(f'Table {spec.number}: '
                                  + ', '.join(spec.labels(*row)))
    cells = []
    for col in spec.columns:
        values = [v for v in (col.run_value(m) for m in chosen)
                  if v is not None]
        ours = sum(values) / len(values) if values else None
        cells.append(format_cell(ours, col.paper_value(entry.metrics),
                                 spec.precision))
    return RowResult(spec.labels(*row), cells, entry_run_name(entry),
                     len(chosen))


def build_table(spec: TableSpec, entries: Sequence[MetafileEntry],
                runs: Dict[str, List[RunFolder]], select: str,
                uses: Dict[str, List[str]]) -> List[RowResult]:
    """Rows of ``spec``: paper values from ``entries``, ours from the usable
    ``runs`` of each entry (by config stem); ``uses`` records which run
    filled what."""
    rows = []
    for row in spec.rows:
        matched = spec.entries(row, entries)
        if not matched:
            rows.append(RowResult(spec.labels(*row),
                                  [MISSING] * len(spec.columns), MISSING))
        for entry in matched:
            rows.append(_row(spec, row, entry,
                             runs.get(entry_run_name(entry), []), select,
                             uses))
    return rows


def _when(run: RunFolder, evaluation: Evaluation) -> str:
    """``'epoch 5'`` / ``'iteration 8000'`` (from the dumped config's loop),
    ``'test'`` for a tools/test.py result, else ``'step N'``."""
    if evaluation.kind == 'test' or evaluation.step is None:
        return 'test'
    unit = _UNITS.get(run.planned[0]) if run.planned else None
    return f'{unit or "step"} {evaluation.step}'


def run_result(run: RunFolder, select: str = 'last') -> str:
    """A run's result in the paper's units (classification: top-1 / top-5
    error; COCO AP and ADE20K mIoU in %) and when it was evaluated, e.g.
    ``'box AP 41.2 %, mask AP 35.5 % (test)'``."""
    shown = [c for c in RESULT_COLUMNS if any(
        c.log_key in e.metrics for e in run.evaluations)]
    if not shown:
        return 'no evaluation logged'
    evaluation = select_evaluation(run.evaluations, shown[0].log_key, select)
    parts = [f'{c.header} {c.run_value(evaluation.metrics):.2f} %'
             for c in shown if c.log_key in evaluation.metrics]
    return ', '.join(parts) + f' ({_when(run, evaluation)})'


def render_runs(work_dirs: str, runs: Sequence[RunFolder],
                uses: Dict[str, List[str]], select: str = 'last') -> str:
    """Every run found: its config, result and what it was used for."""
    if runs:
        listing = markdown_table(
            ['Run folder', 'Config dump', 'Result', 'Used for'], [
                [f'`{r.name}`', f'`{r.config}`' if r.config else MISSING,
                 run_result(r, select), '; '.join(uses[r.name])]
                for r in runs])
    else:
        listing = ('No run folder (a folder holding mmengine\'s '
                   '`<YYYYMMDD_HHMMSS>/` session folders) found.')
    return '\n'.join([
        f'### Runs found under `{work_dirs}`', '',
        f'Result: the {select} evaluation, in the paper\'s units '
        '(classification: top-1 / top-5 error; COCO AP and ADE20K mIoU '
        'in %).', '', listing]) + '\n'


def collect_results(work_dirs: str, tables: Sequence[str],
                    metafile_roots: Sequence[str],
                    select: str = 'last', all_tables: bool = False) -> str:
    """The whole report as markdown: every run found with its result and
    use, then each requested paper table that a run fills (every requested
    one with ``all_tables``), then notes (duplicate metafile entries,
    unreadable log lines).

    Raises:
        ValueError: unknown table. FileNotFoundError: no ``work_dirs``.
    """
    tables = check_tables(tables)
    notes: List[str] = []
    entries = load_entries(metafile_roots, notes)
    runs = find_run_folders(work_dirs, notes)
    by_name = {entry_run_name(e): e for e in entries}
    configs = _project_configs(metafile_roots)
    uses: Dict[str, List[str]] = {r.name: [] for r in runs}
    usable: Dict[str, List[RunFolder]] = {}
    for run in runs:
        reason = _ignore_reason(run, by_name, configs, tables)
        if reason:
            uses[run.name].append(reason)
        else:
            usable.setdefault(run.stem, []).append(run)
    filled = {n: build_table(TABLES[n], entries, usable, select, uses)
              for n in tables}
    for run in runs:
        if not uses[run.name]:
            uses[run.name].append('ignored: its metafile entry is no row of '
                                  'the requested tables')
    parts = [render_runs(work_dirs, runs, uses, select)]
    shown = [n for n in tables
             if all_tables or any(r.n_runs for r in filled[n])]
    parts += [render_table(TABLES[n], filled[n], select) for n in shown]
    if len(shown) < len(tables):
        empty = [n for n in tables if n not in shown]
        parts.append(f'Paper table(s) {", ".join(empty)}: no run fills them '
                     '(--all-tables prints them with the paper\'s numbers).'
                     '\n')
    unique_notes = list(dict.fromkeys(notes))
    if unique_notes:
        parts.append('Notes:\n\n' + '\n'.join(f'- {n}' for n in unique_notes)
                     + '\n')
    return '\n'.join(parts)


def paper_tables(tables: Sequence[str],
                 metafile_roots: Sequence[str]) -> str:
    """The requested tables with the paper's numbers only (as the docs
    show them), from the metafiles."""
    entries = load_entries(metafile_roots)
    return '\n'.join(render_paper_table(TABLES[n], entries)
                     for n in check_tables(tables))


__all__ = ['NOT_PAPER', 'build_table', 'collect_results', 'paper_tables',
           'render_runs', 'run_result']
