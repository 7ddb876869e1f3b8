"""One configuration file, two formats, one JSON Schema.

``driftwise report --config FILE`` takes a drift configuration (:class:`DriftConfig`) or a
Monitor configuration (:class:`MonitorConfig`, told apart by its ``model:`` section). The
file is read and validated once, here. :func:`config_schema` is the JSON Schema of both
(``driftwise config schema``; published as ``docs/config.schema.json``) so that an editor
can check ``monitor.yaml`` while it is written.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pydantic.json_schema import models_json_schema

from driftwise.config._yaml import read_yaml
from driftwise.config.drift import DriftConfig, parse_config
from driftwise.config.monitor import MonitorConfig, parse_monitor_config

__all__ = ["SCHEMA_ID", "config_schema", "open_config"]

SCHEMA_ID = "https://driftwise.dev/schema/config.schema.json"


def open_config(path: str | os.PathLike[str]) -> DriftConfig | MonitorConfig:
    """Read a configuration file once: a Monitor configuration when it has ``model:``."""
    data = read_yaml(path)
    source = os.fspath(path)
    if isinstance(data, Mapping) and "model" in data:
        return parse_monitor_config(data, source)
    return parse_config(data, source)


def config_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a driftwise configuration file."""
    refs, defs = models_json_schema([(MonitorConfig, "validation"),
                                     (DriftConfig, "validation")],
                                    ref_template="#/$defs/{model}")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "driftwise configuration",
        "description": "A Monitor configuration (with a `model` section, docs/monitor.md) "
                       "or a drift configuration (README, `driftwise report --config`).",
        "oneOf": [refs[(MonitorConfig, "validation")], refs[(DriftConfig, "validation")]],
        **defs,
    }
