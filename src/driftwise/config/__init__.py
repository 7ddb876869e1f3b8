"""Every configuration of driftwise as strict Pydantic models, read from YAML or the
environment, with one JSON Schema.

* :class:`DriftSettings` — how columns are tested and drift decided;
* :class:`DriftConfig` — the drift configuration file (``driftwise report --config``);
* :class:`MonitorConfig` — what a Monitor watches for one model (``monitor.yaml``);
* :class:`ServiceSettings` — ``driftwise serve``, from ``DRIFTWISE_*`` variables;
* :class:`ReadOptions` — how CSV files are read.

Names are imported on first use, so that the detectors can use the base model without
importing the Monitor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from driftwise._lazy import lazy_attributes

if TYPE_CHECKING:
    from driftwise.config._yaml import read_yaml
    from driftwise.config.drift import DriftConfig, load_config, parse_config
    from driftwise.config.monitor import MonitorConfig, load_monitor_config, parse_monitor_config
    from driftwise.config.schema import config_schema, open_config
    from driftwise.config.settings import CommonSettings, ServiceSettings, load_settings
    from driftwise.data.csv import ReadOptions
    from driftwise.detect.settings import DriftSettings

_WHERE = {
    "CommonSettings": "driftwise.config.settings",
    "DriftConfig": "driftwise.config.drift",
    "DriftSettings": "driftwise.detect.settings",
    "MonitorConfig": "driftwise.config.monitor",
    "ReadOptions": "driftwise.data.csv",
    "ServiceSettings": "driftwise.config.settings",
    "config_schema": "driftwise.config.schema",
    "load_config": "driftwise.config.drift",
    "load_monitor_config": "driftwise.config.monitor",
    "load_settings": "driftwise.config.settings",
    "open_config": "driftwise.config.schema",
    "parse_config": "driftwise.config.drift",
    "parse_monitor_config": "driftwise.config.monitor",
    "read_yaml": "driftwise.config._yaml",
}

__all__ = [
    "CommonSettings",
    "DriftConfig",
    "DriftSettings",
    "MonitorConfig",
    "ReadOptions",
    "ServiceSettings",
    "config_schema",
    "load_config",
    "load_monitor_config",
    "load_settings",
    "open_config",
    "parse_config",
    "parse_monitor_config",
    "read_yaml",
]


__getattr__ = lazy_attributes(__name__, _WHERE, globals())
