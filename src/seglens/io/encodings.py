"""Which text encoding a file is in, decided on evidence among the encodings users really send.

The decision rule (``docs/decisions.md``, "Text encodings"):

1. A byte-order mark decides: UTF-8, UTF-16 or UTF-32 (little or big endian).
2. Without one, UTF-16 and UTF-32 are recognised by their NUL bytes (ASCII text in UTF-16 has
   a NUL in every other byte), confirmed by a clean decode.
3. Bytes that decode as UTF-8 are UTF-8.
4. Otherwise only the lines that are not UTF-8 are looked at, and an East-Asian encoding
   (Shift-JIS/CP932, EUC-JP, EUC-KR/CP949, GB18030/GBK, Big5) is chosen only on evidence: the
   bytes decode cleanly in it, there are at least :data:`MIN_MULTIBYTE` multibyte characters,
   nearly all of them are in the encoding's standard character set, common characters of its
   language make up a fair share of them, and no other East-Asian reading comes close.
5. Else Windows-1252 (a superset of Latin-1's printable characters) when the bytes read as
   Western text: accented letters mostly single between ASCII letters, no symbols inside words.
6. Else Windows-1251 when they read as Russian/Ukrainian words (runs of Cyrillic letters with a
   plausible share of vowels).
7. Anything else stops with a :class:`~seglens.errors.DataError` naming ``--encoding``, the
   candidate encodings and the same line read in each.

A statistical detector's best guess (charset-normalizer names code pages such as ``hp_roman8``,
``cp775`` or ``cp949`` for ordinary Windows-1252 or Shift-JIS bytes) is never used.
"""

from __future__ import annotations

import codecs
import unicodedata
from dataclasses import dataclass
from typing import Final

from seglens.errors import DataError, UsageError

__all__ = [
    "MIN_MULTIBYTE",
    "Sniffed",
    "check_encoding",
    "decode_lines",
    "sniff_encoding",
    "wide_encoding",
]

MIN_MULTIBYTE: Final = 6
"""Fewest multibyte characters that can show an East-Asian encoding."""
_MAX_CHARS: Final = 4000
"""Non-ASCII characters examined per candidate (plenty of evidence, bounded time)."""

_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

_LABELS: Final = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with byte-order mark",
    "utf-16": "UTF-16 with byte-order mark",
    "utf-16-le": "UTF-16 little-endian without byte-order mark",
    "utf-16-be": "UTF-16 big-endian without byte-order mark",
    "utf-32": "UTF-32 with byte-order mark",
    "utf-32-le": "UTF-32 little-endian without byte-order mark",
    "utf-32-be": "UTF-32 big-endian without byte-order mark",
    "cp1252": "Windows-1252 / Latin-1, Western European",
    "cp1250": "Windows-1250, Central European",
    "cp1251": "Windows-1251, Cyrillic",
    "cp1253": "Windows-1253, Greek",
    "cp932": "Shift-JIS / CP932, Japanese",
    "euc_jp": "EUC-JP, Japanese",
    "cp949": "EUC-KR / CP949, Korean",
    "gb18030": "GB18030 / GBK, Simplified Chinese",
    "cp950": "Big5 / CP950, Traditional Chinese",
}

# Common characters of each language: everyday words, family and given names, places and
# shop vocabulary. A reading in the right encoding hits them often; the same bytes read in
# another East-Asian encoding give unrelated characters that rarely do.
_KANA: Final = (0x3041, 0x30FF)
_JAPANESE: Final = frozenset(
    "日一人年大十二本中長出三時行見月分後前生五間上東四今金九入学高円子外八六下来気小七山話女"
    "北午百書先名川千水半男西電校語土木田佐藤鈴橋渡辺伊林加吉松井村斎清森池口阿部岡野石原島"
    "藤店株式会社様商品京阪都府県市区町舗茶緑抹醤油花子郎太美咲健翔和正雄明幸恵由香智直樹"
    "福岡札幌名古屋横浜神戸埼玉千葉奈良沖縄広島宮城静熊本"
)
_KOREAN: Final = frozenset(
    "이다에의는로하을가고지서한은기으년대사시를리도인스일김박최정강조윤장임오신권황안송류홍"
    "전문양손배백허유남심노곽성차주우구민나진엄채원천방공현함변염여추소석선설마길연위표명반"
    "왕금옥육맹제모탁국어편용울산부광역특별경북충제수영준호혜희경숙미자순철동재상훈아은빈"
    "녹차라면세트건볼펜검공책상품고객회식회사주문"
)
_CHINESE: Final = frozenset(
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之"
    "年过发后作里用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样"
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华北京市海广州深圳成都重庆天津南武汉西安"
    "省区县路号店公司商品茶酱油毛巾笔记本绿包装"
)
_TRADITIONAL: Final = frozenset(
    "的一是不了在人有我他這個們中來上大為和國地到以說時要就出會可也你對生能而子那得於著下自之"
    "年過發後作裡用道行所然家種事成方多經麼去法學如都同現當沒動面起看定天分還進好小部其些主樣"
    "陳林黃張李王吳劉蔡楊許鄭謝洪郭邱曾廖賴徐周葉蘇莊呂江何蕭羅高潘簡朱鍾游彭詹胡施沈余盧梁趙"
    "顏柯翁魏孫戴志明淑芬建宏雅婷俊傑美玲家豪怡君臺台北新中市高雄桃園縣區路號店公司商品茶醬油"
    "毛巾筆記本綠組"
)


