"""The HTML report: what a reader of the page, and a browser opening it offline, rely on."""

from __future__ import annotations

import copy
import re
from html.parser import HTMLParser
from typing import Any

import numpy as np
import pytest

from driftwise.report.html import render_html

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
NASTY_NAME = '<b>&"x"'


class Page(HTMLParser):
    """The parsed page: elements in document order, visible text, nesting errors."""

    def __init__(self, document: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.errors: list[str] = []
        self.text_parts: list[str] = []
        self.doctypes: list[str] = []
        self._stack: list[str] = []
        self.feed(document)
        self.close()
        if self._stack:
            self.errors.append(f"never closed: {self._stack}")

    def handle_decl(self, decl: str) -> None:
        self.doctypes.append(decl)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))
        if tag not in VOID:
            self._stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        if not self._stack or self._stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self._stack[-1:] or 'nothing'}")
            return
        self._stack.pop()

    def handle_data(self, data: str) -> None:
        if not self._stack or self._stack[-1] != "style":
            self.text_parts.append(data)

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self.text_parts))

    def with_tag(self, tag: str) -> list[dict[str, str]]:
        return [attrs for name, attrs in self.elements if name == tag]

    def column_sections(self) -> list[dict[str, str]]:
        return [a for a in self.with_tag("section") if a.get("id", "").startswith("col-")]

    def column_titles(self) -> list[str]:
        """Column names in the order of their sections, read back from the text."""
        ids = [a["id"] for a in self.column_sections()]
        return [self.names_by_id[i] for i in ids]

    names_by_id: dict[str, str]


def parse(document: str) -> Page:
    page = Page(document)
    titles = re.findall(r'<h3 id="title-(col-[^"]+)">(.*?)</h3>', document)
    page.names_by_id = {i: Page(name).text for i, name in titles}
    return page


def column(name: str, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": name,
        "kind": "numeric",
        "role": "feature",
        "test": "ks",
        "statistic": 0.05,
        "p_value": 0.3,
        "p_value_adjusted": 0.6,
        "effect": 0.01,
        "effect_name": "wasserstein_normed",
        "threshold": 0.1,
        "drift_detected": False,
        "skipped": None,
        "quality": {
            "missing_share_reference": 0.0,
            "missing_share_current": 0.0,
            "new_categories": [],
            "out_of_range_share": 0.0,
            "type_mismatch": None,
        },
        "plot": None,
    }
    base.update(fields)
    return base


@pytest.fixture
def report() -> dict[str, Any]:
    histogram = {
        "type": "histogram",
        "edges": [0.0, 1.0, 2.0, 3.0],
        "reference": [10, 30, 60],
        "current": [60, 30, 10],
    }
    bars = {
        "type": "bars",
        "categories": ["red", "<script>alert(1)</script>", "a" * 80],
        "reference": [50, 30, 20],
        "current": [48, 32, 20],
    }
    return {
        "driftwise_version": "0.1.0",
        "reference_rows": 1000,
        "current_rows": 800,
        "reference_name": "train.csv",
        "current_name": "<img src=x onerror=alert(1)>.csv",
        "settings": {
            "numeric_test": "ks",
            "categorical_test": "chi2",
            "correction": "fdr",
            "alpha": 0.05,
            "min_effect": {"numeric": 0.1, "categorical": 0.1},
        },
        "dataset_drift": {
            "drift_detected": True,
            "drifted_columns": 2,
            "columns": 4,
            "share": 0.5,
            "correction": "fdr",
            "alpha": 0.05,
        },
        "columns": [
            column("stable_cat", kind="categorical", test="chi2", plot=bars, effect=0.02),
            column(
                "user_id",
                kind="identifier",
                test=None,
                statistic=None,
                p_value=None,
                p_value_adjusted=None,
                effect=None,
                skipped="identifier: all values unique",
            ),
            column(
                "income",
                drift_detected=True,
                p_value=0.0,
                p_value_adjusted=0.0,
                effect=0.4,
                plot=histogram,
            ),
            column(
                NASTY_NAME,
                kind="categorical",
                test="chi2",
                drift_detected=True,
                p_value=1.2e-7,
                p_value_adjusted=2.4e-7,
                effect=0.2,
                quality={"new_categories": [f"new_{i}" for i in range(25)]},
            ),
            column("age", p_value=0.00042, p_value_adjusted=0.08, effect=0.03),
        ],
    }


