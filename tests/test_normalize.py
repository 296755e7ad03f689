from __future__ import annotations

import pytest

from extractors.normalize import chinese_numeral, label_key, numbering_level


@pytest.mark.parametrize(
    "label, key",
    [
        ("　　（一）主动公开政府信息数\n　　　　（不同渠道和方式公开相同信息计1条）", "主动公开政府信息数"),
        ("　　　　　　其中：主动公开规范性文件数", "主动公开规范性文件数"),
        ("5.其他方式公开政府信息数", "其他方式公开政府信息数"),
        ("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", "部分公开"),
        ("3.危及“三安全一稳定”", "危及三安全一稳定"),
        ("餘姚市蘭江街道辦事處", "余姚市兰江街道办事处"),
        ("１．当面申请数", "当面申请数"),
    ],
)
def test_label_key(label: str, key: str) -> None:
    assert label_key(label) == key


@pytest.mark.parametrize("label, level", [("一、概述", 1), ("（三）申请答复数", 2), ("4.信函申请数", 3), ("其中：涉及国家秘密", 4), ("规章", None)])
def test_numbering_level(label: str, level: int | None) -> None:
    assert numbering_level(label) == level


@pytest.mark.parametrize("text, n", [("一", 1), ("十", 10), ("十二", 12), ("二十", 20), ("二十三", 23), ("甲", None)])
def test_chinese_numeral(text: str, n: int | None) -> None:
    assert chinese_numeral(text) == n


def test_to_simplified_converts_traditional_runs_and_keeps_the_rest() -> None:
    from extractors.normalize import to_simplified

    assert to_simplified("餘姚市蘭江街道辦事處2023年政府信息公開工作年度報告") == "余姚市兰江街道办事处2023年政府信息公开工作年度报告"
    assert to_simplified("本机关收到政府信息公开申请58件。") == "本机关收到政府信息公开申请58件。"


def test_to_simplified_is_opencc_on_every_corpus_line() -> None:
    """The run-by-run fast path gives exactly what converting the whole text with OpenCC gives."""
    from extractors.normalize import _T2S, to_simplified
    from tests.corpus_files import gold_files, read_doc

    lines = [line for rel in gold_files(("txt", "variants")) for line in read_doc(rel).text().splitlines() if line.strip()]
    assert len(lines) > 1000
    changed = [line for line in lines if _T2S.convert(line) != line]
    assert changed  # the corpus has Traditional-script renderings
    assert [to_simplified.__wrapped__(line) for line in lines] == [_T2S.convert(line) for line in lines]


def test_to_simplified_is_opencc_on_dense_mixes_of_its_own_keys() -> None:
    """Overlapping phrases, phrase fragments, single characters and separators: the case the
    longest-first order decides, compared with the library itself."""
    import random

    from extractors.normalize import _FAST_T2S, _T2S

    keys = [k for group in _T2S._dict_chain_data for entry in group for k in entry[2]]
    phrases = [k for k in keys if len(k) > 1]
    rng = random.Random(15)
    plain = list("的是在政府信息公开申请，。、 \n（）-")
    texts = []
    for _ in range(4000):
        parts = []
        for _ in range(rng.randint(1, 12)):
            x = rng.random()
            if x < 0.4:
                k = rng.choice(phrases)
                parts.append(k[rng.randint(0, len(k) - 1):] if rng.random() < 0.3 else k)
            elif x < 0.6:
                parts.append(rng.choice(keys))
            else:
                parts.append(rng.choice(plain))
        texts.append("".join(parts))
    assert sum(_T2S.convert(t) != t for t in texts) > 3000
    assert [_FAST_T2S.convert(t) for t in texts] == [_T2S.convert(t) for t in texts]


def test_nfkc_is_unicodedata_over_every_code_point_in_context() -> None:
    """Every code point, in runs that put each beside its neighbours (combining marks after
    letters, Hangul jamo after syllables), normalises exactly as `unicodedata` does."""
    import unicodedata

    from extractors.normalize import nfkc

    step = 97  # a run of code points, and each run once more after a starter that composes
    # planes 0-3 and 14 hold every assigned character; 4-13 are unassigned, 15-16 private use (a sample)
    starts = [*range(0, 0x40000, step), *range(0xE0000, 0xE1000, step), *range(0xF0000, 0x110000, 0x1000)]
    for start in starts:
        run = "".join(chr(cp) for cp in range(start, start + step) if not 0xD800 <= cp < 0xE000)
        for text in (run, "e" + run, "가" + run, "ᄀ" + run, "，１" + run + "\u3000"):
            assert nfkc.__wrapped__(text) == unicodedata.normalize("NFKC", text), hex(start)


def test_nfkc_is_unicodedata_on_mixes_that_compose_across_characters() -> None:
    import random
    import unicodedata

    from extractors.normalize import _unicode_tables, nfkc

    seconds = sorted(_unicode_tables()[0])
    pool = list("eaAoO가각ᄀᄁ政府信息公开１２，（）：　ﬁ\u0301\u0308\u0323\u3099ｶﾞé") + seconds[:40]
    rng = random.Random(16)
    texts = ["".join(rng.choice(pool) for _ in range(rng.randint(1, 12))) for _ in range(20000)]
    assert sum(unicodedata.normalize("NFKC", t) != t for t in texts) > 10000
    assert [nfkc.__wrapped__(t) for t in texts] == [unicodedata.normalize("NFKC", t) for t in texts]


