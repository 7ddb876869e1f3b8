"""A scikit-learn classifier served by FastAPI, monitored by driftwise through a middleware.

The model estimates the probability that a credit-card client defaults next month (the
Taiwan default data, UCI: ../shared/data/credit_default_taiwan) from the credit limit,
age, education, last month's repayment status, bill and payment: a logistic regression
over scaled numbers and a one-hot education. The clients are shuffled (the data have no
time order): 10,000 train the model, 5,000 with the model's outputs and the true outcome
are the service's reference, the rest are traffic. Without ../shared/data a synthetic set
(scikit-learn's ``make_classification``) with the same columns stands in.

``POST /predict`` takes one applicant (a Pydantic model) and answers the probability of
default and the decision. The endpoint only puts what it predicted on ``request.state``;
an HTTP middleware times the request and hands the record, with the request's W3C
``traceparent`` header, to a :class:`driftwise.client.ModelLogger`, which the app's
lifespan starts and closes (closing sends what is still queued). ``log()`` never blocks the
request and never raises into it: if driftwise is slow or down, predictions go on.
``POST /outcomes`` takes late outcomes (``[{"id": ..., "default": 0 or 1}]``) and sends
them through the same logger, so the service can put realized metrics beside the
label-free estimates it made when each window closed.

Run, from the repository root::

    driftwise serve --data-dir /tmp/driftwise-data &        # the service, on :8470
    .venv/bin/python examples/serving_fastapi/app.py         # registers, then serves :8000
    curl -s localhost:8000/predict -H 'content-type: application/json' -d '{"id": "a1",
        "LIMIT_BAL": 50000, "AGE": 35, "EDUCATION": "university", "PAY_0": 2,
        "BILL_AMT1": 42000, "PAY_AMT1": 1500}'

and read http://127.0.0.1:8470/v1/models/credit-default/windows (estimated ROC AUC,
accuracy, precision, recall and F1 per window, with no labels needed).
"""

from __future__ import annotations

import argparse
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from fastapi import FastAPI, Request, Response
from pydantic import BaseModel, Field
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from driftwise.client import ApiError, Client, ModelLogger

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1].parent / "shared" / "data" / "credit_default_taiwan" / \
    "default_credit_card_clients.csv"
MODEL = "credit-default"
# Column meanings from the UCI documentation of the data set.
NAMES = {"X1": "LIMIT_BAL", "X5": "AGE", "X3": "EDUCATION", "X6": "PAY_0",
         "X12": "BILL_AMT1", "X18": "PAY_AMT1", "Y": "default"}
EDUCATION = {1: "graduate school", 2: "university", 3: "high school"}  # else "other"
NUMERIC = ["LIMIT_BAL", "AGE", "PAY_0", "BILL_AMT1", "PAY_AMT1"]
FEATURES = [*NUMERIC, "EDUCATION"]
TARGET, PROBABILITY, DECISION = "default", "p_default", "predicted_default"
TRAIN_ROWS, REFERENCE_ROWS = 10_000, 5_000
COLUMNS = {"features": FEATURES, "probabilities": PROBABILITY, "prediction": DECISION,
           "target": TARGET}
CONFIG: dict[str, Any] = {"windows": {"rows": 500, "min_rows": 100}}


class Applicant(BaseModel):
    """One scoring request."""

    id: str | None = Field(None, max_length=200, description="default: a fresh id")
    LIMIT_BAL: float = Field(ge=0, description="credit limit (NT dollars)")
    AGE: float = Field(ge=18, le=120)
    EDUCATION: Literal["graduate school", "university", "high school", "other"]
    PAY_0: float = Field(description="repayment status last month (-2..8)")
    BILL_AMT1: float
    PAY_AMT1: float = Field(ge=0)


class Decision(BaseModel):
    """The model's answer."""

    id: str
    probability_of_default: float
    default: int


class Outcome(BaseModel):
    """What happened to a client scored earlier."""

    id: str
    default: Literal[0, 1]


