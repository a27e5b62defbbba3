#!/usr/bin/env python
"""Print the runs under a work_dirs folder and the RM paper's result tables
they fill.

    python tools/analysis_tools/collect_results.py [--work-dirs work_dirs]
        [--tables 5 7 8 9] [--all-tables] [--metafiles configs]
        [--select last|best] [--out results.md]
    python tools/analysis_tools/collect_results.py --paper-only --tables 7

Reads every run folder under --work-dirs (``<run>/<timestamp>/vis_data/
scalars.json`` and the ``<timestamp>/<timestamp>.json`` of tools/test.py) and
prints, first, every run found with its result in the paper's units
(classification: top-1 / top-5 error; COCO AP and ADE20K mIoU in %), the
epoch or iteration it was evaluated at, and the table cells it filled or why
it was ignored; then the requested paper tables (Tables 1-5 classification,
7-8 COCO, 9 ADE20K) that at least one run fills, each cell "ours / paper
(ours - paper)", with the paper's numbers from the metafiles
(``configs/**/metafile.yml``). ``work_dirs/<config stem>`` fills the rows of
that config (``<config stem>-seed*`` are averaged with it). --all-tables
prints the requested tables also when no run fills them; --paper-only prints
the paper's numbers alone, as the docs show them.

The arguments are read before mmrm (and with it torch and the OpenMMLab
libraries) is imported, so --help and argument errors answer at once.
"""
import argparse
import os.path as osp
import sys


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('--work-dirs', default='work_dirs',
                        help='folder holding the run folders (one per config '
                        'stem, as tools/train.py creates them; default: '
                        'work_dirs)')
    parser.add_argument('--tables', nargs='+', default=['5', '7', '8', '9'],
                        metavar='N',
                        help='paper tables to consider (default: 5 7 8 9)')
    parser.add_argument('--all-tables', action='store_true',
                        help='print every requested table, also those that '
                        'no run fills')
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
    return parser, args


def main(argv=None):
    parser, args = parse_args(argv)
    from mmrm import report
    try:
        tables = report.check_tables(args.tables)
    except ValueError as e:
        parser.error(f'--tables: {e}')
    if args.paper_only:
        text = report.paper_tables(tables, args.metafiles)
    else:
        text = report.collect_results(args.work_dirs, tables,
                                      args.metafiles, args.select,
                                      all_tables=args.all_tables)
    sys.stdout.write(text)
    if args.out:
        with open(args.out, 'w', encoding='utf-8') as f:
            f.write(text)


if __name__ == '__main__':
    main()
