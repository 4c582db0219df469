"""The tax invoice as a PDF (R20): reportlab platypus, fonts embedded, text wrapped, never cut.

Why platypus: it lays out flowing paragraphs and tables that wrap long names onto new lines and
break across pages, with no browser or native renderer to install (reportlab is already a
dependency). The content comes from `document.invoice_document`, the same one the HTML view
renders. Fonts are embedded TrueType subsets: DejaVu Sans for Latin text, IPAex Gothic for
Japanese (Debian packages `fonts-dejavu-core` and `fonts-ipaexfont-gothic`, installed by CI);
each character is drawn with the first of them that has it, so a Japanese name on a French
invoice prints too. Noto CJK is not used: it is CFF-flavoured OpenType, which reportlab cannot
embed.
"""

from io import BytesIO
from pathlib import Path
from xml.sax.saxutils import escape

from django.core.exceptions import ImproperlyConfigured
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .document import InvoiceDocument, credit_note_document, invoice_document
from .models import Invoice

FONT_FILES = {
    # name: candidate files, first found wins
    "InvoiceSans": [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    ],
    "InvoiceSans-Bold": [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    ],
    "InvoiceJapanese": [
        "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
        "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
    ],
}


def _register() -> dict[str, TTFont]:
    fonts = {}
    for name, candidates in FONT_FILES.items():
        if name in pdfmetrics.getRegisteredFontNames():
            fonts[name] = pdfmetrics.getFont(name)
            continue
        path = next((p for p in candidates if Path(p).exists()), None)
        if path is None:
            raise ImproperlyConfigured(
                f"Invoice PDFs need the font {name} ({' or '.join(candidates)}): install the "
                "Debian packages fonts-dejavu-core and fonts-ipaexfont-gothic."
            )
        font = TTFont(name, path)
        pdfmetrics.registerFont(font)
        fonts[name] = font
    return fonts


def _markup(text: str, *, bold: bool = False) -> str:
    """Escape text for a Paragraph, switching to the Japanese font where Latin has no glyph."""
    fonts = _register()
    latin = fonts["InvoiceSans-Bold" if bold else "InvoiceSans"]
    covered = latin.face.charToGlyph
    runs: list[tuple[bool, str]] = []
    for char in text:
        japanese = ord(char) not in covered and not char.isspace()
        if runs and runs[-1][0] == japanese:
            runs[-1] = (japanese, runs[-1][1] + char)
        else:
            runs.append((japanese, char))
    out = []
    for japanese, chunk in runs:
        chunk = escape(chunk)
        out.append(f'<font name="InvoiceJapanese">{chunk}</font>' if japanese else chunk)
    return "".join(out)


def _styles():
    base = ParagraphStyle("base", fontName="InvoiceSans", fontSize=9, leading=12, wordWrap=None)
    return {
        "base": base,
        # CJK text has no spaces: let it wrap between any two characters.
        "cjk": ParagraphStyle("cjk", parent=base, wordWrap="CJK"),
        "bold": ParagraphStyle("bold", parent=base, fontName="InvoiceSans-Bold"),
        "title": ParagraphStyle(
            "title", parent=base, fontName="InvoiceSans-Bold", fontSize=18, leading=22
        ),
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10),
        "num": ParagraphStyle("num", parent=base, alignment=2),
        "num_bold": ParagraphStyle(
            "num_bold", parent=base, fontName="InvoiceSans-Bold", alignment=2
        ),
    }


def render_invoice_pdf(invoice: Invoice) -> bytes:
    """Render an invoice as PDF bytes in its purchaser's language."""
    return render_document_pdf(invoice_document(invoice), author=invoice.seller.get("name", ""))


def render_credit_note_pdf(credit) -> bytes:
    """Render a credit note as PDF bytes, in its invoice's language."""
    return render_document_pdf(
        credit_note_document(credit), author=credit.invoice.seller.get("name", "")
    )


def render_document_pdf(doc: InvoiceDocument, *, author: str = "") -> bytes:
    """Lay an invoice document out on A4 pages."""
    _register()
    st = _styles()
    wrap = st["cjk"] if doc.language == "ja" else st["base"]

    def p(text, style=None, bold=False):
        return Paragraph(_markup(str(text), bold=bold), style or wrap)

    buffer = BytesIO()
    pdf = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"{doc.title} {doc.number}",
        author=author,
        lang=doc.language,
    )
    width = A4[0] - 36 * mm
    story = [
        Table(
            [[p(doc.title, st["title"], bold=True), p(doc.number, st["num_bold"], bold=True)]],
            colWidths=[width * 0.6, width * 0.4],
        ),
        Spacer(0, 4 * mm),
        Table(
            [[p(label, st["bold"], bold=True), p(value)] for label, value in doc.facts],
            colWidths=[width * 0.35, width * 0.65],
            style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]),
        ),
        Spacer(0, 6 * mm),
        Table(
            [
                [
                    p(doc.seller.heading, st["bold"], bold=True),
                    p(doc.buyer.heading, st["bold"], bold=True),
                ],
                [
                    [p(line) for line in doc.seller.lines],
                    [p(line) for line in doc.buyer.lines],
                ],
            ],
            colWidths=[width / 2, width / 2],
            style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]),
        ),
        Spacer(0, 6 * mm),
    ]
    columns = [0.27, 0.25, 0.11, 0.14, 0.09, 0.14]
    numeric = {2, 3, 4, 5}
    header = [
        p(h, st["num_bold"] if i in numeric else st["bold"], bold=True)
        for i, h in enumerate(doc.headings)
    ]
    body = [
        [
            p(row.description),
            p(row.term, st["small"] if doc.language != "ja" else wrap),
            p(row.seats, st["num"]),
            p(row.unit_price, st["num"]),
            p(row.tax_rate, st["num"]),
            p(row.amount, st["num"]),
        ]
        for row in doc.rows
    ]
    story.append(
        Table(
            [header, *body],
            colWidths=[width * c for c in columns],
            repeatRows=1,
            style=TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                    ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.grey),
                ]
            ),
        )
    )
    story.append(Spacer(0, 4 * mm))
    totals = [
        [
            p(
                label,
                st["num_bold"] if i == len(doc.totals) - 1 else st["num"],
                bold=i == len(doc.totals) - 1,
            ),
            p(
                value,
                st["num_bold"] if i == len(doc.totals) - 1 else st["num"],
                bold=i == len(doc.totals) - 1,
            ),
        ]
        for i, (label, value) in enumerate(doc.totals)
    ]
    story.append(Table(totals, colWidths=[width * 0.75, width * 0.25]))
    story.append(Spacer(0, 6 * mm))
    for note in doc.notes:
        story.append(p(note))
        story.append(Spacer(0, 2 * mm))
    pdf.build(story)
    return buffer.getvalue()
