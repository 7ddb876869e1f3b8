"""The report's multivariate, embeddings and text parts: which detector runs on what.

Configured by the ``multivariate:``, ``embeddings:`` and ``text:`` sections of the drift
configuration. Each section's keys are its detector's parameters, plus ``enabled`` (text and
embeddings run by default on every column of their kind; multivariate only when enabled)
and, for multivariate, ``columns``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import pyarrow as pa
from pydantic import BaseModel, BeforeValidator

from driftwise.config._model import signature_model
from driftwise.data import ColumnKind
from driftwise.detect.geometry.embeddings import (
    EmbeddingDrift,
    EmbeddingDriftDetector,
    skipped_embedding,
)
from driftwise.detect.geometry.multivariate import MultivariateDrift, MultivariateDriftDetector
from driftwise.detect.geometry.text import TextDrift, TextDriftDetector
from driftwise.errors import ConfigError, DriftwiseError

SECTIONS: dict[str, type] = {
    "multivariate": MultivariateDriftDetector,
    "embeddings": EmbeddingDriftDetector,
    "text": TextDriftDetector,
}


def _switch(value: Any) -> Any:
    """``true`` / ``false`` stand for ``{enabled: true|false}``."""
    return {"enabled": value} if isinstance(value, bool) else value


def _section_model(section: str) -> Any:
    model = signature_model(
        f"{section.title()}Section", SECTIONS[section], enabled=(bool, True),
        doc=f"The report's {section} part: the parameters of "
            f"{SECTIONS[section].__name__}, and `enabled`.")
    return Annotated[model | None, BeforeValidator(_switch,
                                                   json_schema_input_type=bool | model)]


#: The configuration models of the three sections (``true``/``false`` or a mapping).
MultivariateSection = _section_model("multivariate")
EmbeddingsSection = _section_model("embeddings")
TextSection = _section_model("text")


def section_values(section: BaseModel | None) -> dict[str, Any] | None:
    """The keys a user set in a section (the detectors' own defaults apply to the rest)."""
    return None if section is None else section.model_dump(exclude_unset=True)


def sections_of(config: Any) -> dict[str, dict[str, Any] | None]:
    """The multivariate, embeddings and text sections of a configuration model."""
    return {name: section_values(getattr(config, name)) for name in SECTIONS}


#: Report defaults that differ from the library's: sentence embeddings cost ~25 s on two
#: cores (model load and 1,000 texts), so a report runs them only when the text section
#: asks (``text: {embeddings: auto}`` or ``true``), on 500 texts per sample.
REPORT_DEFAULTS: dict[str, dict[str, Any]] = {"text": {"max_texts": 500, "embeddings": False}}
PROFILE_NOTE = ("the reference is a saved profile without a row sample (written with "
                "--no-rows, or by an earlier driftwise), so it keeps no {what}; re-create it "
                "with `driftwise profile`, or pass the reference data file")


def _detector_args(section: str, config: Mapping[str, Any] | None, alpha: float) -> (
    dict[str, Any]
):
    args = {"alpha": alpha, **REPORT_DEFAULTS.get(section, {}), **dict(config or {})}
    args.pop("enabled", None)
    return args


def _enabled(section: str, config: Mapping[str, Any] | None) -> bool:
    """An absent section: text and embeddings on, multivariate off; a present one: on."""
    if config is None:
        return section != "multivariate"
    return bool(config.get("enabled", True))


@dataclass
class GeometryParts:
    """The three parts of a report, as computed for one current sample."""

    multivariate: MultivariateDrift | None
    embeddings: tuple[EmbeddingDrift, ...]
    text: tuple[TextDrift, ...]


class GeometrySuite:
    """Fit the report's geometry detectors on a reference table; compare current tables."""

    def __init__(self, *, multivariate: Mapping[str, Any] | None = None,
                 embeddings: Mapping[str, Any] | None = None,
                 text: Mapping[str, Any] | None = None, alpha: float = 0.05) -> None:
        self.config = {"multivariate": multivariate, "embeddings": embeddings, "text": text}
        self.alpha = alpha

    def fit(self, table: pa.Table | None, kinds: Mapping[str, ColumnKind]) -> GeometrySuite:
        """``table`` is the reference, or a saved profile's row sample; None when the profile
        has none."""
        self.kinds_ = dict(kinds)
        self.from_profile_ = table is None
        self.embedding_ = {}
        self.text_ = {}
        self.multivariate_: MultivariateDriftDetector | None = None
        self.multivariate_error_: str | None = None
        if table is None:
            return self
        if _enabled("embeddings", self.config["embeddings"]):
            for name, kind in kinds.items():
                if kind == ColumnKind.EMBEDDING:
                    self.embedding_[name] = self._fit_one(
                        "embeddings", name, table.column(name))
        if _enabled("text", self.config["text"]):
            for name, kind in kinds.items():
                if kind == ColumnKind.TEXT:
                    self.text_[name] = TextDriftDetector(
                        **_detector_args("text", self.config["text"], self.alpha),
                    ).fit(table.column(name), name=name)
        if _enabled("multivariate", self.config["multivariate"]):
            try:
                self.multivariate_ = MultivariateDriftDetector(
                    **_detector_args("multivariate", self.config["multivariate"], self.alpha),
                ).fit(table)
            except TypeError as exc:
                raise ConfigError(f"multivariate: {exc}") from None
            except DriftwiseError as exc:
                self.multivariate_error_ = str(exc)
        return self

    def _fit_one(self, section: str, name: str, column: pa.ChunkedArray) -> (
        EmbeddingDriftDetector | str
    ):
        try:
            return EmbeddingDriftDetector(
                **_detector_args(section, self.config[section], self.alpha),
            ).fit(column, name=name)
        except TypeError as exc:
            raise ConfigError(f"{section}: {exc}") from None
        except DriftwiseError as exc:
            return f"not tested: {exc}"

    def compare(self, table: pa.Table) -> GeometryParts:
        """Run every fitted detector on the current table."""
        embeddings: list[EmbeddingDrift] = []
        texts: list[TextDrift] = []
        for name, kind in self.kinds_.items():
            if kind == ColumnKind.EMBEDDING and _enabled("embeddings", self.config["embeddings"]):
                embeddings.append(self._compare_embedding(name, table.column(name)))
            elif kind == ColumnKind.TEXT and _enabled("text", self.config["text"]):
                texts.append(self._compare_text(name, table.column(name)))
        multivariate = None
        if _enabled("multivariate", self.config["multivariate"]):
            if self.from_profile_:
                multivariate = MultivariateDrift((), 0, table.num_rows, False, alpha=self.alpha,
                                                 skipped=PROFILE_NOTE.format(what="rows"))
            elif self.multivariate_ is None:
                multivariate = MultivariateDrift((), 0, table.num_rows, False, alpha=self.alpha,
                                                 skipped=self.multivariate_error_)
            else:
                multivariate = self.multivariate_.compare(table)
        return GeometryParts(multivariate, tuple(embeddings), tuple(texts))

    def _compare_embedding(self, name: str, column: pa.ChunkedArray) -> EmbeddingDrift:
        if self.from_profile_:
            return skipped_embedding(name, PROFILE_NOTE.format(what="vectors"))
        detector = self.embedding_[name]
        if isinstance(detector, str):
            return skipped_embedding(name, f"column {name!r} {detector}")
        return detector.compare(column)

    def _compare_text(self, name: str, column: pa.ChunkedArray) -> TextDrift:
        if self.from_profile_:
            return TextDrift(name, 0, len(column), False, alpha=self.alpha,
                             skipped=PROFILE_NOTE.format(what="texts"))
        return self.text_[name].compare(column)
