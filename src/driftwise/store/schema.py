"""The store's tables (SQLAlchemy Core). Migrations in ``migrations/`` create exactly these.

Layout, chosen for ingest speed: records arrive in batches and are kept as one compressed
Arrow IPC blob per accepted batch (``batches``), beside a narrow index of record ids
(``records``: id, arrival sequence number, timestamp, payload digest). A batch of 1,000
records is then one blob insert and one multi-row insert of short index rows, instead of
1,000 wide ORM rows; a window is read back as a few blobs, sliced by sequence number.
Times are UTC epoch seconds (float) so SQLite and PostgreSQL compare them the same way.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

#: Auto-incrementing 64-bit key (SQLite only auto-increments INTEGER PRIMARY KEY).
Key = BigInteger().with_variant(Integer(), "sqlite")


def _model_fk() -> Column[int]:
    return Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"),
                  primary_key=True)


models = Table(
    "models", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("task", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("config_version", Integer, nullable=False),
    Column("reference_version", Integer, nullable=False, default=0),
    # Records accepted so far: the next record's arrival sequence number.
    Column("next_seq", BigInteger, nullable=False, default=0),
    Column("max_ts", Float),
)

model_configs = Table(
    "model_configs", metadata, _model_fk(),
    Column("version", Integer, primary_key=True),
    Column("config", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

reference_sets = Table(
    "reference_sets", metadata, _model_fk(),
    Column("version", Integer, primary_key=True),
    Column("created_at", Float, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("features", Text, nullable=False),
    Column("data", LargeBinary, nullable=False),
)

# A Monitor fitted once per (config version, reference version) and kept.
fitted_monitors = Table(
    "fitted_monitors", metadata, _model_fk(),
    Column("config_version", Integer, primary_key=True),
    Column("reference_version", Integer, primary_key=True),
    Column("driftwise_version", String(32), nullable=False),
    Column("blob", LargeBinary, nullable=False),
)

batches = Table(
    "batches", metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("seq_start", BigInteger, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("min_ts", Float, nullable=False),
    Column("max_ts", Float, nullable=False),
    Column("received_at", Float, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Index("ix_batches_seq", "model_id", "seq_start"),
    Index("ix_batches_ts", "model_id", "min_ts"),
)

records = Table(
    "records", metadata, _model_fk(),
    Column("record_id", String(200), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("ts", Float, nullable=False),
    Column("digest", String(32), nullable=False),
    Column("window", Integer),
    Index("ix_records_seq", "model_id", "seq"),
    Index("ix_records_ts", "model_id", "ts"),
)

labels = Table(
    "labels", metadata, _model_fk(),
    Column("record_id", String(200), primary_key=True),
    Column("value", Text, nullable=False),
    Column("received_at", Float, nullable=False),
)

# Where evaluation of a model stands, and who holds it (a lease, so that several servers
# on one database never evaluate one window twice and a dead server's claim expires).
cursors = Table(
    "cursors", metadata, _model_fk(),
    Column("next_window", Integer, nullable=False, default=0),
    Column("next_seq", BigInteger, nullable=False, default=0),
    Column("next_start", Float),
    Column("config_version", Integer),
    Column("reference_version", Integer),
    Column("state", Text, nullable=False, default="{}"),
    Column("lease_owner", String(64)),
    Column("lease_until", Float, nullable=False, default=0.0),
    # The alert lifecycle's state (driftwise.act.lifecycle.AlertState as JSON), advanced
    # in the transaction that stores each window and by the human actions.
    Column("alerting", Text, nullable=False, default="{}", server_default="{}"),
)

windows = Table(
    "windows", metadata, _model_fk(),
    Column("seq", Integer, primary_key=True),
    Column("label", String(64), nullable=False),
    Column("status", String(24), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("seq_lo", BigInteger),
    Column("seq_hi", BigInteger),
    Column("start_ts", Float),
    Column("end_ts", Float),
    Column("config_version", Integer, nullable=False),
    Column("reference_version", Integer, nullable=False),
    Column("evaluated_at", Float, nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("revision", Integer, nullable=False, default=0),
    Column("labels_dirty", Boolean, nullable=False, default=False),
    Column("evidence", Text, nullable=False),
    Index("ix_windows_dirty", "labels_dirty"),
)

# One row per evaluated window whose Monitor compares features: the window's profile on
# the reference's grids (driftwise.detect.engine.window_profile, without the edges), so any
# run of windows merges into one profile and compares as one sample (docs/scale.md).
window_profiles = Table(
    "window_profiles", metadata, _model_fk(),
    Column("window", Integer, primary_key=True),
    Column("reference_version", Integer, nullable=False),
    Column("profile", LargeBinary, nullable=False),
)

# One row per metric, window and revision: revision 0 is the evaluation when the window
# closed (estimated performance among it); later revisions hold the label-dependent
# metrics recomputed when late labels arrived. Nothing is overwritten.
results = Table(
    "results", metadata, _model_fk(),
    Column("window", Integer, primary_key=True),
    Column("revision", Integer, primary_key=True),
    Column("metric", String(300), primary_key=True),
    Column("value", Float),
    Column("kind", String(1), nullable=False),
    Index("ix_results_metric", "model_id", "metric", "window"),
)

api_keys = Table(
    "api_keys", metadata,
    Column("id", String(16), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("scopes", String(64), nullable=False),
    Column("models", Text),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float),
)

# One row per alert (an incident of one rule): its lifecycle facts as JSON (``body``: the
# Alert's to_dict), and the columns it is looked up by.
alerts = Table(
    "alerts", metadata, _model_fk(),
    Column("alert_id", Integer, primary_key=True),
    Column("rule", String(200), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("state", String(16), nullable=False),  # open | resolved
    Column("opened_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("body", Text, nullable=False),
    Index("ix_alerts_state", "state", "severity"),
)

# Everything that happened to an alert, in order: the incident trail.
alert_events = Table(
    "alert_events", metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("alert_id", Integer, nullable=False),
    Column("kind", String(24), nullable=False),
    Column("window", Integer, nullable=False),
    Column("at", Float, nullable=False),
    Column("notify", Boolean, nullable=False),
    Column("body", Text, nullable=False),
    Index("ix_alert_events_alert", "model_id", "alert_id", "id"),
)

# Alert deliveries waiting, done or given up (one per notifying event and route), written
# in the transaction that produced the event, so an event is never lost between the store
# and a receiver that is down; and every attempt made.
outbox = Table(
    "outbox", metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("alert_id", Integer, nullable=False),
    Column("route", String(64), nullable=False),
    Column("body", Text, nullable=False),  # the event and the alert, as JSON
    Column("created_at", Float, nullable=False),
    Column("status", String(16), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float, nullable=False),
    Column("lease_until", Float, nullable=False, default=0.0),
    Column("delivered_at", Float),
    Column("last_error", Text),
    Index("ix_outbox_due", "status", "next_attempt_at"),
    Index("ix_outbox_alert", "model_id", "alert_id"),
)

delivery_attempts = Table(
    "delivery_attempts", metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("outbox_id", BigInteger().with_variant(Integer(), "sqlite"),
           ForeignKey("outbox.id", ondelete="CASCADE"), nullable=False),
    Column("at", Float, nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("status_code", Integer),
    Column("error", Text),
    Index("ix_delivery_attempts_outbox", "outbox_id"),
)

# Dashboard sign-ins: a session cookie's token, or a one-time login link, each stored as a
# SHA-256 digest and tied to the API key it stands for (``key_id`` NULL: the service's
# DRIFTWISE_API_KEY). A link is spent (``used_at``) by the first request that presents it.
sessions = Table(
    "sessions", metadata,
    Column("id", String(16), primary_key=True),
    Column("hash", String(64), nullable=False),
    Column("key_id", String(16)),
    Column("kind", String(8), nullable=False),  # session | link
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("used_at", Float),
    Index("ix_sessions_expiry", "expires_at"),
)

# The fleet's incidents: an alert on a model opens one unless an alert of one of its
# upstream models opened shortly before, in which case it joins that one (DESIGN job 8).
incidents = Table(
    "incidents", metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("root_model", String(200), nullable=False),
    Column("state", String(16), nullable=False),  # open | resolved
    Column("opened_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("body", Text, nullable=False),
    Index("ix_incidents_state", "state", "opened_at"),
)

# Which alerts an incident holds (an alert belongs to one incident).
incident_alerts = Table(
    "incident_alerts", metadata,
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"),
           primary_key=True),
    Column("alert_id", Integer, primary_key=True),
    Column("incident_id", BigInteger().with_variant(Integer(), "sqlite"),
           ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    Column("role", String(16), nullable=False),  # root | downstream
    Column("joined_at", Float, nullable=False),
    Index("ix_incident_alerts_incident", "incident_id"),
)

# Records held back by /screen: outlying inputs (or those of a probing client) kept with the
# reason until a person releases them into the monitored stream or discards them.
quarantine = Table(
    "quarantine", metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("record_id", String(200), nullable=False),
    Column("client_key", String(200)),
    Column("state", String(16), nullable=False),  # held | released | discarded
    Column("p_value", Float, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("decided_at", Float),
    Column("decided_by", String(200)),
    Column("record", Text, nullable=False),  # the record as sent (JSON)
    Column("reason", Text, nullable=False),  # the verdict's evidence (JSON)
    UniqueConstraint("model_id", "record_id", name="uq_quarantine_record"),
    Index("ix_quarantine_state", "model_id", "state", "created_at"),
)

# The incident trail: append-only, one row per thing that happened to an incident (opened,
# an alert joined, an action queued or finished, a decision, a block, a note, resolved);
# ``actor`` says who (``driftwise`` or the person behind an API key).
incident_events = Table(
    "incident_events", metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("incident_id", BigInteger().with_variant(Integer(), "sqlite"),
           ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    Column("at", Float, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Index("ix_incident_events_incident", "incident_id", "id"),
)

# The response actions an incident's alerts asked for: one row per (incident, action), so
# an action runs at most once per incident whatever re-fires; leased by one runner at a time.
response_actions = Table(
    "response_actions", metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("incident_id", BigInteger().with_variant(Integer(), "sqlite"),
           ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("alert_id", Integer, nullable=False),
    Column("window", Integer, nullable=False),
    Column("action", String(100), nullable=False),
    Column("spec", Text, nullable=False),  # the action's configuration when queued (JSON)
    Column("why", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending | done | failed | dry_run | ...
    Column("attempts", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("lease_until", Float, nullable=False),
    Column("finished_at", Float),
    Column("result", Text),
    UniqueConstraint("incident_id", "action", name="uq_response_action"),
    Index("ix_response_actions_due", "status", "lease_until"),
)

# Client keys and segments /screen quarantines outright (a response action's block), until
# ``until`` or until lifted by hand.
blocks = Table(
    "blocks", metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),  # client | segment
    Column("client_key", String(200)),
    Column("segment", Text),  # {column: value} (JSON)
    Column("incident_id", BigInteger().with_variant(Integer(), "sqlite"),
           ForeignKey("incidents.id", ondelete="SET NULL")),
    Column("reason", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("until", Float, nullable=False),
    Column("lifted_at", Float),
    Column("lifted_by", String(200)),
    Index("ix_blocks_model", "model_id", "until"),
)
