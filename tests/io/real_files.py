"""A corpus of unusual but real-looking files (issue 19), generated into a folder by the tests:
the case type, its helpers, and the encoding and number cases (dates, labels and reading
robustness are in ``real_files_reading.py``).

Each :class:`Case` writes one file and says what loading it must give: the **values** loaded
(``check`` receives the :class:`~seglens.io.LoadedTable`) or the **exact error** (its class, the
phrases of its message, and where applicable the line, column and value it names). The files
are made here rather than committed so that the bytes are visible next to what they must give.
"""

from __future__ import annotations

import codecs
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from seglens.errors import DataError, SeglensError, UsageError
from seglens.io import LoadedTable, load_table, load_transactions
from seglens.tables import LABELS

HEAD = "customer_id,order_id,timestamp,amount\n"


@dataclass(frozen=True)
class Case:
    """One file, the options it is loaded with, and what must come out."""

    name: str
    data: bytes | Callable[[Path], None]
    check: Callable[[LoadedTable], None] | None = None
    error: type[SeglensError] | None = None
    phrases: tuple[str, ...] = ()
    lines: tuple[int, ...] | None = None
    column: str | None = None
    values: tuple[object, ...] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    suffix: str = ".csv"
    table: str = "transactions"

    def write(self, folder: Path) -> Path:
        path = folder / f"{self.name}{self.suffix}"
        if callable(self.data):
            self.data(path)
        else:
            path.write_bytes(self.data)
        return path

    def load(self, path: Path) -> object:
        if self.table == "labels":
            return load_table(path, LABELS, **self.options)
        return load_transactions(path, **self.options)

    def holds(self, folder: Path) -> None:
        """Write the file into ``folder`` and load it: the values it must give, or the exact
        error (type, phrases, file, lines, column, values, and what to do)."""
        path = self.write(folder)
        if self.error is None:
            assert self.check is not None
            self.check(self.load(path))  # type: ignore[arg-type]
            return
        with pytest.raises(self.error) as info:
            self.load(path)
        err = info.value
        assert type(err) is self.error
        message = str(err)
        for phrase in self.phrases:
            assert phrase in message, message
        assert "what to do:" in message
        if self.error is DataError:
            assert err.source == str(path)
        if self.lines is not None:
            assert list(err.lines)[: len(self.lines)] == list(self.lines), message
        if self.column is not None:
            assert err.column == self.column
        if self.values is not None:
            assert list(err.values)[: len(self.values)] == list(self.values), message


def rows(*lines: str, head: str = HEAD, enc: str = "utf-8") -> bytes:
    """A file: the header and ``lines``, each ended by a newline, in ``enc``."""
    return (head + "".join(f"{ln}\n" for ln in lines)).encode(enc)


def ids(*expected: str) -> Callable[[LoadedTable], None]:
    def check(loaded: LoadedTable) -> None:
        assert loaded.table["customer_id"].to_list() == list(expected)

    return check


def amounts(*expected: float) -> Callable[[LoadedTable], None]:
    def check(loaded: LoadedTable) -> None:
        assert loaded.table["amount"].to_list() == list(expected)

    return check


def times(*expected: dt.datetime) -> Callable[[LoadedTable], None]:
    def check(loaded: LoadedTable) -> None:
        assert loaded.table["timestamp"].to_list() == list(expected)

    return check


def both(*checks: Callable[[LoadedTable], None]) -> Callable[[LoadedTable], None]:
    def check(loaded: LoadedTable) -> None:
        for c in checks:
            c(loaded)

    return check


def encoding(name: str) -> Callable[[LoadedTable], None]:
    def check(loaded: LoadedTable) -> None:
        assert loaded.report.details["encoding"] == name

    return check


def rule(rule_id: str, count: int, *, kept: int | None = None) -> Callable[[LoadedTable], None]:
    def check(loaded: LoadedTable) -> None:
        assert loaded.report.rule(rule_id).rows == count, loaded.report.rule(rule_id)
        if kept is not None:
            assert loaded.report.rows_kept == kept
        assert loaded.report.rows_read - loaded.report.rows_kept == sum(
            r.rows_excluded for r in loaded.report.rules
        )

    return check