@dataclass(frozen=True)
class _EastAsian:
    codec: str
    base: str | None
    """A codec for the encoding's standard character set (None: the codec itself)."""
    frequent: frozenset[str]
    kana: bool = False


_EAST_ASIAN: Final = (
    _EastAsian("cp932", "euc_jp", _JAPANESE, kana=True),
    _EastAsian("euc_jp", "euc_jp", _JAPANESE, kana=True),
    _EastAsian("cp949", "euc_kr", _KOREAN),
    _EastAsian("gb18030", "gb2312", _CHINESE),
    _EastAsian("cp950", "big5", _TRADITIONAL),
)

# Western text: symbols that may sit inside a word (apostrophes, hyphens, middle dot)
_IN_WORD_OK: Final = frozenset("’‘´`·–—‐‑‚„“”")
_CYRILLIC_VOWELS: Final = frozenset("аеёиоуыэюяіїєАЕЁИОУЫЭЮЯІЇЄ")


@dataclass(frozen=True)
class Sniffed:
    """The encoding chosen for a file and the evidence, for the cleaning report."""

    encoding: str
    evidence: str

    @property
    def label(self) -> str:
        """The codec and a readable name (``cp932 (Shift-JIS / CP932, Japanese)``)."""
        name = _LABELS.get(self.encoding)
        return f"{self.encoding} ({name})" if name else self.encoding


def check_encoding(name: str) -> str:
    """The codec name for a user's ``--encoding``; a clear :class:`UsageError` if unknown.

    >>> check_encoding("Windows-1252"), check_encoding("UTF8"), check_encoding("sjis")
    ('cp1252', 'utf-8', 'shift_jis')
    """
    try:
        info = codecs.lookup(name)
        b"a,b\n".decode(info.name)  # not a bytes-to-bytes codec such as base64
    except LookupError:
        raise UsageError(
            f"unknown text encoding {name!r}",
            hint="give a Python codec name: utf-8, utf-8-sig, utf-16, cp1252 (Windows "
            "Western), latin-1, cp1250, cp1251, shift_jis / cp932, euc_jp, gb18030, cp949, big5",
        ) from None
    return info.name


def _utf16_or_32(head: bytes) -> str | None:
    """UTF-16/32 without a BOM, from where the NUL bytes are (ASCII-heavy text)."""
    sample = head[:4096]
    sample = sample[: len(sample) - len(sample) % 4]
    if len(sample) < 8 or sample.count(0) < len(sample) // 4:
        return None

    def zeros(offset: int, step: int) -> float:
        part = sample[offset::step]
        return part.count(0) / len(part)

    candidates: list[str] = []
    if min(zeros(2, 4), zeros(3, 4)) > 0.98 and zeros(0, 4) < 0.05:
        candidates.append("utf-32-le")
    if min(zeros(0, 4), zeros(1, 4)) > 0.98 and zeros(3, 4) < 0.05:
        candidates.append("utf-32-be")
    if zeros(1, 2) > 0.6 and zeros(0, 2) < 0.05:
        candidates.append("utf-16-le")
    if zeros(0, 2) > 0.6 and zeros(1, 2) < 0.05:
        candidates.append("utf-16-be")
    for enc in candidates:
        try:
            text = codecs.getincrementaldecoder(enc)().decode(sample, final=False)
        except UnicodeDecodeError:
            continue
        controls = sum(1 for ch in text if ch < " " and ch not in "\t\r\n")
        if "\x00" not in text and controls <= len(text) // 100:
            return enc
    return None


def wide_encoding(head: bytes) -> str | None:
    """UTF-16 or UTF-32 (by byte-order mark or NUL pattern): the encodings with NUL bytes."""
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return codec if codec.startswith(("utf-16", "utf-32")) else None
    return _utf16_or_32(head)