def load_data() -> tuple[pd.DataFrame, str]:
    """Clients (features and outcome) in a random order, and where they came from."""
    if DATA.is_file():
        frame = pd.read_csv(DATA).rename(columns=NAMES)[[*FEATURES, TARGET]]
        source = f"Taiwan credit default ({DATA.name})"
    else:
        from sklearn.datasets import make_classification

        x, y = make_classification(n_samples=20_000, n_features=len(FEATURES),
                                   n_informative=4, weights=[0.78], random_state=0)
        frame = pd.DataFrame(x, columns=FEATURES)
        frame["LIMIT_BAL"] = np.round(np.exp(11.5 + frame["LIMIT_BAL"] / 2), -3)
        frame["AGE"] = np.clip(np.round(35 + 9 * frame["AGE"]), 21, 79)
        frame["PAY_AMT1"] = np.abs(frame["PAY_AMT1"]) * 5000
        frame["EDUCATION"] = pd.cut(frame["EDUCATION"], [-np.inf, -1, 0, 1, np.inf],
                                    labels=[1, 2, 3, 4]).astype(int)
        frame[TARGET] = y
        source = "synthetic (make_classification; ../shared/data is absent)"
    frame["EDUCATION"] = frame["EDUCATION"].map(EDUCATION).fillna("other")
    return frame.sample(frac=1.0, random_state=7).reset_index(drop=True), source


def train(frame: pd.DataFrame) -> tuple[Pipeline, pd.DataFrame, pd.DataFrame]:
    """The model, the reference (with the model's outputs and the truth), the traffic."""
    fit_rows = frame.iloc[:TRAIN_ROWS]
    prepare = ColumnTransformer([("numbers", StandardScaler(), NUMERIC),
                                 ("education", OneHotEncoder(handle_unknown="ignore"),
                                  ["EDUCATION"])])
    model = make_pipeline(prepare, LogisticRegression(max_iter=1000))
    model.fit(fit_rows[FEATURES], fit_rows[TARGET])
    reference = frame.iloc[TRAIN_ROWS:TRAIN_ROWS + REFERENCE_ROWS].reset_index(drop=True)
    reference[PROBABILITY] = model.predict_proba(reference[FEATURES])[:, 1]
    reference[DECISION] = (reference[PROBABILITY] >= 0.5).astype(int)
    traffic = frame.iloc[TRAIN_ROWS + REFERENCE_ROWS:].reset_index(drop=True)
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
        client.register_model(name, task="binary", columns=COLUMNS,
                              config=dict(config or CONFIG))
        found = {"reference_version": 0}
    if found["reference_version"]:
        return False
    client.upload_reference(name, reference)
    return True


def create_app(model: Pipeline, driftwise_url: str, name: str = MODEL,
               **logger_options: Any) -> FastAPI:
    """The FastAPI app; its lifespan owns the ModelLogger (``logger_options``: batching
    and retry settings of :class:`ModelLogger`)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.logger = ModelLogger(name, driftwise_url, **logger_options)
        try:
            yield
        finally:
            app.state.logger.close()  # sends what is still queued

    app = FastAPI(title=f"{name} scoring", lifespan=lifespan)

    @app.middleware("http")
    async def log_predictions(request: Request,
                              call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        record = getattr(request.state, "prediction", None)
        if record is not None:
            request.app.state.logger.log(
                record["id"], record["features"], probabilities=record["probability"],
                prediction=record["decision"], error=response.status_code >= 500,
                latency_ms=(time.perf_counter() - started) * 1000.0,
                traceparent=request.headers.get("traceparent"),
                client_key=request.headers.get("x-client-key"))
        return response

    @app.post("/predict")
    def predict(applicant: Applicant, request: Request) -> Decision:
        features = applicant.model_dump(exclude={"id"})
        p = float(model.predict_proba(pd.DataFrame([features], columns=FEATURES))[0, 1])
        rid = applicant.id or uuid.uuid4().hex
        request.state.prediction = {"id": rid, "features": features, "probability": p,
                                    "decision": int(p >= 0.5)}
        return Decision(id=rid, probability_of_default=p, default=int(p >= 0.5))

    @app.post("/outcomes")
    def outcomes(items: list[Outcome], request: Request) -> dict[str, int]:
        logger: ModelLogger = request.app.state.logger
        return {"queued": sum(logger.label(o.id, o.default) for o in items)}

    @app.get("/healthz")
    def healthz(request: Request) -> dict[str, Any]:
        return {"status": "alive", "logger": vars(request.app.state.logger.stats)}

    return app


def main(argv: Sequence[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--driftwise-url", default="http://127.0.0.1:8470")
    parser.add_argument("--model", default=MODEL, help="the name it is registered under")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    frame, source = load_data()
    model, reference, _ = train(frame)
    with Client(args.driftwise_url) as client:
        client.wait_ready(30)
        if ensure_registered(client, reference, args.model):
            print(f"registered {args.model} with {len(reference)} reference clients "
                  f"({source})", flush=True)
    uvicorn.run(create_app(model, args.driftwise_url, args.model), host=args.host,
                port=args.port)


if __name__ == "__main__":
    main()