def warned(phrase: str) -> Callable[[LoadedTable], None]:
    def check(loaded: LoadedTable) -> None:
        assert any(phrase in w for w in loaded.report.warnings), loaded.report.warnings

    return check


def d(*parts: int) -> dt.datetime:
    return dt.datetime(*parts)  # type: ignore[arg-type]


# --- text that real exports contain -------------------------------------------------------
GERMAN = ["Jürgen Müller", "Käthe Größ", "Österreich GmbH", "Zoë Straße"]
JAPANESE = ["田中太郎", "佐藤花子", "鈴木一郎", "高橋美咲", "伊藤さくら", "渡辺健太"]
KOREAN = ["김민준", "이서연", "박지훈", "최수아", "정우진", "강하은"]
CHINESE = ["王伟", "李娜", "张敏", "刘洋", "陈静", "杨磊"]
TAIWAN = ["陳志明", "林淑芬", "黃建宏", "張雅婷", "李俊傑", "王美玲"]
RUSSIAN = ["Иван Петров", "Мария Смирнова", "Ольга Иванова", "Сергей Кузнецов"]


def people(names: list[str], enc: str, *, sep: str = ",") -> bytes:
    head = sep.join(["customer_id", "order_id", "timestamp", "amount"]) + "\n"
    lines = [sep.join([n, f"O{i}", f"2024-01-0{i + 1}", "5"]) for i, n in enumerate(names)]
    return rows(*lines, head=head, enc=enc)


def many(value: str, n: int, *tail: str) -> bytes:
    """``n`` lines with the amount ``value`` and then the ``tail`` amounts."""
    body = [f"C{i},O{i},2024-01-01,{value}" for i in range(n)]
    body += [f'T{i},P{i},2024-01-02,"{v}"' for i, v in enumerate(tail)]
    return rows(*body)


PLAIN = rows("C1,O1,2024-01-05,12.5", "C2,O2,2024-01-06,3")

