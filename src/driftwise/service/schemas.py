"""The API's bodies: Pydantic v2 models for every request and response."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from driftwise.app.records import BatchIn, LabelIn, LabelsIn, RecordIn

__all__ = [
    "BatchIn",
    "ConfigIn",
    "ErrorOut",
    "IngestOut",
    "LabelIn",
    "LabelsIn",
    "LabelsOut",
    "ModelIn",
    "ModelOut",
    "RecordIn",
    "ReferenceOut",
    "ResultsOut",
    "WindowDetail",
    "WindowOut",
]

ModelName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")]
Value = float | int | bool | None


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class ModelIn(_In):
    """Register a model: its name, task, column roles and Monitor configuration."""

    name: ModelName
    task: Literal["binary", "multiclass", "regression"] | None = Field(
        None, description="Overrides config.model.task.")
    columns: dict[str, Any] | None = Field(
        None, description="Column roles (features, prediction, probabilities, target, id, "
        "timestamp, segments): config.columns.")
    config: dict[str, Any] | None = Field(None, description="The Monitor configuration "
                                          "(docs/monitor.md).")


class ConfigIn(_In):
    """A new configuration version (its `model.name` is the model's)."""

    config: dict[str, Any]


class ModelOut(BaseModel):
    """A registered model."""

    name: str
    task: str
    created_at: float
    config_version: int
    reference_version: int
    records: int
    config: dict[str, Any]


class ReferenceOut(BaseModel):
    """A stored reference version."""

    version: int
    rows: int


class RefusalOut(BaseModel):
    """One record the server did not keep."""

    index: int
    id: str | None
    field: str
    reason: str


class IngestOut(BaseModel):
    """What happened to the records sent (accepted ones are durable)."""

    accepted: int
    duplicates: int
    refused: list[RefusalOut]


class LabelsOut(BaseModel):
    """Labels stored, ids with no record, refused labels."""

    stored: int
    unknown_ids: list[str]
    refused: list[RefusalOut]
    windows_to_recompute: list[int]


class WindowOut(BaseModel):
    """An evaluated window."""

    window: int
    label: str
    status: str
    rows: int
    seq_range: list[int] | None
    time_range: list[float] | None
    config_version: int
    reference_version: int
    evaluated_at: float
    duration_s: float
    revision: int


class WindowDetail(WindowOut):
    """A window with every metric (newest revision) and its evidence."""

    metrics: dict[str, Value]
    evidence: dict[str, Any]


class MergedDriftOut(BaseModel):
    """Feature drift of a run of windows merged into one sample."""

    windows: list[int]
    report: dict[str, Any]


class ResultPoint(BaseModel):
    """One metric of one window."""

    window: int
    revision: int
    metric: str
    value: Value


class ResultsOut(BaseModel):
    """Metric values per window."""

    model: str
    results: list[ResultPoint]


class ErrorOut(BaseModel):
    """An error: what was wrong, and where when it is one field."""

    detail: str | list[Any]
    field: str | None = None


class SLOOut(BaseModel):
    """One SLO's standing: the objective, the compliance period and its error budget
    (docs/alerts.md)."""

    name: str
    metric: str
    objective: str
    target: float
    severity: str
    period_windows: int
    burn_windows: int
    windows: int
    good: int
    latest_window: int | None
    latest_value: float | None
    latest_met: bool | None
    compliance: float | None
    budget_consumed: float | None
    budget_remaining: float | None
    burn_rate: float | None
    alert_id: int | None


class SLOsOut(BaseModel):
    """A model's SLOs."""

    model: str
    slos: list[SLOOut]


class IncidentMember(BaseModel):
    """An alert in an incident: the incident's root, or a downstream model's alert that
    followed it (recorded, not paged)."""

    model: str
    alert_id: int
    role: str  # root | downstream
    joined_at: float


class IncidentOut(BaseModel):
    """One incident: an upstream model's alert and the downstream alerts it caused."""

    id: int
    root_model: str
    state: str  # open | resolved | merged (into ``merged_into``)
    opened_at: float
    updated_at: float
    models: list[str]
    members: list[IncidentMember]
    root_alert: dict[str, Any]
    merged_into: int | None = None


class FleetModel(BaseModel):
    """A model in the fleet's dependency graph and how it stands."""

    name: str
    upstream: list[str]
    downstream: list[str]
    state: str  # ok | warning | critical | no_data
    open_alerts: dict[str, int]
    last_window: int | None
    last_evaluated_at: float | None


class FleetOut(BaseModel):
    """The fleet: every model the key may read, with its dependencies, and the open
    incidents."""

    models: list[FleetModel]
    incidents: list[IncidentOut]


class AlertOut(BaseModel):
    """One alert: an incident of one rule (its lifecycle facts in ``alert``)."""

    model: str
    alert_id: int
    rule: str
    severity: str
    state: str  # open | resolved
    opened_at: float
    updated_at: float
    alert: dict[str, Any]


class AlertDetail(AlertOut):
    """An alert with its incident trail (every event, oldest first)."""

    events: list[dict[str, Any]]
    deliveries: list[dict[str, Any]] = []
    incident: dict[str, Any] | None = None  # id, role (root | downstream), root_model


class AlertActionIn(BaseModel):
    """Who acts on an alert; for a silence, until when (``until``, Unix time) or for how
    long (``for_s``)."""

    model_config = ConfigDict(extra="forbid")

    by: Annotated[str, Field(min_length=1, max_length=200)]
    until: Annotated[float, Field(allow_inf_nan=False)] | None = None
    for_s: Annotated[float, Field(gt=0, le=366 * 86_400, allow_inf_nan=False)] | None = None


class ScreenIn(_In):
    """Records to judge before the model answers them (the ingest record shape)."""

    records: list[RecordIn] = Field(min_length=1, max_length=10_000)


class VerdictOut(BaseModel):
    id: str | None
    verdict: Literal["allow", "review", "quarantine"]
    p_value: float
    score: float
    missing: int
    signals: list[Literal["outlier", "probing", "blocked"]] = Field(
        default_factory=list, description="What made the verdict quarantine.")


class ScreenOut(BaseModel):
    verdicts: list[VerdictOut]
    quarantined: int


class QuarantineOut(BaseModel):
    id: int
    record_id: str
    client_key: str | None
    state: Literal["held", "released", "discarded"]
    p_value: float
    created_at: float
    decided_at: float | None
    decided_by: str | None
    record: dict[str, Any]
    reason: dict[str, Any]


class QuarantineActionIn(_In):
    """Who releases or discards a quarantined record."""

    by: Annotated[str, Field(min_length=1, max_length=200)]


class IncidentReport(IncidentOut):
    """An incident's export: its trail (every event with who, what, why, when), the
    actions and their results, the impact while it lasted, and how it ended."""

    trail: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    impact: dict[str, Any]
    #: Per model, its latest alert-moving window in plain words (the root's first).
    explanations: list[dict[str, Any]] = []
    resolution: dict[str, Any] | None
    exported_at: float


class NoteIn(_In):
    """A person's note in an incident's trail (what they found, what they did)."""

    by: Annotated[str, Field(min_length=1, max_length=200)]
    text: Annotated[str, Field(min_length=1, max_length=10_000)]


class BlockIn(_In):
    """Block a client key, or a segment (feature values), at /screen: its records are
    quarantined until the block ends or is lifted."""

    by: Annotated[str, Field(min_length=1, max_length=200)]
    client_key: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    segment: dict[Annotated[str, Field(min_length=1, max_length=200)],
                  str | int | float | bool] | None = Field(None, min_length=1, max_length=50)
    duration_s: Annotated[float, Field(gt=0.0, le=366 * 86_400.0)] = 86_400.0
    reason: Annotated[str, Field(max_length=2_000)] = ""
    incident_id: Annotated[int, Field(ge=1)] | None = None

    @model_validator(mode="after")
    def _one_target(self) -> BlockIn:
        if (self.client_key is None) == (self.segment is None):
            raise ValueError("give exactly one of client_key and segment")
        return self


class LiftIn(_In):
    """Who lifts a block."""

    by: Annotated[str, Field(min_length=1, max_length=200)]


class BlockOut(BaseModel):
    id: int
    kind: Literal["client", "segment"]
    client_key: str | None
    segment: dict[str, Any] | None
    incident_id: int | None
    reason: dict[str, Any]
    created_at: float
    until: float
    lifted_at: float | None
    lifted_by: str | None
