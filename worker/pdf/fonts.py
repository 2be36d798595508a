"""Fonts for every PDF: names and addresses in any alphabet print as written.

- **DejaVu Sans** (a TrueType font, embedded as a subset) covers Latin with Vietnamese, Greek, Cyrillic,
  Arabic and Hebrew letters. It comes from a package, never a download: Debian's ``fonts-dejavu-core``
  (the Docker image and CI install it), else the copy bundled with matplotlib (the development
  dependencies), else ``PDF_FONT_DIR``.
- **CJK** text uses ReportLab's CID fonts (STSong-Light for Chinese and Japanese, HYSMyeongJo-Medium for
  Korean): PDF viewers and text extraction know them without embedding.
- **Arabic and Hebrew** runs are shaped (``arabic-reshaper``) and put in display order (``python-bidi``),
  as ReportLab draws glyphs left to right.

``markup`` turns plain text into Paragraph markup with the right font per run.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from xml.sax.saxutils import escape

import arabic_reshaper
from bidi import get_display
from django.core.exceptions import ImproperlyConfigured
from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

SANS, SANS_BOLD = "ClinicSans", "ClinicSans-Bold"
HAN, HANGUL = "STSong-Light", "HYSMyeongJo-Medium"
DEBIAN_DIR = Path("/usr/share/fonts/truetype/dejavu")

# Runs drawn with a CID font: Han, kana, CJK punctuation and full-width forms; Hangul.
_CJK = "\u2e80-\u2fff\u3000-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_HANGUL = "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"
_RTL = "\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff"
_RUNS = re.compile(f"([{_CJK}]+)|([{_HANGUL}]+)|([{_RTL}](?:[{_RTL} ]*[{_RTL}])?)")


def _font_dirs() -> list[Path]:
    dirs = [Path(os.environ["PDF_FONT_DIR"])] if os.environ.get("PDF_FONT_DIR") else []
    dirs.append(DEBIAN_DIR)
    try:
        import matplotlib

        dirs.append(Path(matplotlib.get_data_path()) / "fonts" / "ttf")
    except ImportError:
        pass
    return dirs


@functools.cache
def register() -> None:
    """Register the fonts once per process (ReportLab keeps them globally)."""
    for folder in _font_dirs():
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.exists() and bold.exists():
            break
    else:
        raise ImproperlyConfigured(
            "DejaVu Sans is not installed: install Debian's fonts-dejavu-core, or set PDF_FONT_DIR to a folder "
            "holding DejaVuSans.ttf and DejaVuSans-Bold.ttf."
        )
    pdfmetrics.registerFont(TTFont(SANS, str(regular)))
    pdfmetrics.registerFont(TTFont(SANS_BOLD, str(bold)))
    for name, bold_flag in ((SANS, 0), (SANS_BOLD, 1)):
        addMapping(SANS, bold_flag, 0, name)
        addMapping(SANS, bold_flag, 1, name)
    pdfmetrics.registerFont(UnicodeCIDFont(HAN))
    pdfmetrics.registerFont(UnicodeCIDFont(HANGUL))


def _visual(run: str) -> str:
    """A right-to-left run shaped and in display order."""
    return str(get_display(arabic_reshaper.reshape(run)))


def needs_markup(value: str) -> bool:
    """Whether plain text holds a run DejaVu Sans alone would not draw right."""
    return _RUNS.search(value) is not None


def markup(value: str) -> str:
    """Paragraph markup for plain text: escaped, line breaks kept, each CJK run in its CID font and each
    right-to-left run in display order."""
    parts: list[str] = []
    position = 0
    for match in _RUNS.finditer(value):
        parts.append(escape(value[position : match.start()]))
        cjk, hangul, rtl = match.groups()
        if cjk:
            parts.append(f'<font name="{HAN}">{escape(cjk)}</font>')
        elif hangul:
            parts.append(f'<font name="{HANGUL}">{escape(hangul)}</font>')
        else:
            parts.append(escape(_visual(rtl)))
        position = match.end()
    parts.append(escape(value[position:]))
    return "".join(parts).replace("\n", "<br/>")
