"""Names in any alphabet print as written on every PDF: an embedded Unicode TrueType font (DejaVu Sans),
CID fonts for CJK, shaped right-to-left runs."""

from __future__ import annotations

import io
from typing import Any

import arabic_reshaper
import pytest
from pypdf import PdfReader

from worker.pdf import render
from worker.pdf.samples import PATIENT, receipt, superbill

NAMES = ["Nguyễn Văn Đức", "Дмитрий Иванов", "Ελένη Παπαδοπούλου", "山田 太郎", "김민준", "Zoë Ramírez"]


def text_and_fonts(pdf: bytes) -> tuple[str, list[tuple[str, str, bool]]]:
    """The first page's text, and each font it uses: (name, subtype, embedded)."""
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    fonts = []
    resources: Any = page["/Resources"]
    for reference in resources["/Font"].values():
        font = reference.get_object()
        descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
        descriptor = descendant.get("/FontDescriptor")
        embedded = descriptor is not None and any(
            key in descriptor.get_object() for key in ("/FontFile", "/FontFile2", "/FontFile3")
        )
        fonts.append((str(font["/BaseFont"]), str(font["/Subtype"]), embedded))
    return page.extract_text(), fonts


@pytest.mark.parametrize("name", NAMES)
def test_a_patients_name_prints_as_written(name: str) -> None:
    payload = receipt()
    payload["patient"] = {**PATIENT, "name": name}
    extracted, _fonts = text_and_fonts(render(payload))
    assert name in extracted


def test_latin_greek_and_cyrillic_documents_embed_every_font_they_use() -> None:
    for payload in (receipt(), superbill()):
        payload["patient"] = {**PATIENT, "name": "Nguyễn Văn Đức / Дмитрий"}
        extracted, fonts = text_and_fonts(render(payload))
        assert "Nguyễn Văn Đức / Дмитрий" in extracted
        assert fonts
        for base, subtype, embedded in fonts:
            assert (subtype, embedded) == ("/TrueType", True), base
            assert "DejaVuSans" in base


def test_cjk_uses_a_cid_font_and_arabic_is_shaped() -> None:
    payload = receipt()
    payload["patient"] = {**PATIENT, "name": "山田 太郎 محمد العلي"}
    extracted, fonts = text_and_fonts(render(payload))
    assert "山田 太郎" in extracted
    assert "/STSong-Light" in {base for base, _subtype, _embedded in fonts}
    assert arabic_reshaper.reshape("محمد العلي") in extracted  # joined letter forms, not isolated ones
