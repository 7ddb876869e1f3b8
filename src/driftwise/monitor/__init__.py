"""The Monitor: a declarative watch list for one model, run window by window."""

from driftwise.config.monitor import (
    AlertRule,
    MonitorConfig,
    load_monitor_config,
    parse_monitor_config,
)
from driftwise.monitor.monitor import Monitor
from driftwise.monitor.result import FiredAlert, MonitorResult

__all__ = [
    "AlertRule",
    "FiredAlert",
    "Monitor",
    "MonitorConfig",
    "MonitorResult",
    "load_monitor_config",
    "parse_monitor_config",
]
