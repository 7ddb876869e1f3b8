"""A scikit-learn regressor served by Flask, every prediction logged to driftwise.

The model predicts the day's maximum temperature at Offutt Air Force Base, Nebraska
(NOAA daily weather, 1949-1999: ../shared/data/weather_noaa_nebraska) from the day's dew
point, sea-level pressure, visibility and wind speeds. It is trained on the first 20 years;
the next 5 years, with the model's predictions and the true maxima, are the reference the
service compares traffic with; the years after that are the traffic. Without
../shared/data a synthetic regression set (scikit-learn's ``make_regression``) with the
same columns stands in.

``POST /predict`` takes the features as a JSON object (``{"dew_point": 41.2, ...}``;
an optional ``"id"``, else the ``X-Request-Id`` header, else a fresh one) and answers
``{"id": ..., "prediction": ...}``. Each request is handed to a
:class:`driftwise.client.ModelLogger` with its latency and its W3C ``traceparent`` header:
``log()`` only queues the record, a background thread sends batches to ``driftwise
serve``, so the request never waits for (or fails because of) the monitoring service.
A bad request (a feature missing or not a number) answers 400 and is logged as an error,
its unusable values as missing.

Run, from the repository root::

    driftwise serve --data-dir /tmp/driftwise-data &        # the service, on :8470
    .venv/bin/python examples/serving_flask/app.py           # registers, then serves :5000
    curl -s localhost:5000/predict -H 'content-type: application/json' \\
        -d '{"dew_point": 41, "sea_level_pressure": 1016, "visibility": 9, \\
             "avg_wind_speed": 8, "max_sustained_wind_speed": 14}'
    .venv/bin/python examples/serving_flask/app.py --replay 2000   # send real traffic

and read http://127.0.0.1:8470/v1/models/weather-max-temperature/windows.
``main()`` registers the model and uploads the reference through
:class:`driftwise.client.Client` when the service does not have them yet.
"""

from __future__ import annotations

import argparse
import math
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue
from sklearn.ensemble import GradientBoostingRegressor
from werkzeug.serving import make_server

from driftwise.client import ApiError, Client, ModelLogger

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1].parent / "shared" / "data" / "weather_noaa_nebraska" / \
    "weather_nebraska.csv"
MODEL = "weather-max-temperature"
FEATURES = ["dew_point", "sea_level_pressure", "visibility", "avg_wind_speed",
            "max_sustained_wind_speed"]
TARGET = "max_temperature"
PREDICTION = "predicted_max_temperature"
TRAIN_DAYS, REFERENCE_DAYS = 20 * 365, 5 * 365
#: Column roles and the Monitor configuration the model is registered with.
COLUMNS = {"features": FEATURES, "prediction": PREDICTION, "target": TARGET}
CONFIG: dict[str, Any] = {"windows": {"rows": 500, "min_rows": 100}}


def load_data() -> tuple[pd.DataFrame, str]:
    """The daily weather in time order (features and the target), and where it came from."""
    if DATA.is_file():
        return pd.read_csv(DATA)[[*FEATURES, TARGET]], f"NOAA weather ({DATA.name})"
    from sklearn.datasets import make_regression

    x, y = make_regression(n_samples=12_000, n_features=len(FEATURES), n_informative=4,
                           noise=8.0, random_state=0)
    frame = pd.DataFrame(x, columns=FEATURES)
    frame[TARGET] = 60.0 + y / 4.0
    return frame, "synthetic (make_regression; ../shared/data is absent)"


def train(frame: pd.DataFrame) -> tuple[GradientBoostingRegressor, pd.DataFrame,
                                        pd.DataFrame]:
    """The model (fitted on the first years), the reference (the next years with the
    model's predictions and the truth) and the later days as traffic."""
    fit_rows = frame.iloc[:TRAIN_DAYS]
    # Plain gradient boosting: one request's prediction needs no thread pool.
    model = GradientBoostingRegressor(n_estimators=100, max_depth=3, random_state=0)
    model.fit(fit_rows[FEATURES], fit_rows[TARGET])
    reference = frame.iloc[TRAIN_DAYS:TRAIN_DAYS + REFERENCE_DAYS].reset_index(drop=True)
    reference[PREDICTION] = model.predict(reference[FEATURES])
    traffic = frame.iloc[TRAIN_DAYS + REFERENCE_DAYS:].reset_index(drop=True)
    return model, reference, traffic


