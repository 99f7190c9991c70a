"""Every picture in every committed notebook is readable where learners read it: the HTML export at 1100 px.

Each notebook is exported with nbconvert (as a learner's "Download as HTML" or a course site
does) and opened in Chromium at a 1100 px wide window, one page per notebook. Inline SVG text
(Graphviz pictures, flipbooks) is measured as drawn: its font size times the scale the page
gives the SVG. A PNG (matplotlib) holds no text to measure, so its smallest font is read from
the cell that drew it (matplotlib's default 10 pt, or any smaller fontsize= the cell asks for),
times its dots per inch and the scale the page shows the image at; so is an SVG image whose text
matplotlib drew as paths. An SVG image with <text> is measured from its font sizes and viewBox.
"""

from __future__ import annotations

import base64
import pathlib
import re
import struct

import pytest

nbformat = pytest.importorskip("nbformat")
nbconvert = pytest.importorskip("nbconvert")

ROOT = pathlib.Path(__file__).parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SMALLEST_PX = 9.0
PAGE_WIDTH = 1100
NAMED_SIZES = {"xx-small": 5.79, "x-small": 6.94, "small": 8.33, "medium": 10.0}




def png_dpi(data: bytes) -> float:
    """Dots per inch of a PNG from its pHYs chunk (matplotlib writes one); 72 when it has none."""
    pos = 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"pHYs":
            per_metre, _, unit = struct.unpack(">IIB", data[pos + 8:pos + 17])
            return per_metre * 0.0254 if unit == 1 else 72.0
        if kind == b"IDAT":
            break
        pos += 12 + length
    return 72.0


def smallest_font_pt(source: str) -> float:
    """The smallest font size a matplotlib cell asks for: 10 pt (the default) or less."""
    sizes = [10.0]
    for value in re.findall(r"(?:fontsize|labelsize|size)\s*=\s*([\d.]+|\"[a-z-]+\"|'[a-z-]+')", source):
        value = value.strip("'\"")
        sizes.append(float(value) if value[0].isdigit() else NAMED_SIZES.get(value, 10.0))
    return min(sizes)


def png_outputs(nb) -> dict[str, tuple[float, float]]:
    """For each PNG output, keyed by the start of its base64 text: (smallest font in pt, dpi)."""
    found = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            png = out.get("data", {}).get("image/png")
            if png:
                text = png if isinstance(png, str) else "".join(png)
                text = text.replace("\n", "")
                found[text[:200]] = (smallest_font_pt(cell.source), png_dpi(base64.b64decode(text)))
    return found


def svg_cell_fonts(nb) -> dict[str, float]:
    """For each SVG output, keyed by the start of the base64 text nbconvert gives it: its cell's smallest font (pt).

    Matplotlib draws an SVG's text as paths by default, leaving no <text> to measure: its
    size then comes from the cell, as for a PNG.
    """
    found = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            svg = out.get("data", {}).get("image/svg+xml")
            if svg:
                text = svg if isinstance(svg, str) else "".join(svg)
                found[base64.b64encode(text.encode("utf-8")).decode("ascii")[:200]] = smallest_font_pt(cell.source)
    return found


def svg_image_texts_below(src: str, shown_width: float, cell_font_pt: float | None) -> list[tuple[float, str]]:
    """The texts of an SVG shown as an image (how nbconvert exports one) that render below the bound.

    A text's height on the page is its font size in the SVG's units times the page pixels per
    unit: the width the image is shown at over its viewBox's width. An SVG whose text is drawn
    as paths (matplotlib's default) is measured by its cell's smallest font, in the SVG's points.
    """
    svg = base64.b64decode(src.split(",", 1)[1]).decode("utf-8")
    box = re.search(r'viewBox="[-\d.]+[ ,]+[-\d.]+[ ,]+([\d.]+)', svg)
    if box is None or not shown_width:
        return []
    scale = shown_width / float(box.group(1))
    if "<text" not in svg and cell_font_pt is not None and "matplotlib" in svg:
        px = cell_font_pt * scale
        return [(round(px, 1), f"a matplotlib SVG's {cell_font_pt:g} pt text")] if px < SMALLEST_PX else []
    small = []
    for attrs, text in re.findall(r"<text\b([^>]*)>([^<]*)</text>", svg):
        size = re.search(r'font-size="([\d.]+)', attrs)
        px = float(size.group(1) if size else 14.0) * scale
        if px < SMALLEST_PX:
            small.append((round(px, 1), text.strip()[:40]))
    return small