def test_every_column_has_a_section_and_a_summary_row(report: dict[str, Any]) -> None:
    page = parse(render_html(report))
    names = {c["name"] for c in report["columns"]}
    assert set(page.column_titles()) == names
    summary_links = [a["href"] for a in page.with_tag("a") if a.get("href", "").startswith("#")]
    assert summary_links == [f"#{s['id']}" for s in page.column_sections()]


def test_drifted_columns_come_first_then_tested_then_skipped(report: dict[str, Any]) -> None:
    titles = parse(render_html(report)).column_titles()
    # income has p_adj 0 < 2.4e-7; age (p_adj 0.08) before stable_cat (0.6); skipped last.
    assert titles == ["income", NASTY_NAME, "age", "stable_cat", "user_id"]


def test_within_a_group_missing_p_values_go_last_and_ties_go_to_the_larger_effect() -> None:
    columns = [
        column("no_p", drift_detected=True, p_value=None, p_value_adjusted=None, effect=0.9),
        column("small_effect", drift_detected=True, p_value_adjusted=0.01, effect=0.2),
        column("large_effect", drift_detected=True, p_value_adjusted=0.01, effect=0.7),
        column("raw_p_only", drift_detected=True, p_value=0.001, p_value_adjusted=None),
    ]
    titles = parse(render_html({"columns": columns})).column_titles()
    assert titles == ["raw_p_only", "large_effect", "small_effect", "no_p"]


def test_only_drifted_sections_carry_the_drifted_class(report: dict[str, Any]) -> None:
    page = parse(render_html(report))
    drifted = {
        page.names_by_id[s["id"]] for s in page.column_sections() if "drifted" in s["class"].split()
    }
    assert drifted == {"income", NASTY_NAME}


def test_user_strings_are_escaped_and_read_back_verbatim(report: dict[str, Any]) -> None:
    document = render_html(report)
    page = parse(document)
    tags = {tag for tag, _ in page.elements}
    assert not tags & {"b", "script", "img"}
    assert NASTY_NAME in page.names_by_id.values()
    assert "<img src=x onerror=alert(1)>.csv" in page.text
    assert "&lt;b&gt;&amp;&quot;x&quot;" in document
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in document


def test_the_page_fetches_nothing(report: dict[str, Any]) -> None:
    document = render_html(report)
    page = parse(document)
    links = [
        value
        for _, attrs in page.elements
        for key, value in attrs.items()
        if key in {"src", "href", "xlink:href", "action", "poster", "data"}
    ]
    assert all(v.startswith(("#", "data:")) for v in links), links
    assert not re.search(r"url\(\s*['\"]?\s*(https?:)?//", document)
    assert "@import" not in document
    assert not page.with_tag("script") and not page.with_tag("iframe")
    policy = [m["content"] for m in page.with_tag("meta") if m.get("http-equiv")]
    assert policy and "default-src 'none'" in policy[0]


@pytest.mark.parametrize(
    ("detected", "verdict"),
    [(True, "Dataset drift detected"), (False, "No dataset drift detected")],
)
def test_the_dataset_verdict_is_stated(
    report: dict[str, Any], detected: bool, verdict: str
) -> None:
    report["dataset_drift"]["drift_detected"] = detected
    document = render_html(report)
    block = re.search(r'<div class="panel verdict ([a-z-]+)"', document)
    assert block is not None and block.group(1) == ("drift" if detected else "no-drift")
    assert f'<p class="verdict-text">{verdict}</p>' in document
    assert "2 of 4 tested columns drifted (50.0%)" in parse(document).text


def test_p_values_are_readable(report: dict[str, Any]) -> None:
    text = parse(render_html(report)).text
    assert "< 1e-300" in text  # p == 0 underflowed: say so, not "0"
    assert "1.2e-07" in text and "2.4e-07" in text
    assert "4.2e-04" in text  # below 0.001, scientific notation, not "0.00042"
    assert "0.080" in text


def test_skipped_columns_show_why(report: dict[str, Any]) -> None:
    page = parse(render_html(report))
    assert "Not tested: identifier: all values unique" in page.text


