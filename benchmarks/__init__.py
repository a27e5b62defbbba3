"""mmrm's benchmarks (docs/analysis.md, docs/transfer.md)."""
