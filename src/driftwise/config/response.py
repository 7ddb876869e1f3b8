"""The automated response of a Monitor configuration: named ``actions`` that alert rules
bind (``alerts[].actions``) and the retraining ``policy`` a rule can ask to decide
(``alerts[].policy: true``). The service runs them when the rule's alert opens, once per
incident (docs/response.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from driftwise.config._model import StrictModel

if TYPE_CHECKING:  # driftwise.act imports this package's monitor config: no cycle at run time
    from driftwise.act.actions import ActionSpec
    from driftwise.act.policy import RetrainPolicy

__all__ = ["RESPONSE_KINDS", "ActionConfig", "PolicyConfig"]

#: The kinds of action: the four of ``driftwise.act.actions`` and the two blocks that
#: ``/screen`` enforces (every record of a client key, or of a segment, is quarantined).
RESPONSE_KINDS = ("webhook", "flag_file", "flag_http", "command", "block_client",
                  "block_segment")
Seconds = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
Scalar = str | int | float | bool


class ActionConfig(StrictModel):
    """One response action (``actions[]``).

    ``block_client`` blocks the client keys named in ``client_keys``, or, without them, the
    keys the incident's evidence names (those ``/screen`` quarantined for probing during
    the window that opened the alert); ``block_segment`` blocks the records whose features
    equal every value of ``segment``. A block lasts ``duration_s`` (one day by default)
    unless lifted earlier.
    """

    name: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]
    kind: Literal[RESPONSE_KINDS]  # type: ignore[valid-type]
    url: str | None = None
    method: Literal["PUT", "POST", "PATCH"] = "PUT"
    headers: dict[str, str] = Field(default_factory=dict)
    flag: str | None = None
    value: Any = True
    path: str | None = None
    argv: list[str] = Field(default_factory=list)
    timeout_s: Annotated[float, Field(gt=0.0, le=600.0)] = 10.0
    retries: Annotated[int, Field(ge=0, le=10)] = 2
    backoff_s: Annotated[float, Field(ge=0.0, le=60.0)] = 0.5
    dry_run: bool = False
    client_keys: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = None
    segment: dict[str, Scalar] | None = None
    duration_s: Seconds = 86_400.0

    @model_validator(mode="after")
    def _complete(self) -> ActionConfig:
        if self.kind == "block_segment" and not self.segment:
            raise ValueError(f"action {self.name!r} (block_segment) needs segment: "
                             "{column: value, ...}")
        if self.kind != "block_segment" and self.segment is not None:
            raise ValueError(f"action {self.name!r}: segment is for block_segment actions")
        if self.kind != "block_client" and self.client_keys is not None:
            raise ValueError(f"action {self.name!r}: client_keys is for block_client actions")
        if not self.is_block:
            self.spec()  # the action's own checks (url scheme, what each kind needs)
        return self

    @property
    def is_block(self) -> bool:
        """Whether ``/screen`` enforces it (a block), rather than a call out."""
        return self.kind in ("block_client", "block_segment")

    def spec(self) -> ActionSpec:
        """The call-out action to run (not for blocks)."""
        from driftwise.act.actions import ActionSpec
        from driftwise.errors import ConfigError

        try:
            return ActionSpec(name=self.name, kind=self.kind, url=self.url,
                              method=self.method, headers=dict(self.headers), flag=self.flag,
                              value=self.value, path=self.path, argv=tuple(self.argv),
                              timeout_s=self.timeout_s, retries=self.retries,
                              backoff_s=self.backoff_s, dry_run=self.dry_run)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None

    def described(self) -> dict[str, Any]:
        """What the action is, for the incident trail (header values left out: they often
        hold a token)."""
        out = self.model_dump(exclude_none=True, exclude={"headers"})
        if self.headers:
            out["headers"] = sorted(self.headers)
        return out


class PolicyConfig(StrictModel):
    """The retraining decision (``policy``; driftwise.act.policy): when a rule that says
    ``policy: true`` opens an alert, the window's evidence decides none, recalibrate or
    retrain, and the actions listed for the decision run.

    Losses are measured on ``metric`` (a performance metric of the model's task) against
    its value on the reference (computed when the Monitor is fitted, from the reference's
    labels), realized when the window has ``min_labels_recalibrate`` labels, else estimated
    (CBPE); the AUC drop uses ``roc_auc`` the same way when the model has it.
    """

    metric: str = "accuracy"
    retrain_loss: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.05
    recalibrate_loss: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.01
    auc_drop: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.02
    ece_rise: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.03
    min_labels_recalibrate: Annotated[int, Field(ge=1)] = 200
    min_labels_retrain: Annotated[int, Field(ge=1)] = 1000
    # Retrain when the value lost against the reference (business_value, per its `per`
    # predictions) reaches this; unset: value does not enter the decision.
    value_loss: Annotated[float, Field(gt=0.0, allow_inf_nan=False)] | None = None
    recalibrate: list[str] = Field(default_factory=list)
    retrain: list[str] = Field(default_factory=list)

    @field_validator("metric", mode="after")
    @classmethod
    def _named(cls, value: str) -> str:
        if not value or "." in value:
            raise ValueError(f"policy.metric is a metric's name (e.g. accuracy, roc_auc), "
                             f"got {value!r}")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> PolicyConfig:
        self.thresholds()
        return self

    def thresholds(self) -> RetrainPolicy:
        """The decision's thresholds."""
        from driftwise.act.policy import RetrainPolicy
        from driftwise.errors import ConfigError

        try:
            return RetrainPolicy(
                retrain_loss=self.retrain_loss, recalibrate_loss=self.recalibrate_loss,
                auc_drop=self.auc_drop, ece_rise=self.ece_rise,
                min_labels_recalibrate=self.min_labels_recalibrate,
                min_labels_retrain=self.min_labels_retrain, value_loss=self.value_loss)
        except ConfigError as exc:
            raise ValueError(f"policy: {exc}") from None
