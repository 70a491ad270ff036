"""The exported model's own fast tokenizer: truncation at the model's length, token spans, length buckets.

Embedders tokenize texts, rerankers (query, passage) pairs; both go through the same buckets.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple, TypeAlias

import numpy as np
from tokenizers import Encoding, Tokenizer

from semantik.inference.base import ModelNotFound
from semantik.inference.models import ModelInfo, load_model_info

# What a model reads: one text (embedders) or a (query, passage) pair (rerankers).
ModelInput: TypeAlias = str | tuple[str, str]


class Batch(NamedTuple):
    """Inputs of similar length padded together; `indices` are their positions in the caller's list."""

    indices: list[int]
    input_ids: np.ndarray
    attention_mask: np.ndarray
    # Segment of every token (0 for the first text of a pair, 1 for the second); zeros for single texts.
    token_type_ids: np.ndarray

    def feeds(self, names: Sequence[str]) -> dict[str, np.ndarray]:
        """The arrays a graph with these input names takes, by name."""
        return {name: getattr(self, name) for name in names}


class ModelTokenizer:
    """Tokenizes for one exported model; safe to share between threads (the tokenizer is never mutated)."""

    def __init__(self, model_dir: Path, info: ModelInfo | None = None) -> None:
        self.info = info or load_model_info(model_dir)
        path = Path(model_dir) / "tokenizer.json"
        if not path.is_file():
            raise ModelNotFound(
                f"{path} is missing; re-export the model with `python scripts/export_model.py`"
            )
        self.max_length = self.info.max_length

        self._truncating = Tokenizer.from_file(str(path))
        padding = self._truncating.padding
        self.pad_id: int = int(padding["pad_id"]) if padding else 0
        # Padding is done per bucket in batches(); the file's own settings are not trusted either
        # (the stock MiniLM tokenizer.json truncates at 128 and pads to a fixed 128).
        self._truncating.no_padding()
        self._truncating.enable_truncation(max_length=self.max_length)

        # A second instance, because truncation is tokenizer state and spans must see the whole text.
        self._whole = Tokenizer.from_file(str(path))
        self._whole.no_padding()
        self._whole.no_truncation()

        self.special_tokens = self._whole.num_special_tokens_to_add(is_pair=False)

    @property
    def max_content_tokens(self) -> int:
        """Tokens of text that fit in one model input once the special tokens are added."""
        return self.max_length - self.special_tokens

    def encode_batch(self, texts: Sequence[ModelInput]) -> list[Encoding]:
        """Model inputs with special tokens, truncated at max_length, not padded.

        A pair is truncated longest-first (tokens come off the longer text), as transformers does it.
        """
        return self._truncating.encode_batch(list(texts))

    def count_tokens(self, text: str) -> int:
        """Tokens of the text itself (no special tokens, no truncation)."""
        return len(self._whole.encode(text, add_special_tokens=False).ids)

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        """Character offsets (start, end) of every token of the whole text, special tokens excluded."""
        return [
            (int(start), int(end))
            for start, end in self._whole.encode(text, add_special_tokens=False).offsets
        ]

    def batches(self, texts: Sequence[ModelInput], max_batch: int, max_tokens: int) -> Iterator[Batch]:
        """Buckets of similar-length inputs: at most max_batch rows and max_tokens padded tokens each.

        An input longer than max_tokens on its own still gets a bucket of one, so nothing is dropped.
        """
        if max_batch < 1 or max_tokens < 1:
            raise ValueError(f"max_batch and max_tokens must be positive, got {max_batch} and {max_tokens}")
        encodings = self.encode_batch(texts)
        lengths = [len(e.ids) for e in encodings]
        order = sorted(range(len(encodings)), key=lengths.__getitem__)

        bucket: list[int] = []
        for index in order:
            # Ascending order makes the newcomer the longest row, so it sets the padded width.
            if bucket and (len(bucket) + 1 > max_batch or (len(bucket) + 1) * lengths[index] > max_tokens):
                yield self._pad(bucket, encodings, lengths)
                bucket = []
            bucket.append(index)
        if bucket:
            yield self._pad(bucket, encodings, lengths)

    def _pad(self, indices: list[int], encodings: list[Encoding], lengths: list[int]) -> Batch:
        width = max(lengths[i] for i in indices)
        input_ids = np.full((len(indices), width), self.pad_id, dtype=np.int64)
        attention_mask = np.zeros((len(indices), width), dtype=np.int64)
        token_type_ids = np.zeros((len(indices), width), dtype=np.int64)
        for row, index in enumerate(indices):
            length = lengths[index]
            input_ids[row, :length] = encodings[index].ids
            attention_mask[row, :length] = 1
            token_type_ids[row, :length] = encodings[index].type_ids
        return Batch(indices, input_ids, attention_mask, token_type_ids)
