#!/usr/bin/env python
"""Print the RM paper's result tables filled with your runs.

    python tools/analysis_tools/collect_results.py [--work-dirs work_dirs]
        [--tables 5 7 8 9] [--metafiles configs] [--select last|best]
        [--out results.md]
    python tools/analysis_tools/collect_results.py --paper-only --tables 7

Reads every run folder under --work-dirs (``<run>/<timestamp>/vis_data/
scalars.json`` and the ``<timestamp>/<timestamp>.json`` of tools/test.py) and
prints markdown tables in the layout of paper Tables 1-5 (classification),
7-8 (COCO) and 9 (ADE20K), in the paper's units (see mmrm/report), each cell
"ours / paper (ours - paper)", with the paper's numbers from the metafiles
(``configs/**/metafile.yml``). ``work_dirs/<config stem>`` fills the rows of
that config (``<config stem>-seed*`` are averaged with it); then every run
found is listed with the cells it filled or why it was ignored, and the runs
of configs without paper numbers (demos, benchmarks) get a table of their
own. --paper-only prints the paper's numbers alone, as the docs show them.
"""
import argparse
import importlib.util
import os.path as osp
import sys


def import_report():
    """``mmrm.report`` without running ``mmrm/__init__.py`` when mmrm is not
    imported yet.

    ``import mmrm`` registers mmrm's models into mmpretrain, mmdet and mmseg,
    which imports torch and those libraries (about 15 s); the report needs
    none of them (the standard library and yaml). So the ``mmrm`` package
    object is created from its spec without executing its ``__init__``; that
    is enough to import its subpackages. Where mmrm is already imported (a
    process that trains, the tests) it is used as it is.
    """
    if 'mmrm' not in sys.modules:
        spec = importlib.util.find_spec('mmrm')
        if spec is None:
            raise SystemExit('collect_results: the mmrm package is not '
                             'installed (pip install -e . in the repository)')
        sys.modules['mmrm'] = importlib.util.module_from_spec(spec)
    import mmrm.report
    return mmrm.report


def parse_args(tables, argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dirs', default='work_dirs',
                        help='folder holding the run folders (one per config '
                        'stem, as tools/train.py creates them; default: '
                        'work_dirs)')
    parser.add_argument('--tables', nargs='+', default=['5', '7', '8', '9'],
                        choices=tables, metavar='N',
                        help=f'paper tables to print, of: {" ".join(tables)} '
                        '(default: 5 7 8 9)')
    parser.add_argument('--metafiles', nargs='+', default=['configs'],
                        help='metafile.yml files or folders searched for them '
                        '(default: configs)')
    parser.add_argument('--select', choices=['last', 'best'], default='last',
                        help='which evaluation of a run to report: the last '
                        '(default) or the best by the table\'s first metric '
                        '(the paper reports the best epoch for CIFAR)')
    parser.add_argument('--paper-only', action='store_true',
                        help='print the paper\'s numbers from the metafiles, '
                        'without runs (--work-dirs is not read)')
    parser.add_argument('--out', help='also write the markdown to this file')
    args = parser.parse_args(argv)
    if not args.paper_only and not osp.isdir(args.work_dirs):
        parser.error(f'--work-dirs {args.work_dirs!r}: no such folder')
    return args


def main(argv=None):
    report = import_report()
    args = parse_args(sorted(report.TABLES), argv)
    if args.paper_only:
        text = report.paper_tables(args.tables, args.metafiles)
    else:
        text = report.collect_results(args.work_dirs, args.tables,
                                      args.metafiles, args.select)
    sys.stdout.write(text)
    if args.out:
        with open(args.out, 'w', encoding='utf-8') as f:
            f.write(text)


if __name__ == '__main__':
    main()