MEASURE = """() => {
  const small = [];
  for (const t of document.querySelectorAll('svg text')) {
    const r = t.getBoundingClientRect();
    if (!r.width || !t.textContent.trim()) continue;  // hidden (another frame of a flipbook) or empty
    const svg = t.ownerSVGElement, m = t.getScreenCTM();
    if (!svg || !m) continue;
    const size = parseFloat(getComputedStyle(t).fontSize);
    const px = size * Math.hypot(m.a, m.b);
    small.push([px, t.textContent.trim().slice(0, 40)]);
  }
  const images = [...document.querySelectorAll('img')].map(i => [i.src, i.naturalWidth,
                  i.getBoundingClientRect().width]);
  return {texts: small, images: images};
}"""



@pytest.mark.browser
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_text_in_a_picture_is_below_9_px_in_the_html_export_at_1100_px(browser, path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    body, _ = nbconvert.HTMLExporter().from_notebook_node(nb)
    page_path = tmp_path / (path.stem + ".html")
    page_path.write_text(body, encoding="utf-8")
    page = browser.new_page(viewport={"width": PAGE_WIDTH, "height": 900})
    try:
        page.goto(f"file://{page_path}")
        found = page.evaluate(MEASURE)
    finally:
        page.close()
    too_small = sorted({(round(px, 1), text) for px, text in found["texts"] if px < SMALLEST_PX})
    pngs = png_outputs(nb)
    for src, natural, shown in found["images"]:
        key = src.removeprefix("data:image/png;base64,")[:200]
        if key not in pngs or not natural:
            continue
        pt, dpi = pngs[key]
        px = pt * dpi / 72 * (shown / natural)
        if px < SMALLEST_PX:
            too_small.append((round(px, 1), f"a PNG's {pt:g} pt text"))
    svg_fonts = svg_cell_fonts(nb)
    for src, _, shown in found["images"]:
        if src.startswith("data:image/svg+xml;base64,"):
            key = src.removeprefix("data:image/svg+xml;base64,")[:200]
            too_small += svg_image_texts_below(src, shown, svg_fonts.get(key))
    assert not too_small, f"{path.name}: text below {SMALLEST_PX:g} px at {PAGE_WIDTH} px: {too_small[:8]}"


def test_the_measures_flag_small_text_and_pass_large_text():
    # the test's own arithmetic, on pictures made here: a 100-unit-wide SVG with 10-unit text
    svg = '<svg viewBox="0 0 100 50" xmlns="http://www.w3.org/2000/svg"><text font-size="10">hi</text></svg>'
    src = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    assert svg_image_texts_below(src, 100, None) == []  # shown at 1 px per unit: 10 px
    assert svg_image_texts_below(src, 50, None) == [(5.0, "hi")]  # at half size: 5 px
    drawn = src.replace(base64.b64encode(svg.encode()).decode(), base64.b64encode(
        b'<svg viewBox="0 0 432 288"><!-- matplotlib --><path d="M0 0"/></svg>').decode())
    assert svg_image_texts_below(drawn, 432 * 96 / 72 * 0.5, 10.0) == [(6.7, "a matplotlib SVG's 10 pt text")]
    assert smallest_font_pt('ax.legend(fontsize=8); ax.tick_params(labelsize="small")') == 8.0
    assert smallest_font_pt("plt.plot(xs)") == 10.0
