"""Tokenizers: text <-> token ids.

:class:`ByteTokenizer`
    One token per UTF-8 byte (vocabulary of 256), for byte-level checkpoints.
:class:`BPETokenizer`
    GPT-2's byte-level BPE from a ``vocab.json`` + ``merges.txt`` pair, or any Hugging Face
    ``tokenizer.json`` (the shipped demo model's 4,001-token BPE), done by the ``tokenizers``
    library.

:func:`load_tokenizer` picks the right one for a checkpoint directory.
"""

from pathlib import Path

from .config import GPT2Config

__all__ = ["ByteTokenizer", "BPETokenizer", "load_tokenizer", "TokenizerError"]

BYTE_VOCAB_SIZE = 256


class TokenizerError(ValueError):
    """No usable tokenizer for a model, or a tokenizer file that cannot be read."""


class ByteTokenizer:
    """Token id = byte value of the UTF-8 encoding; decoding replaces invalid UTF-8 with U+FFFD."""

    vocab_size = BYTE_VOCAB_SIZE

    def encode(self, text: str) -> list:
        return list(text.encode("utf-8"))

    def decode(self, ids) -> str:
        ids = [int(i) for i in ids]
        for i in ids:
            if not 0 <= i < BYTE_VOCAB_SIZE:
                raise ValueError(f"token id {i} is outside the byte vocabulary (0..255)")
        return bytes(ids).decode("utf-8", errors="replace")

    def __repr__(self):
        return "ByteTokenizer()"


class BPETokenizer:
    """GPT-2 byte-level BPE (a wrapped :class:`tokenizers.Tokenizer`).

    Build it with :meth:`from_files` or :meth:`from_tokenizer_json`.
    """

    def __init__(self, tokenizer):
        self._tokenizer = tokenizer

    @classmethod
    def from_files(cls, vocab_json, merges_txt) -> "BPETokenizer":
        """GPT-2 BPE from its ``vocab.json`` (token -> id) and ``merges.txt``.

        Raises
        ------
        TokenizerError
            If a file is missing or cannot be parsed.
        """
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers

        for file in (vocab_json, merges_txt):
            if not Path(file).is_file():
                raise TokenizerError(f"tokenizer file {str(file)!r} does not exist")
        try:
            model = models.BPE.from_file(str(vocab_json), str(merges_txt))
        except Exception as error:  # the Rust library raises plain Exception
            raise TokenizerError(f"cannot read BPE files {str(vocab_json)!r} and "
                                 f"{str(merges_txt)!r}: {error}") from None
        tokenizer = Tokenizer(model)
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tokenizer.decoder = decoders.ByteLevel()
        return cls(tokenizer)

    @classmethod
    def from_tokenizer_json(cls, path) -> "BPETokenizer":
        """A Hugging Face ``tokenizer.json`` (as shipped with the GPT-2 checkpoints)."""
        from tokenizers import Tokenizer

        try:
            return cls(Tokenizer.from_file(str(path)))
        except Exception as error:  # the Rust library raises plain Exception
            raise TokenizerError(f"cannot read tokenizer file {str(path)!r}: {error}") from None

    @property
    def vocab_size(self) -> int:
        return self._tokenizer.get_vocab_size(with_added_tokens=True)

    def encode(self, text: str) -> list:
        return list(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def decode(self, ids) -> str:
        ids = [int(i) for i in ids]
        size = self.vocab_size
        for i in ids:
            if not 0 <= i < size:
                raise ValueError(f"token id {i} is outside the tokenizer's vocabulary "
                                 f"(0..{size - 1})")
        return self._tokenizer.decode(ids, skip_special_tokens=False)

    def __repr__(self):
        return f"BPETokenizer(vocab_size={self.vocab_size})"


def load_tokenizer(model_dir, config: GPT2Config):
    """The tokenizer of the checkpoint in ``model_dir``.

    ``vocab.json`` + ``merges.txt`` -> :class:`BPETokenizer`; else ``tokenizer.json`` ->
    :class:`BPETokenizer`; else, when ``config.vocab_size`` is 256, :class:`ByteTokenizer`.

    Raises
    ------
    TokenizerError
        If none applies, or the tokenizer has more tokens than the model's vocabulary.
    """
    directory = Path(model_dir)
    vocab, merges, tokenizer_json = (directory / name for name in
                                     ("vocab.json", "merges.txt", "tokenizer.json"))
    if vocab.is_file() or merges.is_file():
        if not (vocab.is_file() and merges.is_file()):
            present, absent = (vocab, merges) if vocab.is_file() else (merges, vocab)
            raise TokenizerError(f"{present} needs {absent.name} next to it for BPE")
        tokenizer = BPETokenizer.from_files(vocab, merges)
    elif tokenizer_json.is_file():
        tokenizer = BPETokenizer.from_tokenizer_json(tokenizer_json)
    elif config.vocab_size == BYTE_VOCAB_SIZE:
        return ByteTokenizer()
    else:
        raise TokenizerError(
            f"no tokenizer for {str(directory)!r}: vocab_size={config.vocab_size} is not the byte "
            f"vocabulary ({BYTE_VOCAB_SIZE}) and there is no vocab.json + merges.txt or "
            f"tokenizer.json")
    if tokenizer.vocab_size > config.vocab_size:
        raise TokenizerError(f"tokenizer in {str(directory)!r} has {tokenizer.vocab_size} tokens, "
                             f"more than the model's vocab_size={config.vocab_size}")
    return tokenizer
