"""The text-drift example: the pandemic's vocabulary shows in the 2020 headlines."""

from __future__ import annotations

import pytest

from tests.conftest import load_example, needs_shared_data


@needs_shared_data
def test_march_2020_gains_coronavirus(capsys: pytest.CaptureFixture[str]) -> None:
    module = load_example("text_drift")
    assert module.main(["--no-embeddings"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[2:]}
    assert set(lines) == {f"2020-0{m}" for m in range(1, 8)}
    assert "DRIFT" in lines["2020-03"] and "coronavirus" in lines["2020-03"].split("  ")[-1]
    assert "lockdown" in lines["2020-05"]
