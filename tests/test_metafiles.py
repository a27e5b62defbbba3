"""The paper's numbers have one source in the repository, the metafiles
(configs/**/metafile.yml), in the convention of mmrm/report/__init__.py:

- every cell of the report's paper tables is the paper's number
  (tests/data/paper_tables.csv) and every metafile number fills such a cell;
- the README's expected-numbers table agrees with the metafiles;
- the docs' tables of paper numbers are the output of
  ``collect_results.py --paper-only`` (regenerated here and compared).
"""
import csv
import fnmatch
import os.path as osp
import re

import pytest

from mmrm.report import TABLES, load_entries, norm_key, paper_tables

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = osp.join(ROOT, 'configs')
ENTRIES = load_entries([CONFIGS])
# The paper splits Table 4 into 4a (shared fc) and 4b (bilinear resize); the
# metafiles file both under 4, their default RM row being 4a's "unshared fc"
# and 4b's "nearest".
TABLE4 = {'rm': [('4a', 'rmunsharedfc'), ('4b', 'rmnearest')],
          'rmsharedfc': [('4a', 'rmsharedfc')],
          'rmbilinear': [('4b', 'rmbilinear')]}


def read_paper(path=osp.join(ROOT, 'tests', 'data', 'paper_tables.csv')):
    """{(table, model, backbone, regularizer, metric): value}, names
    normalised as the metafiles' (``norm_key``)."""
    with open(path, encoding='utf-8') as f:
        rows = list(csv.DictReader(
            line for line in f if not line.startswith('#')))
    return {(r['table'], norm_key(r['model']), norm_key(r['backbone']),
             norm_key(r['regularizer']), r['metric']): float(r['value'])
            for r in rows}


def paper_keys(table, method, backbone, regularizer, metric_key):
    """The CSV keys of one table cell (two for the default row of Table 4)."""
    model = 'classification' if int(table) <= 6 else norm_key(method)
    regs = TABLE4[norm_key(regularizer)] if table == '4' else [
        (table, norm_key(regularizer))]
    return [(t, model, norm_key(backbone), r, metric_key.split('/')[-1])
            for t, r in regs]


def test_every_table_cell_is_the_papers_number():
    paper = read_paper()
    checked = 0
    for number, spec in TABLES.items():
        for row in spec.rows:
            (entry, ) = [e for e in spec.entries(row, ENTRIES) if e.metrics]
            for col in spec.columns:
                for key in paper_keys(number, *row, col.key):
                    assert entry.metrics.get(col.key) == paper[key], (
                        entry.name, col.key, key)
                    checked += 1
    # Tables 1-5: 4 + 5 + 20 + 3 x (2 + 1 + 1) + 8 x 2; Tables 7-9:
    # 12 rows x (3 + 6 + 3)
    assert checked == 4 + 5 + 20 + 12 + 16 + 12 * 12


def test_every_metafile_number_fills_a_table_cell():
    cells = {(n, e.name, c.key) for n, spec in TABLES.items()
             for row in spec.rows for e in spec.entries(row, ENTRIES)
             for c in spec.columns}
    for entry in ENTRIES:
        assert entry.metrics or not entry.tables, entry.name
        for key in entry.metrics:
            assert any((t, entry.name, key) in cells for t in entry.tables), (
                entry.name, key)


def test_metafiles_refuse_accuracy(tmp_path):
    """One convention: a metafile giving accuracy instead of the paper's
    error is an error, not a silently empty cell."""
    from mmrm.report import load_metafile
    bad = tmp_path / 'metafile.yml'
    bad.write_text('Models:\n  - Name: x\n    Results:\n      - Metrics: '
                   '{accuracy/top1: 79.2}\n')
    with pytest.raises(ValueError, match='top1_err'):
        load_metafile(str(bad))


# --------------------------------------------------------------- README
README_METRICS = (('top-1 err', ['top1_err']),
                  ('box / mask AP', ['coco/bbox_mAP', 'coco/segm_mAP']),
                  ('box AP', ['coco/bbox_mAP']), ('mIoU', ['mIoU']))


def readme_rows():
    with open(osp.join(ROOT, 'README.md'), encoding='utf-8') as f:
        text = f.read()
    section = text.split('Expected (paper) numbers, ResNet-50:', 1)[1]
    lines = section.strip().split('\n\n', 1)[0].splitlines()
    header = [c.strip() for c in lines[0].strip('|').split('|')]
    assert header == ['task', 'config', 'baseline', 'CutMix', 'RM']
    return [[c.strip() for c in line.strip().strip('|').split('|')]
            for line in lines[2:]]


def test_readme_expected_numbers_agree_with_metafiles():
    rows = readme_rows()
    assert len(rows) == 7
    for task, config, *cells in rows:
        table = re.search(r'\(Table (\d+)\)', task).group(1)
        metrics = next(m for words, m in README_METRICS if words in task)
        pattern = config.strip('`')
        for regularizer, cell in zip(('baseline', 'cutmix', 'rm'), cells):
            (entry, ) = [e for e in ENTRIES if table in e.tables
                         and e.regularizer == regularizer
                         and fnmatch.fnmatch(e.config, pattern)]
            values = [float(v) for v in cell.split('/')]
            assert values == [entry.metrics[m] for m in metrics], (task,
                                                                  cell)


# ----------------------------------------------------------------- docs
DOC_BLOCK = re.compile(
    r'<!-- paper tables ([\d ]+), generated by .*?-->\n(.*?)'
    r'<!-- end of generated paper tables -->', re.S)


@pytest.mark.parametrize('doc', ['docs/results.md', 'docs/downstream.md'])
def test_docs_paper_tables_are_generated_from_metafiles(doc):
    with open(osp.join(ROOT, doc), encoding='utf-8') as f:
        text = f.read()
    blocks = DOC_BLOCK.findall(text)
    assert blocks, f'{doc} has no generated paper tables'
    for tables, content in blocks:
        expected = paper_tables(tables.split(), [CONFIGS])
        assert content.strip() == expected.strip(), (
            f'{doc}: tables {tables} differ from the metafiles; regenerate '
            'with python tools/analysis_tools/collect_results.py '
            f'--paper-only --tables {tables}')
