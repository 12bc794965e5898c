"""Real documents made inside the tests: a web page with site chrome, PDFs, a Word file, bad files."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

# --- a web page ---------------------------------------------------------------------------------

ARTICLE = (
    "Dengue is a viral infection spread by Aedes mosquitoes. Most children recover within a week, "
    "but some develop severe dengue, which needs hospital treatment."
)
TREATMENT = (
    "Give plenty of fluids: water, oral rehydration solution and soup. Paracetamol helps the fever; "
    "never give ibuprofen or aspirin, because they increase the risk of bleeding."
)
WARNING_ITEMS = ("Severe stomach pain or repeated vomiting", "Bleeding from the gums or nose", "Very sleepy, restless or hard to wake")
PAGE_CHROME = (  # text the page carries around the article: none of it may reach the document
    "We use cookies to improve your experience", "Accept all cookies", "Our services", "Contact us",
    "Buy cheap vitamins now", "Great article, my son had dengue", "Where can I buy the mosquito nets",
    "Leave a Reply", "Popular posts", "Ten foods for a healthy heart", "All rights reserved", "Subscribe to our newsletter",
)
LEAKS = ("SCRIPT-LEAK", "STYLE-LEAK", "INLINE-SCRIPT-LEAK", "alert(", "document.write", "onerror", "IFRAME-LEAK")
SPONSOR = "Thank you to our sponsor Esdebe for supporting this article."  # inside the article: a chrome rule drops it


def chrome_page() -> str:
    """A clinic web page: article plus navigation, cookie banner, advert, comments, sidebar, scripts."""
    items = "".join(f"<li>{i}</li>" for i in WARNING_ITEMS)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Dengue fever in children | Klinik Sehat</title>
<meta property="og:site_name" content="Klinik Sehat">
<meta name="date" content="2025-03-14">
<style>.nav{{color:red}} body::after{{content:"STYLE-LEAK"}}</style>
<script>var secret = "SCRIPT-LEAK"; document.write("SCRIPT-LEAK-2");</script>
</head><body>
<div id="cookie-banner" class="cookie-consent">We use cookies to improve your experience. <button>Accept all cookies</button></div>
<header><nav class="nav"><ul><li><a href="/">Home</a></li><li><a href="/services">Our services</a></li><li><a href="/contact">Contact us</a></li></ul></nav></header>
<div class="ad-banner advertisement"><a href="https://ads.example">Buy cheap vitamins now, 50% off today only!</a></div>
<main><article>
<h1>Dengue fever in children</h1>
<p>{ARTICLE.replace("Aedes", "<b>Aedes</b>")}</p>
<h2>Warning signs</h2>
<p>Go to the hospital at once if your child has any of these signs:</p>
<ul>{items}</ul>
<img src="x.png" onerror="alert('onerror')">
<iframe src="https://evil.example"><p>IFRAME-LEAK</p></iframe>
<h2>Treatment at home</h2>
<p>{TREATMENT}</p>
<table><tr><th>Age</th><th>Paracetamol dose</th></tr><tr><td>1-5 years</td><td>120-250 mg</td></tr><tr><td>6-12 years</td><td>250-500 mg</td></tr></table>
<p>{SPONSOR}</p>
<script>alert("INLINE-SCRIPT-LEAK")</script>
</article>
<section id="comments" class="comments"><h3>3 Comments</h3>
<div class="comment"><p>Great article, my son had dengue last year and this helped a lot!</p></div>
<div class="comment"><p>Where can I buy the mosquito nets mentioned?</p></div>
<form><p>Leave a Reply</p><textarea></textarea></form></section>
</main>
<aside class="sidebar"><h3>Popular posts</h3><ul><li><a href="/x">Ten foods for a healthy heart</a></li></ul></aside>
<footer><p>© 2025 Klinik Sehat. All rights reserved.</p><p>Subscribe to our newsletter</p></footer>
</body></html>"""


# --- PDFs ---------------------------------------------------------------------------------------

LONG_ITEM = "Very sleepy, restless or hard to wake up, even after the fever has gone down and the child seemed better"
BREEDING = ("Mosquitoes breed in clean standing water around the house, in flower pots, buckets, old tyres, roof gutters "
            "and water tanks, and the Aedes mosquito bites mostly in the early morning and in the late afternoon, "
            "so children who sleep during the day need a net as well as children who sleep at night, and repellent "
            "on the skin helps when they play outside in the hours when these mosquitoes are most active.")
RUNNING_HEADER = "Klinik Sehat - Patient leaflet"


def _pdf(title: str | None = None):
    from fpdf import FPDF

    class Leaflet(FPDF):
        def header(self):
            self.set_font("Helvetica", size=8)
            self.cell(0, 6, RUNNING_HEADER, align="C")
            self.ln(10)

        def footer(self):
            self.set_y(-15)
            self.set_font("Helvetica", size=8)
            self.cell(0, 10, f"Page {self.page_no()}", align="C")

    pdf = Leaflet()
    pdf.core_fonts_encoding = "windows-1252"  # the bullet sign is in cp1252
    if title:
        pdf.set_title(title)
    return pdf