def test_new_categories_are_listed_up_to_twenty(report: dict[str, Any]) -> None:
    text = parse(render_html(report)).text
    assert "new_19" in text and "new_20" not in text
    assert "+5 more" in text


def test_new_category_count_beyond_the_listed_ones_is_reported() -> None:
    quality = {
        "new_categories": [f"n{i}" for i in range(20)],
        "new_categories_count": 57,
        "new_category_share": 0.125,
    }
    text = parse(render_html({"columns": [column("c", quality=quality)]})).text
    assert "57 (12.5% of current rows)" in text
    assert "+37 more" in text


def test_histogram_bars_compare_shares_not_counts() -> None:
    plot = {"type": "histogram", "edges": [0, 1, 2], "reference": [1, 3], "current": [100, 300]}
    page = parse(render_html({"columns": [column("x", plot=plot)]}))
    rects = page.with_tag("rect")
    ref = [float(r["height"]) for r in rects if r["class"] == "bar-ref"]
    cur = [float(r["height"]) for r in rects if r["class"] == "bar-cur"]
    assert len(ref) == len(cur) == 2
    assert ref == pytest.approx(cur)
    assert ref[1] == pytest.approx(3 * ref[0])
    document = render_html({"columns": [column("x", plot=plot)]})
    ticks = re.findall(r'class="tick-x"[^>]*>([^<]+)<', document)
    assert ticks and all(0.0 <= float(t) <= 2.0 for t in ticks)


def test_many_categories_are_folded_into_one_row() -> None:
    names = [f"c{i}" for i in range(30)]
    plot = {
        "type": "bars",
        "categories": names,
        "reference": list(range(1, 31)),
        "current": list(range(1, 31)),
    }
    page = parse(render_html({"columns": [column("cat", kind="categorical", plot=plot)]}))
    assert len([r for r in page.with_tag("rect") if r["class"] == "bar-ref"]) == 20
    assert "(11 other categories)" in page.text
    assert "c29" in page.text and "c0 " not in page.text


def test_missing_optional_keys_do_not_break_the_page() -> None:
    for report in ({}, {"columns": [{"name": "bare"}]}, {"columns": [{}], "settings": None}):
        page = parse(render_html(report))
        assert not page.errors
        assert "driftwise drift report" in page.text
    assert "bare" in parse(render_html({"columns": [{"name": "bare"}]})).text


def test_unusable_plot_data_is_reported_not_raised(report: dict[str, Any]) -> None:
    broken = copy.deepcopy(report)
    broken["columns"][2]["plot"] = {
        "type": "histogram",
        "edges": [0, 1],
        "reference": [1, 2],
        "current": [1],
    }
    text = parse(render_html(broken)).text
    assert "Distribution plot unavailable" in text


def test_the_document_is_well_formed_with_unique_ids(report: dict[str, Any]) -> None:
    report["columns"] += [column("A b"), column("a-b"), column("a b")]
    page = parse(render_html(report))
    assert page.doctypes == ["DOCTYPE html"]
    assert page.errors == []
    ids = [attrs["id"] for _, attrs in page.elements if "id" in attrs]
    assert len(ids) == len(set(ids))
    assert {"col-a-b", "col-a-b-2", "col-a-b-3"} <= set(ids)


def test_markers_read_as_missing_are_shown_escaped(tmp_path) -> None:
    from driftwise import DriftDetector

    rng = np.random.default_rng(9)
    ref = rng.normal(size=300)
    cur = [repr(float(v)) for v in rng.normal(size=300)]
    cur[::30] = ["<>"] * len(cur[::30])
    (tmp_path / "ref.csv").write_text("x\n" + "\n".join(map(repr, ref.tolist())) + "\n")
    (tmp_path / "cur.csv").write_text("x\n" + "\n".join(cur) + "\n")
    report = DriftDetector().fit(tmp_path / "ref.csv").compare(tmp_path / "cur.csv")
    assert report.column("x").quality.missing_markers_current == {"<>": 10}
    page = render_html(report.to_dict())
    assert "Read as missing (current)" in page and "<code>&lt;&gt;</code> × 10" in page
    assert "<code><></code>" not in page
