"""Tiny models with random weights, saved like hub models: fast to export, exercised end to end.

Each is a real transformers (and sentence-transformers) model, only 2 layers of width 32, with a
WordPiece tokenizer built offline from a small vocabulary.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

WORDS = [
    "the",
    "a",
    "of",
    "to",
    "and",
    "in",
    "is",
    "it",
    "for",
    "on",
    "with",
    "as",
    "how",
    "do",
    "i",
    "what",
    "where",
    "when",
    "why",
    "who",
    "which",
    "file",
    "files",
    "python",
    "code",
    "function",
    "class",
    "data",
    "search",
    "query",
    "passage",
    "document",
    "read",
    "write",
    "open",
    "close",
    "list",
    "dict",
    "string",
    "number",
    "error",
    "test",
    "model",
    "text",
    "word",
    "words",
    "find",
    "index",
    "chunk",
    "vector",
    "meaning",
    "password",
    "reset",
    "semantic",
]
CHARACTERS = list("abcdefghijklmnopqrstuvwxyz0123456789.,;:!?'\"()-_/")
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
MAX_LENGTH = 128
TINY_RERANKER = "tiny-reranker"


def save_tokenizer(folder: Path) -> int:
    """A BERT-style WordPiece tokenizer (pairs: [CLS] A [SEP] B [SEP] with segments); returns its size."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import BertTokenizerFast

    vocab = list(dict.fromkeys(SPECIAL + WORDS + CHARACTERS + ["##" + c for c in CHARACTERS]))
    tokenizer = Tokenizer(models.WordPiece({w: i for i, w in enumerate(vocab)}, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    cls, sep = vocab.index("[CLS]"), vocab.index("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    tokenizer.decoder = decoders.WordPiece()
    # The BERT class, so transformers hands token_type_ids to the model as for a real BERT checkpoint.
    BertTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=MAX_LENGTH,
    ).save_pretrained(str(folder))
    return len(vocab)


def bert_config(vocab_size: int, **options: Any) -> Any:
    from transformers import BertConfig

    # A wider initialisation than BERT's 0.02, so random weights give scores that differ visibly.
    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=MAX_LENGTH,
        initializer_range=0.2,
        **options,
    )


def save_cross_encoder(
    folder: Path, *, activation: str | None = None, labels: int = 1, seed: int = 0
) -> Path:
    """A BertForSequenceClassification saved like a hub cross-encoder (config.json, weights, tokenizer).

    `activation` is the torch.nn path sentence-transformers records for CrossEncoder.predict
    (none: its default, sigmoid for one label).
    """
    import torch
    from transformers import BertForSequenceClassification

    folder.mkdir(parents=True, exist_ok=True)
    vocab_size = save_tokenizer(folder)
    torch.manual_seed(seed)
    config = bert_config(vocab_size, num_labels=labels)
    if activation:
        config.sentence_transformers = {"activation_fn": activation}
    BertForSequenceClassification(config).eval().save_pretrained(str(folder))
    return folder


def save_sentence_transformer(
    folder: Path,
    *,
    pooling: str = "mean",
    dense: int | None = None,
    prompts: dict[str, str] | None = None,
    seed: int = 1,
) -> Path:
    """A sentence-transformers model (Transformer, Pooling, optional Dense with tanh, Normalize)."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers import models as modules
    from transformers import BertModel

    transformer_dir = folder.with_name(folder.name + "-transformer")
    transformer_dir.mkdir(parents=True, exist_ok=True)
    vocab_size = save_tokenizer(transformer_dir)
    torch.manual_seed(seed)
    BertModel(bert_config(vocab_size)).eval().save_pretrained(str(transformer_dir))

    layers = [modules.Transformer(str(transformer_dir)), modules.Pooling(32, pooling_mode=pooling)]
    if dense:
        layers.append(modules.Dense(32, dense, activation_function=torch.nn.Tanh()))
    layers.append(modules.Normalize())
    SentenceTransformer(modules=layers, prompts=prompts or {}, device="cpu").save_pretrained(str(folder))
    return folder


TINY_E5 = "tiny-e5"
# What e5 models are trained to read in front of each text; sentence-transformers keeps them as prompts.
E5_PROMPTS = {"query": "query: ", "document": "passage: "}


def export_tiny_e5(workdir: Path, repository: Path, name: str = TINY_E5) -> Any:
    """A tiny embedder with e5's prompts, exported (and verified) into `repository`; its ModelInfo."""
    from semantik.inference.export import export_model

    source = save_sentence_transformer(workdir / name, prompts=E5_PROMPTS)
    return export_model(source, repository, name=name)
