"""Every Client call against a real ``driftwise serve`` (one server for the module's tests,
one model per test)."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from driftwise.client import ApiError, Client
from tests.conftest import free_port

COLUMNS = {"probabilities": "proba", "prediction": "pred", "target": "label"}
WINDOWS = {"windows": {"rows": 100, "min_rows": 50}}

Records = Callable[..., list[dict[str, Any]]]


def test_health_and_readiness(client: Client, live_server_session: str) -> None:
    assert client.healthy() and client.ready()
    client.wait_ready(5)
    assert client.url == live_server_session
    with Client(f"http://127.0.0.1:{free_port()}", timeout=2) as dead:
        assert not dead.healthy() and not dead.ready()
        with pytest.raises(TimeoutError, match="not ready"):
            dead.wait_ready(0.3)


def test_register_list_get_update_delete(client: Client, model_name: str) -> None:
    made = client.register_model(model_name, task="binary", columns=COLUMNS, config=WINDOWS)
    assert made["name"] == model_name and made["task"] == "binary"
    assert (made["config_version"], made["reference_version"], made["records"]) == (1, 0, 0)
    assert made["config"]["windows"] == WINDOWS["windows"]
    assert model_name in {m["name"] for m in client.models()}
    assert client.model(model_name) == made

    with pytest.raises(ApiError) as conflict:
        client.register_model(model_name, task="binary", columns=COLUMNS)
    assert conflict.value.status == 409 and "already registered" in str(conflict.value.detail)

    updated = client.update_config(model_name, {"windows": {"rows": 200, "min_rows": 50}})
    assert updated["config_version"] == 2
    assert updated["config"]["windows"]["rows"] == 200
    assert updated["config"]["columns"] == COLUMNS  # kept from the registration
    assert client.model(model_name)["config_version"] == 2

    client.delete_model(model_name)
    with pytest.raises(ApiError) as gone:
        client.model(model_name)
    assert gone.value.status == 404 and model_name in str(gone.value.detail)
    assert model_name not in {m["name"] for m in client.models()}


def test_reference_from_a_path_bytes_or_a_table(client: Client, model_name: str,
                                                reference: pa.Table, tmp_path: Path) -> None:
    client.register_model(model_name, task="binary", columns=COLUMNS, config=WINDOWS)
    parquet_path = tmp_path / "ref.parquet"
    pq.write_table(reference, parquet_path)
    csv_path = tmp_path / "ref.csv"
    pacsv.write_csv(reference, csv_path)
    sink = io.BytesIO()
    pq.write_table(reference.slice(0, 500), sink)
    uploads: list[Any] = [parquet_path, str(csv_path), sink.getvalue(),
                          csv_path.read_bytes(), reference.slice(0, 400),
                          reference.to_pandas()]
    for version, data in enumerate(uploads, start=1):
        answer = client.upload_reference(model_name, data)
        expected = {2: 500, 4: 400}.get(version - 1, reference.num_rows)
        assert answer == {"version": version, "rows": expected}, type(data)
    assert client.model(model_name)["reference_version"] == len(uploads)


def test_log_one_record_then_its_retry(client: Client, binary_model: str,
                                       make_records: Records) -> None:
    record = make_records(1, prefix="one-")[0]
    assert client.log(binary_model, record) == {"accepted": 1, "duplicates": 0,
                                                "refused": []}
    assert client.log(binary_model, record) == {"accepted": 0, "duplicates": 1,
                                                "refused": []}
    # NumPy values and a missing value (NaN: sent as null) are sent as JSON.
    numpy_record = {**record, "id": "one-numpy",
                    "features": {"a": np.float32(0.5), "b": np.nan, "c": np.str_("v")},
                    "probabilities": np.float64(0.7), "prediction": np.int64(1)}
    assert client.log(binary_model, numpy_record)["accepted"] == 1
    assert client.model(binary_model)["records"] == 2


def test_log_batch_as_json_arrow_and_parquet(client: Client, binary_model: str,
                                             make_records: Records) -> None:
    records = make_records(400, prefix="batch-")
    answers = [client.log_batch(binary_model, records[:100]),
               client.log_batch(binary_model, records[100:200], format="arrow"),
               client.log_batch(binary_model, records[200:300], format="parquet")]
    table = pa.Table.from_pylist([{"id": r["id"], **r["features"],
                                   "probabilities": r["probabilities"],
                                   "prediction": r["prediction"]} for r in records[300:]])
    answers.append(client.log_batch(binary_model, table, format="arrow"))
    assert [a["accepted"] for a in answers] == [100] * 4
    assert all(a["refused"] == [] for a in answers)
    # The same records again, in any format, are retries.
    again = client.log_batch(binary_model, records[:150], format="parquet")
    assert (again["accepted"], again["duplicates"]) == (0, 150)
    assert client.model(binary_model)["records"] == 400
    with pytest.raises(ValueError, match="format must be"):
        client.log_batch(binary_model, records[:1], format="csv")


def test_a_batch_keeps_good_records_and_names_the_bad(client: Client, binary_model: str,
                                                      make_records: Records) -> None:
    good, bad = make_records(2, prefix="mixed-")
    bad = {**bad, "features": {**bad["features"], "a": "not a number"}}
    answer = client.log_batch(binary_model, [good, bad])
    assert answer["accepted"] == 1
    assert [(r["index"], r["id"], r["field"]) for r in answer["refused"]] == [
        (1, "mixed-1", "features.a")]
    # Every record refused: an error that carries the answer.
    with pytest.raises(ApiError) as refused:
        client.log_batch(binary_model, [bad])
    assert refused.value.status == 422
    assert refused.value.detail["refused"][0]["field"] == "features.a"


def test_labels_windows_window_results(client: Client, binary_model: str,
                                       make_records: Records,
                                       make_labels: Callable[..., dict[str, int]]) -> None:
    records = make_records(300, prefix="w-")
    assert client.log_batch(binary_model, records)["accepted"] == 300
    windows = client.wait_windows(binary_model, 3, timeout=60)
    assert [w["window"] for w in windows[:3]] == [0, 1, 2]
    assert all(w["status"] == "ok" and w["rows"] == 100 for w in windows[:3])
    assert windows[0]["seq_range"] is not None and windows[0]["revision"] == 0
    assert client.windows(binary_model, limit=1, offset=1)[0]["window"] == 1

    first = client.window(binary_model, 0)
    assert first["rows"] == 100
    metrics = first["metrics"]
    assert 0.0 <= metrics["estimated.roc_auc"] <= 1.0
    assert metrics["ops.latency_ms.p99"] == pytest.approx(8.0)
    assert "drifted_columns" in first["evidence"]

    labels = make_labels(300, prefix="w-")
    window_zero = {k: labels[f"w-{i}"] for i, k in enumerate(labels) if i < 100}
    answer = client.labels(binary_model, {**window_zero, "no-such-record": 1})
    assert answer["stored"] == 100 and answer["unknown_ids"] == ["no-such-record"]
    assert answer["windows_to_recompute"] == [0]
    as_list = client.labels(binary_model, [{"id": "w-100", "label": labels["w-100"]}])
    assert as_list["stored"] == 1

    estimated = client.results(binary_model, prefix="estimated.")
    assert {p["window"] for p in estimated} >= {0, 1, 2}
    assert all(p["metric"].startswith("estimated.") for p in estimated)
    deadline = time.monotonic() + 60
    while True:  # the recomputation with the late labels is a new revision of window 0
        realized = client.results(binary_model, ["performance.roc_auc"], revisions=True)
        if any(p["window"] == 0 and p["revision"] >= 1 for p in realized):
            break
        assert time.monotonic() < deadline, realized
        time.sleep(0.1)
    point = next(p for p in realized if p["window"] == 0)
    assert 0.5 < point["value"] <= 1.0
    both = client.results(binary_model, ["performance.roc_auc", "estimated.roc_auc"])
    assert {p["metric"] for p in both} == {"performance.roc_auc", "estimated.roc_auc"}
    # since/until: windows by the time of their records (all of them are recent).
    assert client.results(binary_model, ["estimated.roc_auc"], since=time.time() + 3600) == []
    assert len(client.results(binary_model, ["estimated.roc_auc"],
                              since=time.time() - 3600)) >= 3


def test_wait_windows_gives_up(client: Client, binary_model: str) -> None:
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="0 of 1 windows"):
        client.wait_windows(binary_model, 1, timeout=0.3)
    assert time.monotonic() - started < 10


def test_errors_carry_status_and_detail(client: Client, model_name: str,
                                        reference: pa.Table, make_records: Records) -> None:
    with pytest.raises(ApiError) as unknown:
        client.windows("no-such-model")
    assert unknown.value.status == 404 and "no-such-model" in unknown.value.detail
    assert "404" in str(unknown.value) and "/v1/models/no-such-model/windows" in \
        str(unknown.value)

    with pytest.raises(ApiError) as invalid:  # a name the API does not accept
        client.register_model("bad name!", task="binary", columns=COLUMNS)
    assert invalid.value.status == 422 and invalid.value.field == "body.name"
    assert isinstance(invalid.value.detail, list) and invalid.value.detail[0]["loc"][-1] == \
        "name"
    with pytest.raises(ApiError) as bad_task:
        client.register_model(model_name, task="ranking", columns=COLUMNS)
    assert bad_task.value.status == 422

    client.register_model(model_name, task="binary", columns=COLUMNS, config=WINDOWS)
    record = make_records(1, prefix="err-")[0]
    with pytest.raises(ApiError) as early:  # no reference yet
        client.log(model_name, record)
    assert early.value.status == 409 and "no reference" in early.value.detail

    client.upload_reference(model_name, reference)
    wrong = {**record, "features": {**record["features"], "a": "x"}}
    with pytest.raises(ApiError) as refused:
        client.log(model_name, wrong)
    assert refused.value.status == 422 and refused.value.detail.startswith("features.a:")
    with pytest.raises(ApiError) as extra:
        client.log(model_name, {**record, "features": {**record["features"], "zz": 1}})
    assert extra.value.status == 422 and "not a feature" in extra.value.detail
    client.log(model_name, record)
    with pytest.raises(ApiError) as clash:  # the same id, another payload
        client.log(model_name, {**record, "probabilities": 0.01})
    assert clash.value.status == 409

    with pytest.raises(ApiError) as no_window:
        client.window(model_name, 7)
    assert no_window.value.status == 404 and "no evaluated window 7" in no_window.value.detail
    with pytest.raises(ApiError) as empty:
        client.upload_reference(model_name, pd.DataFrame({"a": []}))
    assert empty.value.status == 422
    with pytest.raises(ApiError) as bad_config:
        client.update_config(model_name, {"windows": {"rows": -1}})
    assert bad_config.value.status == 422


def test_screen_and_the_quarantine_queue(client: Client, model_name: str, reference: pa.Table,
                                         make_records: Records) -> None:
    client.register_model(model_name, task="binary", columns=COLUMNS, config={
        **WINDOWS, "checks": {"outliers": {"alpha": 0.02, "quarantine_alpha": 0.002}}})
    # 600 reference rows, 300 of them calibrate: no p-value can be below 1/301.
    with pytest.raises(ApiError, match=r"quarantine_alpha = 0.002 is below the smallest"):
        client.upload_reference(model_name, reference)
    client.update_config(model_name, {
        **WINDOWS, "checks": {"outliers": {"alpha": 0.02, "quarantine_alpha": 0.005}}})
    client.upload_reference(model_name, reference)
    ordinary = make_records(50, prefix="ok-")
    odd = {**make_records(1, prefix="odd-")[0], "client_key": "acct-1"}
    odd["features"] = {**odd["features"], "b": np.float64(55.0)}
    verdicts = client.screen(model_name, [*ordinary, odd])
    assert verdicts[-1]["verdict"] == "quarantine" and verdicts[-1]["id"] == "odd-0"
    assert sum(v["verdict"] == "quarantine" for v in verdicts[:-1]) <= 1
    assert client.screen(model_name, odd)[0]["verdict"] == "quarantine"  # one mapping
    held = [e for e in client.quarantine(model_name) if e["record_id"] == "odd-0"]
    assert len(held) == 1 and held[0]["client_key"] == "acct-1"
    released = client.release(model_name, held[0]["id"], by="ops")
    assert released["state"] == "released"
    assert client.model(model_name)["records"] == 1  # it entered the monitored stream
    with pytest.raises(ApiError) as err:
        client.discard(model_name, held[0]["id"], by="ops")
    assert err.value.status == 409
