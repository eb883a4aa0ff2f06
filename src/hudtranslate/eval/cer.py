"""Character error rate (CER) of Mandarin transcripts, after a normalisation that makes
notation differences free: only what was *heard* differently costs.

``normalize_for_cer`` rewrites a transcript, in this order:

1. Unicode NFKC (full-width Latin letters and digits become ASCII, ``①`` becomes ``1``);
2. Simplified characters (``hudtranslate.asr.text.to_simplified``, OpenCC's ``tw2s``);
3. Latin letters lower-cased (Latin words are kept and compared character by character);
4. runs of four or more Chinese digits read one by one (``一三九一二三四``, ``二〇二五``,
   ``幺``\\=1) are made Arabic first (``hudtranslate.asr.text.arabic_digit_runs``, what the
   recogniser itself does), so that step 6 writes both notations the same way;
5. thousands separators dropped (``3,000`` → ``3000``), ``N%`` → ``百分之N``;
6. Arabic numbers written as Chinese numerals: a run of four or more digits, one with a
   leading 0 (``007``, ``0571``), or one followed by 年 is read digit by digit
   (``2011年`` → ``二零一一年``, ``13912345678`` → ``一三九一二三四五六七八``,
   ``98年`` → ``九八年``); other numbers by their value with ``cn2an.an2cn`` (cn2an, MIT:
   ``15`` → ``十五``, ``403`` → ``四百零三``, ``0.5`` → ``零点五``). The 年 rule prefers
   years: ``10年`` meaning ten years reads ``一零年`` and differs from ``十年``;
7. ``〇`` → ``零``;
8. every punctuation mark and symbol (Unicode categories P* and S*: Chinese and ASCII
   punctuation alike), all whitespace (Z*) and control or format characters (C*) removed.

Numbers written out as words (``一千``) are left as they are, so ``一千`` and ``1000``
(read ``一零零零``) still differ. The edit distance is jiwer's (Apache-2.0)
``process_characters``; ``corpus_cer`` is total edits ÷ total reference characters over
the whole list, not the mean of per-sentence rates.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import cn2an
import jiwer

from hudtranslate.asr.text import arabic_digit_runs, to_simplified

_CHINESE_DIGITS = "零一二三四五六七八九"
_THOUSANDS = re.compile(r"(?<![0-9.])[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])")
_PERCENT = re.compile(r"([0-9]+(?:\.[0-9]+)?)%")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def normalize_for_cer(text: str) -> str:
    """``text`` as CER compares it (the steps are in this module's docstring); may be
    empty, e.g. for text of punctuation only."""
    text = unicodedata.normalize("NFKC", text)
    text = to_simplified(text).lower()
    text = arabic_digit_runs(text)
    text = _THOUSANDS.sub(lambda m: m.group(0).replace(",", ""), text)
    text = _PERCENT.sub(lambda m: "百分之" + m.group(1), text)
    text = _NUMBER.sub(_read_number, text)
    text = text.replace("〇", "零")
    return "".join(char for char in text if _kept(char))


def _read_number(match: re.Match[str]) -> str:
    number = match.group(0)
    whole = number.partition(".")[0]
    by_digit = (len(whole) >= 4 or (len(whole) > 1 and whole.startswith("0"))
                or match.string.startswith("年", match.end()))
    if by_digit:
        return "".join(_CHINESE_DIGITS[int(char)] if char.isdigit() else "点"
                       for char in number)
    return str(cn2an.an2cn(number, "low"))


def _kept(char: str) -> bool:
    category = unicodedata.category(char)
    return not (category[0] in "PSZC" or char.isspace())


def corpus_cer(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Character error rate of ``hypotheses`` against ``references`` (one each, same
    order), both normalised by ``normalize_for_cer``: total substitutions + deletions +
    insertions ÷ total reference characters. 0.0 is perfect; an empty hypothesis costs
    1.0 for its sentence; insertions can take it above 1.0.

    Raises ``ValueError`` when the lists differ in length, are empty, or a reference has
    no characters left to score (empty or punctuation only): such a sentence has no
    denominator, and skipping it silently would hide a broken data file.
    """
    if len(references) != len(hypotheses):
        raise ValueError(f"CER needs one hypothesis per reference: got {len(references)} "
                         f"references and {len(hypotheses)} hypotheses")
    if not references:
        raise ValueError("CER needs at least one reference")
    normal_refs = [normalize_for_cer(ref) for ref in references]
    for index, (raw, normal) in enumerate(zip(references, normal_refs, strict=True)):
        if not normal:
            raise ValueError(f"reference {index} ({raw!r}) has no characters to score after "
                             "normalisation (empty, or punctuation and spaces only)")
    normal_hyps = [normalize_for_cer(hyp) for hyp in hypotheses]
    output = jiwer.process_characters(normal_refs, normal_hyps)
    edits = output.substitutions + output.deletions + output.insertions
    return float(edits / sum(len(ref) for ref in normal_refs))


def sentence_cer(reference: str, hypothesis: str) -> float:
    """``corpus_cer`` of one sentence (same normalisation and errors)."""
    return corpus_cer([reference], [hypothesis])