def ensure_registered(client: Client, reference: pd.DataFrame, name: str = MODEL,
                      config: Mapping[str, Any] | None = None) -> bool:
    """Register the model and upload its reference unless the service has them;
    ``True`` when something was sent."""
    try:
        found = client.model(name)
    except ApiError as exc:
        if exc.status != 404:
            raise
        client.register_model(name, task="regression", columns=COLUMNS,
                              config=dict(config or CONFIG))
        found = {"reference_version": 0}
    if found["reference_version"]:
        return False
    client.upload_reference(name, reference)
    return True


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or \
            not math.isfinite(value):
        return None
    return float(value)


def create_app(model: Any, logger: ModelLogger) -> Flask:
    """The Flask app: POST /predict, every request logged through ``logger``."""
    app = Flask(__name__)

    @app.post("/predict")
    def predict() -> ResponseReturnValue:
        started = time.perf_counter()
        body = request.get_json(silent=True)
        body = body if isinstance(body, dict) else {}
        rid = str(body.get("id") or request.headers.get("x-request-id") or uuid.uuid4().hex)
        values = {name: _number(body.get(name)) for name in FEATURES}
        bad = [name for name, value in values.items() if value is None]
        if bad:
            answer, status = {"id": rid, "error": f"{bad[0]}: expected a number"}, 400
            prediction = None
        else:
            row = pd.DataFrame([values], columns=FEATURES)
            prediction = float(model.predict(row)[0])
            answer, status = {"id": rid, "prediction": prediction}, 200
        logger.log(rid, values, prediction=prediction, error=bool(bad),
                   latency_ms=(time.perf_counter() - started) * 1000.0,
                   traceparent=request.headers.get("traceparent"),
                   client_key=request.headers.get("x-client-key"))
        return jsonify(answer), status

    @app.get("/healthz")
    def healthz() -> ResponseReturnValue:
        return jsonify({"status": "alive", "logger": vars(logger.stats)})

    return app


def replay(url: str, traffic: pd.DataFrame, rows: int) -> dict[str, str]:
    """Send ``rows`` days of traffic to a running app at ``url``, each request with a
    trace context of its own; returns the traceparent sent for each record id."""
    import httpx

    sent = {}
    with httpx.Client(base_url=url, timeout=10) as http:
        for i, row in traffic.head(rows).iterrows():
            rid, trace = f"day-{i}", f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"
            answer = http.post("/predict", json={"id": rid, **row[FEATURES].to_dict()},
                               headers={"traceparent": trace})
            answer.raise_for_status()
            sent[rid] = trace
    return sent


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--driftwise-url", default="http://127.0.0.1:8470")
    parser.add_argument("--model", default=MODEL, help="the name it is registered under")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--window-rows", type=int, default=CONFIG["windows"]["rows"],
                        help="records per evaluated window (when registering)")
    parser.add_argument("--replay", type=int, default=0, metavar="ROWS",
                        help="send ROWS days of traffic to the app on --port, then exit")
    args = parser.parse_args(argv)
    frame, source = load_data()
    model, reference, traffic = train(frame)
    if args.replay:
        replay(f"http://{args.host}:{args.port}", traffic, args.replay)
        return
    with Client(args.driftwise_url) as client:
        client.wait_ready(30)
        config = {"windows": {"rows": args.window_rows,
                              "min_rows": max(1, args.window_rows // 2)}}
        if ensure_registered(client, reference, args.model, config):
            print(f"registered {args.model} with {len(reference)} reference days "
                  f"({source})", flush=True)
    logger = ModelLogger(args.model, args.driftwise_url)
    # werkzeug's threaded server (what ``flask run`` uses); behind a production WSGI
    # server (gunicorn, uWSGI) create one logger per worker process, after the fork.
    server = make_server(args.host, args.port, create_app(model, logger), threaded=True)
    print(f"serving {args.model} on http://{args.host}:{server.port}/predict", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:  # Ctrl-C: what is queued is sent before the process ends
        server.server_close()
        logger.close()
        print(f"driftwise logger: {vars(logger.stats)}", flush=True)


if __name__ == "__main__":
    main()