def _para(pdf, text: str, size: float = 11, style: str = "", height: float = 6) -> None:
    pdf.set_font("Helvetica", style, size)
    pdf.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")


def leaflet_pdf(path: Path, title: str | None = "Dengue fever: what parents should know", **encryption) -> Path:
    """Three pages: headings, a bulleted list (one item wraps), a hyphenated line break, a paragraph
    over a page break, a running header and page numbers."""
    pdf = _pdf(title)
    if encryption:
        pdf.set_encryption(**encryption)
    pdf.add_page()
    _para(pdf, "Dengue fever in children", 18, "B", 10)
    _para(pdf, ARTICLE)
    pdf.ln(4)
    _para(pdf, "Warning signs", 14, "B", 8)
    _para(pdf, "Go to the hospital at once if your child has any of these signs:")
    for item in (*WARNING_ITEMS[:2], LONG_ITEM):
        pdf.set_x(15)
        pdf.set_font("Helvetica", "", 11)
        pdf.multi_cell(0, 6, "\u2022 " + item, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    _para(pdf, TREATMENT.replace("ibuprofen", "ibu-\nprofen"))
    pdf.ln(4)
    _para(pdf, "Preventing mosquito bites", 14, "B", 8)
    pdf.set_y(262)  # near the bottom: the paragraph runs on to page 2
    _para(pdf, BREEDING)
    pdf.add_page()
    _para(pdf, "After recovery", 14, "B", 8)
    _para(pdf, "Children usually return to school a few days after the fever ends. A second dengue infection can be more severe, so keep preventing bites.")
    return _write(pdf, path)


def two_column_pdf(path: Path) -> Path:
    pdf = _pdf("Two columns")
    pdf.add_page()
    _para(pdf, "Clinic opening hours", 16, "B", 10)
    y = pdf.get_y()
    pdf.set_font("Helvetica", "", 11)
    pdf.set_xy(10, y)
    pdf.multi_cell(90, 6, "The left column comes first. " + "Morning clinics run from eight until noon on weekdays. " * 4)
    pdf.set_xy(110, y)
    pdf.multi_cell(90, 6, "The right column comes second. " + "Evening clinics run from five until eight on Tuesdays. " * 4)
    return _write(pdf, path)


def scanned_pdf(path: Path) -> Path:
    """A page that is only a picture, as a scanner makes it."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (600, 800), "white")
    draw = ImageDraw.Draw(img)
    for y in range(60, 760, 24):
        draw.rectangle((40, y, 40 + (y * 7) % 500, y + 10), fill="black")  # lines of "text"
    pdf = FPDF()
    pdf.add_page()
    pdf.image(img, x=0, y=0, w=210)
    return _write(pdf, path)


def _write(pdf, path: Path) -> Path:
    path.write_bytes(bytes(pdf.output()))
    return path


# --- Word ---------------------------------------------------------------------------------------

DOCX_INTRO = ("Demam berdarah adalah infeksi virus yang ditularkan oleh nyamuk Aedes. Sebagian besar anak sembuh "
              "dalam satu minggu, tetapi sebagian mengalami demam berdarah berat yang harus dirawat di rumah sakit.")
DOCX_ITEMS = ("Sakit perut yang hebat atau muntah terus", "Perdarahan dari gusi atau hidung", "Sangat mengantuk atau gelisah")
DOCX_STEPS = ("Beri banyak minum: air putih, oralit dan sup", "Beri parasetamol untuk demam, jangan ibuprofen atau aspirin")


def leaflet_docx(path: Path, title: str = "Demam berdarah pada anak") -> Path:
    """Indonesian leaflet: Title and Heading styles, a bulleted list with a sub-item, a numbered
    list, a table, and a page header that is not content."""
    import docx

    doc = docx.Document()
    doc.core_properties.title = title
    doc.sections[0].header.paragraphs[0].text = "Klinik Sehat - brosur pasien"
    doc.add_heading("Demam berdarah pada anak", 0)
    doc.add_paragraph(DOCX_INTRO)
    doc.add_heading("Tanda bahaya", 1)
    doc.add_paragraph("Segera bawa anak ke rumah sakit jika ada tanda berikut:")
    for item in DOCX_ITEMS:
        doc.add_paragraph(item, style="List Bullet")
    doc.add_paragraph("terutama pada hari ketiga sampai kelima", style="List Bullet 2")
    doc.add_heading("Perawatan di rumah", 1)
    for step in DOCX_STEPS:
        doc.add_paragraph(step, style="List Number")
    table = doc.add_table(rows=3, cols=2)
    for r, row in enumerate((("Umur", "Dosis parasetamol"), ("1-5 tahun", "120-250 mg"), ("6-12 tahun", "250-500 mg"))):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    doc.save(path)
    return path


# --- bad files ----------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()
