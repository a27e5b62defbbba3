#!/usr/bin/env bash
# Put real Fashion-MNIST (Debian package `dataset-fashion-mnist`, 60k/10k 28x28
# images, 10 classes) where mmpretrain's FashionMNIST dataset reads it:
# data/fashion_mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte (unpacked).
# Installs the package with apt-get when it is missing (needs root or sudo).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEST="${1:-$ROOT/data/fashion_mnist}"
SRC=/usr/share/datasets/fashion-mnist
FILES=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

if [[ ! -f "$SRC/${FILES[0]}.gz" ]]; then
  echo "[prepare_fashion_mnist] installing Debian package dataset-fashion-mnist" >&2
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 || {
    $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q dataset-fashion-mnist >/dev/null; }
fi
mkdir -p "$DEST"
for f in "${FILES[@]}"; do
  if [[ ! -s "$DEST/$f" ]]; then
    gunzip -c "$SRC/$f.gz" > "$DEST/$f.tmp"
    mv -f "$DEST/$f.tmp" "$DEST/$f"
  fi
done
echo "$DEST"
