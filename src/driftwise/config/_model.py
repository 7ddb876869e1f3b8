"""The base of every driftwise configuration model, and its one-line error messages.

Every configuration (drift settings, the Monitor's, the service's) is a Pydantic model
with strict types (``'0.05'`` is not a number, ``1`` is not ``true``) that refuses unknown
keys. A validation failure becomes one :class:`~driftwise.errors.ConfigError` whose message
names the key path, what was expected and what was given::

    monitor.yaml: checks.feature_drift.alpha: expected a number, got '0.05'
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails

from driftwise._text import literal
from driftwise.errors import ConfigError

__all__ = ["StrictModel", "config_error", "signature_model", "validate", "validate_mapping"]

M = TypeVar("M", bound=BaseModel)


class StrictModel(BaseModel):
    """Strict types, no unknown keys, no NaN or infinity, immutable once validated."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False,
                              populate_by_name=True, validate_default=False)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise config_error(exc, type(self)) from None

    # Direct construction raises ConfigError; marking the override as the base __init__
    # keeps Pydantic from calling it for nested models, whose errors keep their key path.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]


def validate(model: type[M], data: Any, source: str | None = None) -> M:
    """``model`` validated from ``data``; any problem is one :class:`ConfigError`.

    ``source`` (a file name, ``"checks.stream[0].detector"``...) prefixes the message.
    """
    if data is None:
        data = {}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise config_error(exc, model, source) from None
    except ConfigError as exc:  # raised by a cross-field check inside a validator
        raise ConfigError(f"{source}: {exc}" if source else str(exc)) from None


def validate_mapping(model: type[M], data: Any, source: str) -> M:
    """:func:`validate` for a whole file's data, which must be a mapping (or empty)."""
    if data is not None and not isinstance(data, Mapping):
        raise ConfigError(f"{source}: top level: expected a mapping, got "
                          f"{type(data).__name__}")
    return validate(model, data, source)


def config_error(exc: ValidationError, model: type[BaseModel] | None = None,
                 source: str | None = None) -> ConfigError:
    """One ConfigError for a ValidationError: its first problem (and how many more)."""
    errors = exc.errors(include_url=False)
    first = describe(errors[0], model)
    more = f" (and {len(errors) - 1} more problem{'s' * (len(errors) > 2)})" \
        if len(errors) > 1 else ""
    return ConfigError((f"{source}: " if source else "") + first + more)