def _non_utf8_lines(head: bytes, truncated: bool) -> list[tuple[int, bytes]]:
    """The lines of ``head`` (1-based numbers) that are not valid UTF-8."""
    lines = head.split(b"\n")
    if truncated and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut inside a character
    out = []
    for number, line in enumerate(lines, start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            out.append((number, line))
    return out


def _decodes(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None


def _in_standard_set(ch: str, cand: _EastAsian) -> bool:
    """Whether ``ch`` belongs to the core of the candidate's standard character set."""
    code = ord(ch)
    if 0x3000 <= code <= 0x303F or 0xFF01 <= code <= 0xFF5E:  # CJK punctuation, fullwidth
        return True
    if cand.kana and _KANA[0] <= code <= _KANA[1]:
        return True
    if cand.codec == "cp949" and not 0xAC00 <= code <= 0xD7A3:
        return False  # modern Korean data is Hangul; Hanja and symbols are no evidence
    if not (0x4E00 <= code <= 0x9FFF or 0xAC00 <= code <= 0xD7A3):
        return False
    try:
        encoded = ch.encode(cand.base or cand.codec)
    except UnicodeEncodeError:
        return False
    return len(encoded) == 2


@dataclass(frozen=True)
class _Reading:
    codec: str
    chars: int
    standard: float
    common: float


def _east_asian_readings(data: bytes) -> list[_Reading]:
    """Every East-Asian candidate that decodes ``data`` cleanly, with its evidence."""
    readings = []
    for cand in _EAST_ASIAN:
        text = _decodes(data, cand.codec)
        if text is None:
            continue
        chars = [ch for ch in text if ord(ch) > 127][:_MAX_CHARS]
        if not chars:
            continue
        standard = sum(_in_standard_set(ch, cand) for ch in chars) / len(chars)
        common = sum(
            ch in cand.frequent or (cand.kana and _KANA[0] <= ord(ch) <= _KANA[1]) for ch in chars
        ) / len(chars)
        readings.append(_Reading(cand.codec, len(chars), standard, common))
    return readings


def _pick_east_asian(readings: list[_Reading], paired: float) -> _Reading | None:
    """The one East-Asian reading the evidence supports, or None.

    ``paired`` is the share of non-ASCII bytes that stand next to another one (every character
    of these encodings is two bytes or more; accented Western letters mostly stand alone).
    """
    plausible = [r for r in readings if r.chars >= MIN_MULTIBYTE and r.standard >= 0.9]
    if not plausible:
        return None
    plausible.sort(key=lambda r: r.common, reverse=True)
    best = plausible[0]
    if best.common >= 0.1:
        if len(plausible) > 1 and plausible[1].common * 2 > best.common:
            return None  # two languages fit about as well: let the user say
        return best
    # no common words (ids such as 顧客001): only when no other reading is standard text
    return best if len(plausible) == 1 and paired >= 0.8 else None


def _runs(data: bytes) -> list[int]:
    """Lengths of the runs of consecutive non-ASCII bytes."""
    runs, current = [], 0
    for byte in data:
        if byte > 127:
            current += 1
        elif current:
            runs.append(current)
            current = 0
    if current:
        runs.append(current)
    return runs


def _single_byte(data: bytes, codec: str) -> str:
    """``data`` read with a single-byte code page (Latin-1 for the bytes it leaves undefined)."""
    return "".join(
        _decodes(bytes([b]), codec) or chr(b) if b > 127 else chr(b) for b in data[:65536]
    )


def _reads_as_western(data: bytes) -> bool:
    """Whether the non-UTF-8 bytes read as Western European text in Windows-1252."""
    runs = _runs(data[:65536])
    total = sum(runs)
    if not total or sum(n for n in runs if n >= 3) > 0.25 * total:
        return False  # whole words of high bytes: another script
    text = _single_byte(data, "cp1252")
    high = [i for i, ch in enumerate(text) if ord(ch) > 127]
    odd = 0
    for i in high:
        ch = text[i]
        if unicodedata.category(ch).startswith("L") or ch in _IN_WORD_OK:
            continue
        if unicodedata.category(ch) == "Cc":  # a byte Windows-1252 leaves undefined
            odd += 1
            continue
        before = text[i - 1] if i else " "
        after = text[i + 1] if i + 1 < len(text) else " "
        if before.isalpha() and after.isalpha():
            odd += 1  # 'Wroc³aw' (Polish ł in Windows-1250), a symbol inside a word
        elif after.isalpha() and after.islower() and ch in "£¥¢¤¦¨¯¸¹²³¼½¾×÷":
            odd += 1
    return odd <= len(high) // 100


def _reads_as_cyrillic(data: bytes) -> bool:
    """Whether the non-UTF-8 bytes read as Russian/Ukrainian words in Windows-1251."""
    runs = _runs(data[:65536])
    total = sum(runs)
    if not total or sum(n for n in runs if n >= 3) < 0.5 * total:
        return False
    text = _single_byte(data, "cp1251")
    letters = [ch for ch in text if ord(ch) > 127 and unicodedata.category(ch).startswith("L")]
    high = sum(1 for ch in text if ord(ch) > 127)
    if len(letters) < 20 or len(letters) < 0.95 * high:
        return False
    if not all("\u0400" <= ch <= "\u04ff" for ch in letters):
        return False
    vowels = sum(ch in _CYRILLIC_VOWELS for ch in letters) / len(letters)
    return 0.3 <= vowels <= 0.6


_ASK: Final = ("cp1252", "cp1250", "cp1251", "cp1253", "cp932", "gb18030", "cp949", "cp950")


def _unsure(source: str, lines: list[tuple[int, bytes]], readings: list[_Reading]) -> DataError:
    """The error when no reading has enough evidence: candidates and one line read in each."""
    number, line = lines[0]
    first = next(i for i, b in enumerate(line) if b > 127)
    snippet = line[max(0, first - 20) : first + 40]
    plausible = {r.codec for r in readings if r.standard >= 0.5}
    candidates = [c for c in _ASK if c in plausible or c.startswith("cp125")]
    shown = []
    for codec in candidates:
        text = _decodes(snippet, codec)
        if text is not None and "\ufffd" not in text:
            shown.append(f"{codec}: {text.strip()!r}")
    return DataError(
        "cannot tell the text encoding: the file is not UTF-8, and its other bytes do not "
        "clearly read as one of the encodings seglens picks by itself",
        source=source,
        lines=(number,),
        values=(snippet,),
        hint="give the encoding with --encoding (encoding = in [ingest]); line "
        f"{number} reads as " + "; ".join(shown[:6]),
    )


def sniff_encoding(head: bytes, *, truncated: bool, source: str) -> Sniffed:
    """The encoding of a text file from its first bytes (see the module docstring).

    >>> sniff_encoding("Müller;Köln\\n".encode("cp1252"), truncated=False, source="x").encoding
    'cp1252'
    >>> sniff_encoding("a,b\\n".encode("utf-16-le"), truncated=False, source="x").encoding
    'utf-16-le'
    """
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return Sniffed(codec, "byte-order mark")
    wide = _utf16_or_32(head)
    if wide is not None:
        return Sniffed(wide, "NUL bytes between ASCII characters, no byte-order mark")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=not truncated)
        return Sniffed("utf-8", "valid UTF-8")
    except UnicodeDecodeError:
        pass
    lines = _non_utf8_lines(head, truncated)
    if not lines:  # the only invalid bytes are a character cut at the end of the sample
        return Sniffed("utf-8", "valid UTF-8")
    data = b"\n".join(line for _, line in lines)[:262144]
    readings = _east_asian_readings(data)
    runs = _runs(data[:65536])
    paired = sum(n for n in runs if n >= 2) / max(1, sum(runs))
    best = _pick_east_asian(readings, paired)
    if best is not None:
        return Sniffed(
            best.codec,
            f"{best.chars:,} multibyte characters decode cleanly, "
            f"{best.standard:.0%} in its standard character set",
        )
    if _reads_as_western(data):
        return Sniffed("cp1252", "accented letters between ASCII letters")
    if _reads_as_cyrillic(data):
        return Sniffed("cp1251", "words of Cyrillic letters")
    raise _unsure(source, lines, readings)


def decode_lines(raw: bytes, codec: str) -> tuple[bytes, int, list[int]]:
    """``raw`` as UTF-8 bytes: lines that are valid UTF-8 kept, others decoded with ``codec``.

    Returns the UTF-8 bytes, the number of non-ASCII lines that were UTF-8 (a file mixing
    encodings), and the 1-based numbers of lines ``codec`` could not decode either (their bad
    bytes become U+FFFD). A single-byte Windows code page falls back to Latin-1 for the bytes
    it leaves undefined.
    """
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError:
        text = None
    if text is not None and not _has_utf8_lines(raw):
        return text.encode("utf-8"), 0, []
    out: list[bytes] = []
    n_utf8 = 0
    bad: list[int] = []
    single = codec.startswith("cp125")
    for number, line in enumerate(raw.splitlines(keepends=True), start=1):
        if line.isascii():
            out.append(line)
            continue
        try:
            line.decode("utf-8")
            out.append(line)
            n_utf8 += 1
            continue
        except UnicodeDecodeError:
            pass
        try:
            decoded = line.decode(codec)
        except UnicodeDecodeError:
            if single:
                decoded = "".join(_decodes(bytes([b]), codec) or chr(b) for b in line)
            else:
                decoded = line.decode(codec, errors="replace")
                bad.append(number)
        out.append(decoded.encode("utf-8"))
    return b"".join(out), n_utf8, bad


def _has_utf8_lines(raw: bytes) -> bool:
    """Whether some non-ASCII line is valid UTF-8 (then the file mixes encodings)."""
    for line in raw.splitlines():
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            return True
        except UnicodeDecodeError:
            continue
    return False
