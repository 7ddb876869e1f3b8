"""HTML sections for the report's multivariate, embeddings and text parts."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from driftwise.report._format import (
    as_list,
    as_mapping,
    as_text,
    format_number,
    format_p_value,
    format_share,
)


def geometry_sections(report: Mapping[str, Any]) -> str:
    """The three sections, each only when the report holds that part."""
    out = []
    multivariate = report.get("multivariate")
    if isinstance(multivariate, Mapping):
        title = "Multivariate: " + ", ".join(as_text(c) for c in as_list(
            multivariate.get("columns")))
        out.append(_section("multivariate", "Multivariate drift",
                            [_panel(title, multivariate, _views(multivariate))]))
    embeddings = [e for e in as_list(report.get("embeddings")) if isinstance(e, Mapping)]
    if embeddings:
        out.append(_section("embeddings", "Embedding drift",
                            [_panel(as_text(e.get("name")), e, _views(e)) for e in embeddings]))
    texts = [t for t in as_list(report.get("text")) if isinstance(t, Mapping)]
    if texts:
        out.append(_section("text", "Text drift",
                            [_panel(as_text(t.get("name")), t, _text_body(t)) for t in texts]))
    return "".join(out)


def drifted_parts(report: Mapping[str, Any]) -> list[str]:
    """Labels of the multivariate / embedding / text results that drifted."""
    out = []
    multivariate = report.get("multivariate")
    if isinstance(multivariate, Mapping) and multivariate.get("drift_detected"):
        out.append("multivariate")
    for key, label in (("embeddings", "embedding"), ("text", "text")):
        for part in as_list(report.get(key)):
            if isinstance(part, Mapping) and part.get("drift_detected"):
                out.append(f"{label} {as_text(part.get('name'))!r}")
    return out


def _section(section_id: str, title: str, panels: list[str]) -> str:
    return (f'<section id="{section_id}" aria-label="{title}"><h2>{title}</h2>'
            f'{"".join(panels)}</section>\n')


def _panel(title: str, part: Mapping[str, Any], body: str) -> str:
    skipped = part.get("skipped")
    if skipped:
        status, badge = "skipped", "Skipped"
        body = f'<p class="skip-reason">Not tested: {escape(as_text(skipped))}</p>'
    elif part.get("drift_detected"):
        status, badge = "drift", "Drift"
    else:
        status, badge = "no-drift", "No drift"
    classes = "panel column drifted" if status == "drift" else f"panel column {status}"
    notes = "".join(f'<p class="why">{escape(as_text(n))}</p>' for n in as_list(part.get("notes")))
    return (f'<div class="{classes}"><div class="column-head"><h3>{escape(title)}</h3>'
            f'<span class="badge {status}">{badge}</span></div>'
            f'<div class="facts">{body}{notes}</div></div>')


def _dl(label: str, facts: list[tuple[str, str]]) -> str:
    rows = "".join(f"<dt>{escape(k)}</dt><dd>{v}</dd>" for k, v in facts)
    return f'<dl aria-label="{escape(label)}">{rows}</dl>'


def _views(part: Mapping[str, Any]) -> str:
    html = []
    rows = [("Rows", f"{escape(as_text(part.get('reference_rows')))} reference, "
                     f"{escape(as_text(part.get('current_rows')))} current")]
    if part.get("dimensions") is not None:
        rows.append(("Dimensions", escape(as_text(part.get("dimensions")))))
    html.append(_dl("Samples", rows))
    mmd = as_mapping(part.get("mmd"))
    if mmd:
        html.append("<h4>MMD</h4>" + _dl("MMD", [
            ("MMD²", format_number(mmd.get("statistic"))),
            ("p-value", escape(format_p_value(mmd.get("p_value")))),
            ("Method", escape(f"{as_text(mmd.get('method'))}, "
                              f"{as_text(mmd.get('n_permutations'))} permutations")),
            ("Bandwidth", ", ".join(format_number(b) for b in as_list(mmd.get("bandwidths")))),
        ]))
    cls = as_mapping(part.get("classifier"))
    if cls:
        top = "".join(f"<code>{escape(as_text(f.get('feature')))}</code> "
                      f"({format_number(f.get('importance'))}) "
                      for f in as_list(cls.get("top_features")) if isinstance(f, Mapping))
        html.append("<h4>Domain classifier</h4>" + _dl("Domain classifier", [
            ("Held-out AUC", format_number(cls.get("auc"))),
            ("p-value", escape(format_p_value(cls.get("p_value")))),
            ("Classifier", escape(f"{as_text(cls.get('classifier'))}, "
                                  f"{as_text(cls.get('folds'))}-fold")),
            ("Top features (AUC drop)", top or "–"),
        ]))
    dist = as_mapping(part.get("mean_distance"))
    if dist:
        html.append("<h4>Mean embedding distance</h4>" + _dl("Mean distance", [
            (f"{as_text(dist.get('metric'))} distance", format_number(dist.get("distance"))),
            ("Bootstrap threshold", format_number(dist.get("threshold"))),
        ]))
    rec = as_mapping(part.get("reconstruction"))
    if rec:
        html.append("<h4>PCA reconstruction error</h4>" + _dl("Reconstruction", [
            ("Components", escape(as_text(rec.get("n_components")))),
            ("Current mean error", format_number(rec.get("current_error"))),
            ("Reference band", f"{format_number(rec.get('lower'))} – "
                               f"{format_number(rec.get('upper'))}"),
        ]))
    return "".join(html)


def _terms(terms: object) -> str:
    items = [t for t in as_list(terms) if isinstance(t, Mapping)]
    if not items:
        return "–"
    return " ".join(f"<code>{escape(as_text(t.get('term')))}</code>" for t in items)


def _text_body(part: Mapping[str, Any]) -> str:
    html = []
    vocab = as_mapping(part.get("vocabulary"))
    if vocab:
        html.append("<h4>Vocabulary</h4>" + _dl("Vocabulary", [
            ("JS distance", f"{format_number(vocab.get('js_distance'))} (null median "
                            f"{format_number(vocab.get('js_null_median'))})"),
            ("p-value", escape(format_p_value(vocab.get("p_value")))),
            ("Out-of-vocabulary rate", f"{format_share(vocab.get('oov_rate'))} (expected "
                                       f"{format_share(vocab.get('oov_rate_expected'))})"),
            ("Top gained terms", _terms(vocab.get("gained"))),
            ("Top lost terms", _terms(vocab.get("lost"))),
        ]))
    desc = as_mapping(part.get("descriptors"))
    if desc:
        html.append("<h4>Descriptors</h4>" + _dl("Descriptors", [
            (as_text(k).replace("_", " "),
             f"KS p = {escape(format_p_value(as_mapping(v).get('p_value')))}, effect "
             f"{format_number(as_mapping(v).get('effect'))}")
            for k, v in desc.items()
        ]))
    emb = as_mapping(part.get("embedding"))
    if emb:
        if emb.get("skipped"):
            html.append(f'<h4>Sentence embeddings</h4><p class="note">'
                        f'{escape(as_text(emb.get("skipped")))}</p>')
        else:
            html.append("<h4>Sentence embeddings</h4>" + _views(emb))
    return "".join(html)
