"""The downstream-transfer benchmark (docs/transfer.md)."""
