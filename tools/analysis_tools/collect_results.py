#!/usr/bin/env python
"""Print the RM paper's result tables filled with your runs.

    python tools/analysis_tools/collect_results.py [--work-dirs work_dirs] [--tables 5 7 8 9]
        [--metafiles configs] [--select last|best] [--out results.md]

Reads ``work_dirs/<config stem>/<timestamp>/vis_data/scalars.json`` (and the
``<timestamp>/<timestamp>.json`` of tools/test.py) of every config listed in
the project's metafiles (``configs/**/metafile.yml``) and prints markdown
tables in the layout of paper Tables 1-5 (classification), 7-8 (COCO) and 9
(ADE20K), each cell "ours / paper (ours - paper)".
Missing runs show "—"; runs in ``work_dirs/<config stem>-seed*`` are averaged
with ``work_dirs/<config stem>``.
"""
import argparse
import sys

from mmrm.report import TABLES, collect_results


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dirs', default='work_dirs',
                        help='folder holding one folder per config stem')
    parser.add_argument('--tables', nargs='+', default=['5', '7', '8', '9'],
                        choices=sorted(TABLES), metavar='N',
                        help='paper tables to print (default: 5 7 8 9; '
                        f'available: {" ".join(sorted(TABLES))})')
    parser.add_argument('--metafiles', nargs='+', default=['configs'],
                        help='metafile.yml files or folders searched for them '
                        '(default: configs)')
    parser.add_argument('--select', choices=['last', 'best'], default='last',
                        help='which evaluation of a run to report: the last '
                        '(default) or the best by the table\'s first metric '
                        '(the paper reports the best epoch for CIFAR)')
    parser.add_argument('--out', help='also write the markdown to this file')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    text = collect_results(args.work_dirs, args.tables, args.metafiles,
                           args.select)
    sys.stdout.write(text)
    if args.out:
        with open(args.out, 'w', encoding='utf-8') as f:
            f.write(text)


if __name__ == '__main__':
    main()
