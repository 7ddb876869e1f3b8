"""Evidently's data-drift preset on a reference/current Parquet pair (the anchor).

Usage: python benchmarks/anchors/evidently_drift.py REFERENCE.parquet CURRENT.parquet OUT.json

Runs with the interpreter of benchmarks/.venv-anchors (Evidently 0.7 API). Both files are
read with pandas; the column types are declared from the Parquet schema (floating and
integer columns numerical, the rest categorical) so that Evidently spends no time guessing
them. Evidently picks its default test per column. The whole result (Evidently's own
snapshot serialisation) is written to OUT.json.
"""

from __future__ import annotations

import sys

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset


def data_definition(path: str) -> DataDefinition:
    schema = pq.read_schema(path)
    numerical = [
        f.name for f in schema if pa.types.is_integer(f.type) or pa.types.is_floating(f.type)
    ]
    categorical = [f.name for f in schema if f.name not in numerical]
    return DataDefinition(numerical_columns=numerical, categorical_columns=categorical)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    reference_path, current_path, out_path = argv
    definition = data_definition(reference_path)
    reference = Dataset.from_pandas(pd.read_parquet(reference_path), data_definition=definition)
    current = Dataset.from_pandas(pd.read_parquet(current_path), data_definition=definition)
    report = Report([DataDriftPreset()])
    snapshot = report.run(current_data=current, reference_data=reference)
    snapshot.save_json(out_path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
