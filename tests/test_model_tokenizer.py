"""Tokenizers: the byte tokenizer, GPT-2 byte-level BPE from tiny vocab/merges files written
here, and the choice made for a checkpoint directory."""

import pytest

from dfx_hw.model.config import GPT2Config
from dfx_hw.model.tokenizer import (BPETokenizer, ByteTokenizer, TokenizerError,
                                    load_tokenizer)

from conftest import write_tiny_bpe

TEXT = "def héllo(x):\n    return x ✓ the end"


def test_byte_tokenizer():
    tok = ByteTokenizer()
    ids = tok.encode(TEXT)
    assert ids == list(TEXT.encode("utf-8")) and tok.vocab_size == 256
    assert tok.decode(ids) == TEXT
    assert tok.decode([0x68, 0xC3]) == "h\ufffd"        # a cut UTF-8 sequence is replaced
    with pytest.raises(ValueError, match=r"token id 256 is outside the byte vocabulary"):
        tok.decode([256])


def test_bpe_from_files(tmp_path):
    vocab = write_tiny_bpe(tmp_path)
    tok = BPETokenizer.from_files(tmp_path / "vocab.json", tmp_path / "merges.txt")
    assert tok.vocab_size == 259
    ids = tok.encode(" the theme")
    # " the" merges fully; " theme" -> "Ġthe" + "m" + "e".
    assert ids == [vocab["Ġthe"], vocab["Ġthe"], vocab["m"], vocab["e"]]
    assert tok.decode(tok.encode(TEXT)) == TEXT
    with pytest.raises(ValueError, match=r"token id 300 is outside the tokenizer's vocabulary "
                                         r"\(0\.\.258\)"):
        tok.decode([300])


def test_load_tokenizer_choices(tmp_path):
    byte_config = GPT2Config(vocab_size=256, n_positions=8, n_embd=8, n_layer=1, n_head=2)
    bpe_config = GPT2Config(vocab_size=259, n_positions=8, n_embd=8, n_layer=1, n_head=2)
    assert isinstance(load_tokenizer(tmp_path, byte_config), ByteTokenizer)
    with pytest.raises(TokenizerError, match=r"no tokenizer for .*: vocab_size=259 is not the "
                                             r"byte vocabulary \(256\) and there is no vocab"):
        load_tokenizer(tmp_path, bpe_config)
    write_tiny_bpe(tmp_path)
    assert isinstance(load_tokenizer(tmp_path, bpe_config), BPETokenizer)
    with pytest.raises(TokenizerError, match=r"has 259 tokens, more than the model's "
                                             r"vocab_size=256"):
        load_tokenizer(tmp_path, byte_config)
    (tmp_path / "merges.txt").unlink()
    with pytest.raises(TokenizerError, match=r"vocab\.json needs merges\.txt next to it"):
        load_tokenizer(tmp_path, bpe_config)


def test_bpe_bad_files(tmp_path):
    with pytest.raises(TokenizerError, match=r"tokenizer file '.*vocab\.json' does not exist"):
        BPETokenizer.from_files(tmp_path / "vocab.json", tmp_path / "merges.txt")
    (tmp_path / "vocab.json").write_text("{not json")
    (tmp_path / "merges.txt").write_text("#version: 0.2\n")
    with pytest.raises(TokenizerError, match=r"cannot read BPE files"):
        BPETokenizer.from_files(tmp_path / "vocab.json", tmp_path / "merges.txt")


def test_tokenizer_json(tmp_path):
    write_tiny_bpe(tmp_path)
    tok = BPETokenizer.from_files(tmp_path / "vocab.json", tmp_path / "merges.txt")
    tok._tokenizer.save(str(tmp_path / "tokenizer.json"))
    (tmp_path / "vocab.json").unlink()
    (tmp_path / "merges.txt").unlink()
    config = GPT2Config(vocab_size=259, n_positions=8, n_embd=8, n_layer=1, n_head=2)
    loaded = load_tokenizer(tmp_path, config)
    assert loaded.encode(TEXT) == tok.encode(TEXT)
    (tmp_path / "tokenizer.json").write_text("[]")
    with pytest.raises(TokenizerError, match=r"cannot read tokenizer file"):
        load_tokenizer(tmp_path, config)
