"""The bad-input corpus: small files are committed next to this script; large ones are generated.

`python tests/data/bad/make_corpus.py [DIR]` writes the large ones into DIR (default: a `generated/`
folder here, git-ignored); the tests call the same functions into a temporary folder.
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def huge_cell_csv(path: Path, *, cell_bytes: int = 5 * 1024 * 1024) -> Path:
    """One 5 MB cell in an otherwise normal file."""
    with path.open("w", encoding="utf-8") as fh:
        fh.write("id,note,amount\n1,short,1.00\n")
        fh.write("2," + "x" * cell_bytes + ",2.00\n3,short,3.00\n")
    return path


def wide_csv(path: Path, *, columns: int = 5000, rows: int = 3) -> Path:
    """5,000 columns."""
    with path.open("w", encoding="utf-8") as fh:
        fh.write(",".join(f"col_{i}" for i in range(columns)) + "\n")
        for r in range(rows):
            fh.write(",".join(str(r * columns + i) for i in range(columns)) + "\n")
    return path


def over_limit_csv(path: Path, *, limit_bytes: int) -> Path:
    """A valid CSV one row past `limit_bytes`."""
    row = "1,Ann,3.50\n"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("id,name,amount\n")
        fh.write(row * (limit_bytes // len(row) + 2))
    return path


def xlsx_zip_bomb(path: Path, *, uncompressed_bytes: int = 200 * 1024 * 1024) -> Path:
    """A tiny .xlsx whose one worksheet inflates to `uncompressed_bytes` of XML (deflate ~1000:1)."""
    cell = b'<c t="inlineStr"><is><t>0</t></is></c>'
    row_cells = 500
    row = b"<row>" + cell * row_cells + b"</row>"
    rows = uncompressed_bytes // len(row) + 1
    content_types = (
        b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        b'<Default Extension="xml" ContentType="application/xml"/>'
        b'<Override PartName="/xl/workbook.xml" '
        b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        b'<Override PartName="/xl/worksheets/sheet1.xml" '
        b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
    )
    rels = (
        b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" '
        b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        b'Target="xl/workbook.xml"/></Relationships>'
    )
    workbook = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
        b'<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    workbook_rels = (
        b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        b'Target="worksheets/sheet1.xml"/></Relationships>'
    )
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", content_types)
        zf.writestr("_rels/.rels", rels)
        zf.writestr("xl/workbook.xml", workbook)
        zf.writestr("xl/_rels/workbook.xml.rels", workbook_rels)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(
                b'<?xml version="1.0" encoding="UTF-8"?>'
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            )
            buf = io.BytesIO(row * 1000)
            chunk = buf.getvalue()
            for _ in range(rows // 1000 + 1):
                sheet.write(chunk)
            sheet.write(b"</sheetData></worksheet>")
    return path


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    huge_cell_csv(out / "huge_cell.csv")
    wide_csv(out / "wide_5000_columns.csv")
    over_limit_csv(out / "over_limit_1mb.csv", limit_bytes=1024 * 1024)
    xlsx_zip_bomb(out / "zip_bomb.xlsx")
    for path in sorted(out.iterdir()):
        print(f"{path.stat().st_size:>12,}  {path}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "generated")