ENCODINGS = [
    Case("utf8_umlauts", people(GERMAN, "utf-8"), both(ids(*GERMAN), encoding("utf-8"))),
    Case("utf8_bom", codecs.BOM_UTF8 + people(GERMAN, "utf-8"), ids(*GERMAN)),
    Case("utf16_le_bom", people(GERMAN, "utf-16"), both(ids(*GERMAN), encoding("utf-16"))),
    Case(
        "utf16_be_bom",
        codecs.BOM_UTF16_BE + people(GERMAN, "utf-16-be"),
        both(ids(*GERMAN), encoding("utf-16")),
    ),
    Case(
        "utf16_le_no_bom",
        people(GERMAN, "utf-16-le"),
        both(ids(*GERMAN), encoding("utf-16-le"), warned("without byte-order mark")),
    ),
    Case("utf16_be_no_bom", people(JAPANESE, "utf-16-be"), ids(*JAPANESE)),
    Case("utf32_bom", people(GERMAN, "utf-32"), both(ids(*GERMAN), encoding("utf-32"))),
    Case("utf32_le_no_bom", people(KOREAN, "utf-32-le"), ids(*KOREAN)),
    Case(
        "cp1252_german_header",
        rows(
            "Jürgen Müller;O1;05.01.2024;12,50;Österreich",
            "Käthe Größ;O2;06.01.2024;3,00;Deutschland",
            head="Kunde;Rechnung;Datum;Betrag;Land_vereinigtes_königreich\n",
            enc="cp1252",
        ),
        both(
            ids("Jürgen Müller", "Käthe Größ"),
            amounts(12.5, 3.0),
            encoding("cp1252"),
            lambda t: _has_column(t, "Land_vereinigtes_königreich"),
        ),
    ),
    Case(
        "cp1252_excel_audit_sheet",
        rows(
            *(f"Jürgen Müller {i},O{i},2024-01-0{i},5,“geprüft” – ok" for i in range(1, 8)),
            head=HEAD.strip() + ",note\n",
            enc="cp1252",
        ),
        both(ids(*(f"Jürgen Müller {i}" for i in range(1, 8))), encoding("cp1252")),
    ),
    Case(
        "cp1252_french_euro",
        rows(
            'Hélène,O1,2024-01-05,"12,50 €"',
            'François,O2,2024-01-06,"1 234,00 €"',
            "Chloé,O3,2024-01-07,3",
            enc="cp1252",
        ),
        both(ids("Hélène", "François", "Chloé"), amounts(12.5, 1234.0, 3.0)),
    ),
    Case(
        "latin1_nordic",
        people(["Ørsted A/S", "Åse Ødegård", "Æbleø"], "latin-1"),
        ids("Ørsted A/S", "Åse Ødegård", "Æbleø"),
    ),
    Case(
        "mixed_utf8_and_cp1252_lines",
        rows("Müller,O1,2024-01-05,1") + "Jürgen,O2,2024-01-06,2\n".encode("cp1252"),
        both(ids("Müller", "Jürgen"), warned("mixed encodings")),
    ),
    Case(
        "shift_jis_ids",
        rows(*(f"顧客{i:03d},注文{i},2024-01-0{i},5" for i in range(1, 6)), enc="shift_jis"),
        both(ids(*(f"顧客{i:03d}" for i in range(1, 6))), encoding("cp932")),
    ),
    Case("shift_jis_names", people(JAPANESE, "cp932"), both(ids(*JAPANESE), encoding("cp932"))),
    Case("euc_jp_names", people(JAPANESE, "euc_jp"), both(ids(*JAPANESE), encoding("euc_jp"))),
    Case("euc_kr_names", people(KOREAN, "euc_kr"), both(ids(*KOREAN), encoding("cp949"))),
    Case("gb18030_names", people(CHINESE, "gb18030"), both(ids(*CHINESE), encoding("gb18030"))),
    Case("big5_names", people(TAIWAN, "big5"), both(ids(*TAIWAN), encoding("cp950"))),
    Case("cp1251_names", people(RUSSIAN, "cp1251"), both(ids(*RUSSIAN), encoding("cp1251"))),
    Case(
        "cp1250_polish_unsure",
        people(["Zażółć gęślą jaźń", "Łódź", "Wrocław"], "cp1250"),
        error=DataError,
        phrases=("cannot tell the text encoding", "--encoding", "cp1250: 'Zażółć gęślą jaźń"),
        lines=(2,),
    ),
    Case(
        "cp1250_polish_given",
        people(["Zażółć gęślą jaźń", "Łódź", "Wrocław"], "cp1250"),
        ids("Zażółć gęślą jaźń", "Łódź", "Wrocław"),
        options={"encoding": "cp1250"},
    ),
    Case(
        "cp1253_greek_unsure",
        people(["Γιώργος Παπαδόπουλος", "Μαρία Νικολάου"], "cp1253"),
        error=DataError,
        phrases=("cannot tell the text encoding", "cp1253: 'Γιώργος Παπαδόπουλος"),
    ),
    Case(
        "encoding_utf_99",
        PLAIN,
        error=UsageError,
        phrases=("unknown text encoding 'utf-99'", "utf-8"),
        options={"encoding": "utf-99"},
    ),
    Case(
        "encoding_not_text",
        PLAIN,
        error=UsageError,
        phrases=("unknown text encoding 'base64'",),
        options={"encoding": "base64"},
    ),
]


def _has_column(loaded: LoadedTable, name: str) -> None:
    assert name in loaded.report.columns_read, loaded.report.columns_read