def test_nfkc_and_squash_on_every_corpus_text() -> None:
    import unicodedata

    from extractors.normalize import _WS, nfkc, squash
    from tests.corpus_files import gold_files, read_doc

    texts = [read_doc(rel).text() for rel in gold_files(("txt", "docx", "html", "variants"))]
    assert len(texts) > 20 and all(unicodedata.normalize("NFKC", t) != t for t in texts)  # full-width punctuation
    for t in texts:
        assert nfkc.__wrapped__(t) == unicodedata.normalize("NFKC", t)
        for line in t.split("\n"):
            assert nfkc.__wrapped__(line) == unicodedata.normalize("NFKC", line)
            assert squash(line) == _WS.sub("", line)


def test_characters_the_scan_passes_over_are_their_own_form_in_any_context() -> None:
    from extractors.normalize import _fold, _unicode_tables

    unsafe = _unicode_tables()[1]
    plain = [chr(cp) for cp in range(0x10000) if not 0xD800 <= cp < 0xE000 and not unsafe.match(chr(cp))]
    assert len(plain) > 40000 and "政" in plain and "a" in plain and "，" not in plain
    assert all(_fold.__wrapped__(ch) == ch for ch in plain)


def test_squash_removes_exactly_what_the_whitespace_pattern_matches() -> None:
    from extractors.normalize import _WS, squash

    every = "".join(chr(cp) for cp in range(0x110000) if not 0xD800 <= cp < 0xE000)
    assert squash(every) == _WS.sub("", every)
    assert squash(" a\u3000b\u00a0c\u200bd\ufeffe\n\tf ") == "abcdef"


def test_squashed_lists_every_character_squash_removes() -> None:
    from extractors.normalize import SQUASHED, squash

    every = [chr(cp) for cp in range(0x110000) if not 0xD800 <= cp < 0xE000]
    assert {ch for ch in every if squash("a" + ch + "b") == "ab"} == set(SQUASHED)


def test_to_simplified_skips_phrases_that_convert_as_their_characters() -> None:
    """A text holding only phrases whose conversion is their characters' (有序) is translated
    character by character, and that is OpenCC's output; a Traditional-only phrase (瞭解) takes
    the phrase path. Whole corpus documents (one text each, as the view converts them) agree too."""
    from extractors.normalize import _FAST_T2S, _T2S
    from tests.corpus_files import gold_files, read_doc

    special = _FAST_T2S.special[0]
    assert special is not None
    assert special.search("工作有序推进") is None
    assert special.search("进一步瞭解情况") is not None
    assert _FAST_T2S.convert("工作有序推進") == _T2S.convert("工作有序推進") == "工作有序推进"
    assert _FAST_T2S.convert("進一步瞭解情況") == _T2S.convert("進一步瞭解情況") == "进一步了解情况"
    texts = [read_doc(rel).text() for rel in gold_files(("txt", "variants"))]
    assert sum(special.search(t) is None for t in texts) > len(texts) // 2  # most take the fast path
    assert [_FAST_T2S.convert(t) for t in texts] == [_T2S.convert(t) for t in texts]


def test_fold_chars_and_nfkc_on_repeated_and_many_distinct_candidates() -> None:
    """The scan folds each distinct character once, wherever it repeats, and past 24 distinct ones
    takes the set way: both `fold_chars` (one character for one, by definition) and `nfkc`
    (forms longer than the character: ﬁ → fi, ㎡ → m2) agree with `unicodedata` on each."""
    import random
    import unicodedata

    from extractors.normalize import _SCAN_MAX_DISTINCT, _unicode_tables, fold_chars, nfkc
    from tests.corpus_files import gold_files, read_doc

    def by_char(t: str) -> str:
        return "".join(f if len(f := unicodedata.normalize("NFKC", ch)) == 1 else ch for ch in t)

    wide = [chr(cp) for cp in range(0xFF01, 0xFF5F)]  # full-width ASCII: 94 distinct candidates
    pool = ["政", "府", "公", "开", "a", "1", "ﬁ", "㎡", "\u3000", *wide[:40]]
    rng = random.Random(17)
    texts = ["".join(rng.choice(pool) for _ in range(rng.randint(1, 200))) for _ in range(3000)]
    texts += [read_doc(rel).text() for rel in gold_files(("txt", "variants"))]
    pattern = _unicode_tables()[1]
    assert sum(len(set(pattern.findall(t))) > _SCAN_MAX_DISTINCT for t in texts) > 100  # both ways are taken
    assert sum(len(set(pattern.findall(t))) <= _SCAN_MAX_DISTINCT for t in texts) > 100
    assert [fold_chars(t) for t in texts] == [by_char(t) for t in texts]
    assert [nfkc.__wrapped__(t) for t in texts] == [unicodedata.normalize("NFKC", t) for t in texts]
