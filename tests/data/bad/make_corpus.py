"""Regenerate the malformed-input corpus in this folder: ``python tests/data/bad/make_corpus.py``.

The files are committed; this script documents exactly how each was made. Expected outcomes are
listed in README.md (the corpus test reads that table).
"""

from __future__ import annotations

import gzip
import io
import random
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"


def rows(n: int, *, sep: str = ",", start: int = 536365) -> list[str]:
    rng = random.Random(n)
    out = []
    for i in range(n):
        cust = f"{rng.randint(12346, 18287)}.0"
        out.append(
            sep.join(
                [
                    str(start + i // 3),
                    f"{85000 + i % 50}A",
                    "WHITE HEART",
                    str(rng.randint(1, 12)),
                    f"2011-0{1 + i % 9}-{10 + i % 18} 08:{10 + i % 50}:00",
                    f"{rng.randint(1, 999) / 100:.2f}",
                    cust,
                    "United Kingdom",
                ]
            )
            + "\n"
        )
    return out


def simple(n: int = 6) -> str:
    return HEADER + "".join(rows(n))


def write(name: str, data: str | bytes) -> None:
    path = HERE / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def xlsx_files() -> None:
    import openpyxl
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(HERE / "excel_formulas.xlsx"))
    ws = wb.add_worksheet("Orders")
    for c, h in enumerate(["Invoice", "Customer", "Date", "Qty", "Price", "Total"]):
        ws.write(0, c, h)
    for r in range(1, 6):
        ws.write(r, 0, f"10{r}")
        ws.write(r, 1, f"00{r}")
        ws.write(r, 2, f"2024-03-0{r}")
        ws.write_number(r, 3, r)
        ws.write_number(r, 4, 2.5)
        ws.write_formula(r, 5, f"=D{r + 1}*E{r + 1}", None, r * 2.5)
    wb.close()

    wb2 = openpyxl.Workbook()
    ws2 = wb2.active
    ws2.title = "Orders"
    ws2.append(["Invoice", "Customer", "Date", "Total"])
    for r in range(1, 6):
        ws2.append([f"10{r}", f"C{r}", f"2024-03-0{r}", f"=SUM({r},1)"])
    wb2.save(HERE / "excel_formulas_never_calculated.xlsx")

    wb3 = openpyxl.Workbook()
    ws3 = wb3.active
    ws3.title = "Orders"
    ws3.append(["Invoice", "Customer", "Date", "Total", "Product"])
    ws3.append(["101", "=1+1", "2024-03-01", 10.0, "@SUM(A1:A3)"])
    ws3.append(["102", "+44 20", "2024-03-02", 12.0, "-2+3"])
    ws3.append(["103", "C3", "2024-03-03", 14.0, '=HYPERLINK("http://x")'])
    # stored as text, not formulas: openpyxl writes strings starting with "=" as formulas
    for row in ws3.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    wb3.save(HERE / "excel_formula_looking_text.xlsx")

    wb4 = openpyxl.Workbook()
    wb4.active.title = "Empty"
    wb4.save(HERE / "excel_empty.xlsx")

    wb5 = openpyxl.Workbook()
    a = wb5.active
    a.title = "Jan"
    a.append(["InvoiceNo", "CustomerID", "InvoiceDate", "Amount"])
    a.append(["1", 17850.0, "2024-01-03", 5.0])
    b = wb5.create_sheet("Feb")
    b.append(["InvoiceNo", "CustomerID", "InvoiceDate", "Amount"])
    b.append(["2", 13047.0, "2024-02-03", "not a number"])
    b.append(["3", 13047.0, "2024-02-04", 7.0])
    wb5.save(HERE / "excel_two_sheets_bad_amount.xlsx")

    good = (HERE / "excel_formulas.xlsx").read_bytes()
    write("excel_truncated.xlsx", good[: len(good) // 2])


def main() -> None:
    write(
        "semicolon_decimal_comma.csv",
        "Kunde;Rechnung;Datum;Betrag\n0012;R1;05.01.2024;12,50\n0012;R2;06.01.2024;1.234,00\n"
        "0099;R3;07.01.2024;3,10\n",
    )
    write("tab_separated.tsv", simple().replace(",", "\t"))
    write("pipe_separated.txt", simple().replace(",", "|"))
    lines = simple().splitlines(keepends=True)
    write("mixed_delimiters.csv", lines[0] + "".join(ln.replace(",", ";") for ln in lines[1:]))
    write("single_column.csv", "customer order date amount\n1 2 2024-01-01 5\n3 4 2024-01-02 6\n")
    write(
        "missing_customer_column.csv",
        "InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice\n1,A,1,2024-01-01,2.0\n",
    )
    write(
        "missing_amount_column.csv",
        "customer_id,order_id,timestamp\n1,10,2024-01-01\n2,11,2024-01-02\n",
    )
    body = rows(8)
    for i in (2, 5, 6):
        parts = body[i].split(",")
        parts[5] = "abc"
        body[i] = ",".join(parts)
    write("text_in_amount.csv", HEADER + "".join(body))
    body = rows(300)
    parts = body[150].split(",")
    parts[5] = "twelve"
    body[150] = ",".join(parts)
    write("one_bad_amount_in_300.csv", HEADER + "".join(body))
    write(
        "impossible_dates.csv",
        "customer_id,order_id,timestamp,amount\n1,1,2011-02-30,5\n2,2,2011-13-01,6\n"
        "3,3,2011-04-31,7\n4,4,2011-05-01,8\n",
    )
    write(
        "mixed_date_formats.csv",
        "customer_id,order_id,timestamp,amount\n"
        + "".join(f"{i},{i},2024-01-{10 + i:02d} 10:00:00,5\n" for i in range(1, 10))
        + "10,10,2024-01-20,6\n",
    )
    write(
        "yyyymmdd_dates.csv",
        "cust_id,order_no,order_date,total\n007,1,20240105,9.99\n008,2,20240131,1.00\n",
    )
    write(
        "us_dates_ampm.csv",
        "Customer,Order,Date,Sales\n1,1,12/13/2010 8:26 AM,5\n2,2,1/2/2011 1:05 PM,6\n",
    )
    write(
        "latin1.csv",
        (
            "customer_id,order_id,timestamp,amount,product_id\n"
            "1,1,2024-01-01,5,Crème brûlée\n2,2,2024-01-02,6,Café\n"
        ).encode("latin-1"),
    )
    write("utf8_bom.csv", b"\xef\xbb\xbf" + simple().encode("utf-8"))
    write(
        "mixed_encodings.csv",
        b"customer_id,order_id,timestamp,amount,product_id\n"
        + "1,1,2024-01-01,5,Café\n".encode()
        + "2,2,2024-01-02,6,Café\n".encode("latin-1"),
    )
    write("utf16.csv", simple().encode("utf-16"))
    write("empty.csv", b"")
    write("whitespace_only.csv", "  \n\n \t\n")
    write("header_only.csv", HEADER)
    rng = random.Random(1)
    write("binary_junk.csv", bytes(rng.randrange(256) for _ in range(4096)))
    write("png_renamed.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("data.csv", simple())
    write("zip_renamed.csv", buf.getvalue())
    write(
        "ragged_rows.csv",
        HEADER
        + "".join(rows(4))
        + "536999,85123A,HEART, WHITE,6,2011-01-01 08:00:00,2.55,17850.0,United Kingdom\n",
    )
    write(
        "unterminated_quote.csv",
        HEADER
        + "".join(rows(3))
        + '536999,85123A,"WHITE HEART,6,2011-01-01 08:00:00,2.55,17850.0,United Kingdom\n',
    )
    write(
        "duplicate_header.csv",
        "CustomerID,CustomerID,InvoiceNo,InvoiceDate,Amount\n"
        "1,9,10,2024-01-01,5\n2,8,11,2024-01-02,6\n",
    )
    write(
        "all_customer_ids_missing.csv",
        "customer_id,order_id,timestamp,amount\n,1,2024-01-01,5\n,2,2024-01-02,6\n",
    )
    write(
        "nan_customer_ids.csv",
        "customer_id,order_id,timestamp,amount\n"
        "NaN,1,2024-01-01,5\n17850.0,2,2024-01-02,6\nNULL,3,2024-01-02,6\n",
    )
    write(
        "formula_injection.csv",
        "customer_id,order_id,timestamp,amount\n"
        '=HYPERLINK("http://evil"),1,2024-01-01,5\n@SUM(A1),2,2024-01-02,6\n3,3,2024-01-03,7\n',
    )
    write(
        "quoted_newlines.csv",
        HEADER
        + "".join(rows(2))
        + '536999,85123A,"TWO\nLINES",6,2011-01-01 08:00:00,2.55,17850.0,United Kingdom\n',
    )
    write(
        "currency_amounts.csv",
        "customer_id,order_id,timestamp,amount\n"
        '1,1,2024-01-01,"£1,234.50"\n2,2,2024-01-02,(12.00)\n3,3,2024-01-03,$ 7\n'
        "4,4,2024-01-04,EUR 3.5\n",
    )
    write("no_header.csv", "".join(rows(5)))
    write(
        "all_zero_prices.csv",
        HEADER + "".join(ln.replace(ln.split(",")[5], "0.00") for ln in rows(4)),
    )
    write("old_excel.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    write("corrupt.parquet", b"PAR1" + bytes(range(256)) * 4 + b"PAR1")
    data = gzip.compress(simple(50).encode())
    write("truncated.csv.gz", data[: len(data) // 2])
    write("nul_bytes_after_header.csv", HEADER.encode() + b"\x00" * 2048)
    write(
        "negative_and_cancelled.csv",
        "customer_id,order_id,timestamp,quantity,unit_price\n"
        "1,100,2024-01-01,2,5\n1,C100,2024-01-02,-2,5\n2,101,2024-01-03,-1,4\n"
        "2,102,2024-01-03,1,-4\n",
    )
    write(
        "future_dates.csv",
        "customer_id,order_id,timestamp,amount\n"
        "1,1,2024-01-01,5\n1,2,2099-01-01,5\n2,3,2024-06-30,7\n",
    )
    xlsx_files()


if __name__ == "__main__":
    main()
