"""Write the Fashion-MNIST scenes of the transfer benchmark
(:mod:`mmrm.datasets.fmnist_scenes`: what a scene holds, the layout).

    python tools/dataset_converters/make_fmnist_scenes.py [--out data/fmnist_scenes]
        [--train 1000] [--val 500] [--size 128] [--seed 0]
        [--background-level 0.3] [--colour]
"""
import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='data/fmnist_scenes')
    parser.add_argument('--train', type=int, default=1000)
    parser.add_argument('--val', type=int, default=500)
    parser.add_argument('--size', type=int, default=128)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--fmnist-root', default='data/fashion_mnist')
    parser.add_argument('--colour', dest='grey', action='store_false',
                        help='keep the photographs in colour')
    parser.add_argument('--background-level', type=float, default=None,
                        help='photo intensities x this (1: as they are; '
                        'default: the benchmark\'s, 0.3)')
    args = parser.parse_args(argv)
    from mmrm.datasets.fmnist_scenes import BACKGROUND_LEVEL, make_scenes
    level = (BACKGROUND_LEVEL if args.background_level is None else
             args.background_level)
    params = make_scenes(args.out, args.train, args.val, args.size, args.seed,
                         args.fmnist_root, args.grey, level)
    print(f'{args.out}: {params}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
