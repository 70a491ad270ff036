"""Texts of every length the parity tests embed, and the cosine they are judged by."""

from __future__ import annotations

import numpy as np

# Well over 256 tokens, so truncation at the model's real length is what the parity checks.
LONG_TEXT = " ".join(
    f"Paragraph {i}: the quarterly review covered budgets, hiring plans, the search index migration "
    "and the customer feedback collected from the support queue during the last sprint."
    for i in range(30)
)
SHORT_TEXTS = ["hello", "Where is the invoice from March?", "Qdrant stores the vectors."]
MIXED_BATCH = [
    "a",
    LONG_TEXT,
    "Semantic search ranks documents by meaning.",
    "Die Katze schläft auf dem Sofa, während draußen der Regen fällt.",
    LONG_TEXT[:700],
    "",
    "def chunk(text, size): return [text[i:i + size] for i in range(0, len(text), size)]",
]
PARITY = 0.9999


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