NUMBERS = [
    Case(
        "thousands_comma_only",
        rows(*(f'C{i},O{i},2024-01-0{i},"{i},{i}{i}{i}"' for i in range(1, 10))),
        error=DataError,
        phrases=("cannot tell whether ','", "'1,111' could be 1111 or 1.111", "--decimal"),
        lines=tuple(range(2, 11)),
        column="amount",
        values=tuple(f"{i},{i}{i}{i}" for i in range(1, 10)),
    ),
    Case(
        "thousands_comma_only_decimal_point",
        rows(*(f'C{i},O{i},2024-01-0{i},"{i},000"' for i in range(1, 10))),
        amounts(*(i * 1000.0 for i in range(1, 10))),
        options={"decimal": "."},
    ),
    Case(
        "thousands_comma_only_decimal_comma",
        rows(*(f'C{i},O{i},2024-01-0{i},"{i},500"' for i in range(1, 10))),
        amounts(*(i + 0.5 for i in range(1, 10))),
        options={"decimal": ","},
    ),
    Case(
        "thousands_with_decimal_point_evidence",
        rows('C1,O1,2024-01-01,"1,000"', "C2,O2,2024-01-02,12.50", 'C3,O3,2024-01-03,"9,999"'),
        amounts(1000.0, 12.5, 9999.0),
    ),
    Case(
        "thousands_with_decimal_comma_evidence",
        rows(
            "C1;O1;2024-01-01;1.000",
            "C2;O2;2024-01-02;12,50",
            "C3;O3;2024-01-03;1.234.567,8",
            head=HEAD.replace(",", ";"),
        ),
        both(amounts(1000.0, 12.5, 1234567.8), lambda t: _decimal_comma(t, ["amount"])),
    ),
    Case(
        "mixed_conventions",
        rows('C1,O1,2024-01-01,"1,234.56"', 'C2,O2,2024-01-02,"1.234,56"', "C3,O3,2024-01-03,5"),
        error=DataError,
        phrases=("mixes two number formats", "--decimal"),
        lines=(2, 3),
        column="amount",
        values=("1,234.56", "1.234,56"),
    ),
    Case(
        "mixed_conventions_after_100k_rows",
        many("12.50", 100_005, "1.234,56"),
        error=DataError,
        phrases=("mixes two number formats",),
        lines=(2, 3, 4, 100_007),
        column="amount",
    ),
    Case(
        "decimal_comma_shows_after_100k_rows",
        many("5", 100_005, "12,50", "1.500"),
        both(
            lambda t: _tail_amounts(t, [12.5, 1500.0]),
            warned("read with a decimal comma"),
            lambda t: _decimal_comma(t, ["amount"]),
        ),
    ),
    Case(
        "three_decimals_only_ambiguous",
        rows("C1,O1,2024-01-01,1.500", "C2,O2,2024-01-02,2.250", "C3,O3,2024-01-03,7"),
        error=DataError,
        phrases=("cannot tell whether '.'", "'1.500' could be 1500 or 1.5"),
        lines=(2, 3),
        column="amount",
    ),
    Case(
        "decimal_comma_value_among_decimal_points",
        many("12.50", 150, "1,2345"),
        error=DataError,
        phrases=("mixes two number formats",),
        lines=(2, 3, 4, 152),
        values=("12.50", "12.50", "12.50", "1,2345"),
    ),
    Case(
        "misplaced_separator_is_unreadable",
        many("12.50", 150, "1,23.45"),
        both(rule("unparseable_amount", 1, kept=150), lambda t: _example(t, "1,23.45")),
    ),
    Case(
        "indian_grouping",
        rows('C1,O1,2024-01-01,"12,34,567.50"', "C2,O2,2024-01-02,99.5"),
        amounts(1234567.5, 99.5),
    ),
    Case(
        "swiss_apostrophe_and_currency",
        rows(
            "C1,O1,2024-01-01,CHF 1'234.50",
            'C2,O2,2024-01-02,"£1,000.00"',
            "C3,O3,2024-01-03,(7.25)",
        ),
        amounts(1234.5, 1000.0, -7.25),
    ),
    Case(
        "space_thousands_decimal_comma",
        rows("C1;O1;2024-01-01;1 234,50", "C2;O2;2024-01-02;12,00", head=HEAD.replace(",", ";")),
        amounts(1234.5, 12.0),
    ),
    Case(
        "decimal_option_unknown",
        PLAIN,
        error=UsageError,
        phrases=("unknown decimal separator 'x'",),
        options={"decimal": "x"},
    ),
]


def _decimal_comma(loaded: LoadedTable, columns: list[str]) -> None:
    assert loaded.report.details["decimal_comma"] == columns


def _tail_amounts(loaded: LoadedTable, expected: list[float]) -> None:
    assert loaded.table["amount"].tail(len(expected)).to_list() == expected
    assert loaded.table["amount"].head(3).to_list() == [5.0, 5.0, 5.0]


def _example(loaded: LoadedTable, value: str) -> None:
    assert loaded.report.rule("unparseable_amount").examples[0]["value"] == value