def key_path(loc: tuple[int | str, ...]) -> str:
    """``('checks', 'stream', 0, 'metric')`` -> ``checks.stream[0].metric``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "top level"


_EXPECTED = {
    "float_type": "a number", "float_parsing": "a number", "finite_number": "a finite number",
    "int_type": "an integer", "int_parsing": "an integer", "int_from_float": "an integer",
    "bool_type": "true or false", "bool_parsing": "true or false",
    "string_type": "a string", "list_type": "a list", "tuple_type": "a list",
    "set_type": "a list", "sequence_str": "a list of strings, not one string",
    "dict_type": "a mapping", "model_type": "a mapping", "model_attributes_type": "a mapping",
    "mapping_type": "a mapping", "dataclass_type": "a mapping", "none_required": "nothing",
}


def _given(value: Any) -> str:
    return literal(value, limit=60)


def describe(error: ErrorDetails, model: type[BaseModel] | None = None) -> str:
    """``<key path>: <what was wrong>``, in words a user can act on."""
    loc = tuple(error["loc"])
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if len(loc) >= 2 and loc[-1] == "[key]":  # a mapping key outside the allowed set
        where = key_path(loc[:-2])
        expected = ctx.get("expected")
        allowed = f" (expected one of {expected})" if expected else f" ({error['msg']})"
        return f"{where}: unknown key {_given(loc[-2])}{allowed}"
    where = key_path(loc)
    if kind == "extra_forbidden":
        known = _known_keys(model, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        listing = f" (known: {', '.join(known)})" if known else ""
        return f"{key_path(loc[:-1])}: unknown key {_given(loc[-1])}{hint}{listing}"
    if kind == "missing":
        return f"{where}: required, but missing"
    if kind == "literal_error":
        return f"{where}: expected one of {ctx.get('expected', '')}, got {_given(value)}"
    if kind in _EXPECTED:
        return f"{where}: expected {_EXPECTED[kind]}, got {_given(value)}"
    bounds = {"greater_than": "> {gt}", "greater_than_equal": ">= {ge}",
              "less_than": "< {lt}", "less_than_equal": "<= {le}"}
    if kind in bounds:
        whole = isinstance(value, int) and all(isinstance(v, int) for v in ctx.values())
        what = "an integer" if whole else "a number"
        return f"{where}: expected {what} {bounds[kind].format(**ctx)}, got {_given(value)}"
    if kind in ("too_short", "too_long"):
        return f"{where}: {error['msg'].lower()}"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        key = str(ctx.get("discriminator", "type")).strip("'")
        where = key_path((*loc, key))
        if kind == "union_tag_not_found":
            return f"{where}: required, but missing"
        return (f"{where}: expected one of {ctx.get('expected_tags', '')}, got "
                f"{_given(ctx.get('tag'))}")
    if kind in ("value_error", "assertion_error"):
        message = str(ctx.get("error", error["msg"]))
        return f"{where}: {message}" if loc else message
    return f"{where}: {error['msg']} (got {_given(value)})"


def _known_keys(model: type[BaseModel] | None, loc: tuple[int | str, ...]) -> list[str]:
    """The keys the model at ``loc`` accepts (aliases as written in YAML)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or current is None:
            current = _item_type(current)
            if isinstance(part, int):
                continue
        sub = _model_of(current)
        if sub is None:
            return []
        field = sub.model_fields.get(str(part))
        if field is None:
            field = next((f for f in sub.model_fields.values() if f.alias == part), None)
        if field is None:
            # A discriminated union member is addressed by its tag.
            current = _member(current, str(part))
            continue
        current = field.annotation
    sub = _model_of(current)
    if sub is None:
        return []
    return [f.alias or name for name, f in sub.model_fields.items()]


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _item_type(annotation: Any) -> Any:
    args = get_args(annotation)
    origin = get_origin(annotation)
    if origin is not None and args and origin not in (Mapping, dict):
        return args[0]
    return args[-1] if args else annotation


def _member(annotation: Any, tag: str) -> Any:
    for arg in get_args(annotation):
        for inner in (arg, *get_args(arg)):
            model = _model_of(inner)
            if model is not None and model.__name__ == tag:
                return model
            if model is not None and "type" in model.model_fields:
                literal_args = get_args(model.model_fields["type"].annotation)
                if tag in literal_args:
                    return model
    return None


def signature_model(name: str, target: Any, *, skip: tuple[str, ...] = (),
                    doc: str | None = None, **extra: Any) -> type[StrictModel]:
    """A strict model of the keyword parameters of ``target`` (a class or function).

    The parameters' annotations and defaults are the model's fields, so a configuration
    section of a detector accepts exactly that detector's parameters, typed as the
    detector declares them; ``extra`` adds fields (``name=(annotation, default)``).
    """
    import inspect
    import typing

    function = typing.cast(Any, target).__init__ if isinstance(target, type) else target
    hints = typing.get_type_hints(function)
    fields: dict[str, Any] = {}
    for param in inspect.signature(function).parameters.values():
        if param.name in ("self", *skip) or param.kind in (param.VAR_POSITIONAL,
                                                            param.VAR_KEYWORD):
            continue
        default = ... if param.default is param.empty else param.default
        fields[param.name] = (hints.get(param.name, Any), default)
    fields.update(extra)
    from pydantic import create_model

    model: type[StrictModel] = create_model(name, __base__=StrictModel, __doc__=doc,
                                            __module__=__name__, **fields)
    # Found by its name in this module, so that a configuration holding it pickles (the
    # service stores fitted Monitors, their configuration included, as pickles).
    if globals().setdefault(name, model) is not model:
        raise AssertionError(f"two configuration models named {name!r}")
    return model
