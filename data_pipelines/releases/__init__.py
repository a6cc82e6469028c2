"""Readers of datasets' files as released (JSON/JSONL/TSV/parquet, Hub copies, image folders).

Data builders turn their rows into records; benchmarks read the same rows and add only their
official prompt, scoring and aggregation. Nothing here imports the evaluation package.
"""
