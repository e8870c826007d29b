"""Build core/fonts/UnionPortalSansSC-Regular.ttf from Noto Sans CJK SC Regular.

A one-off tool, not used at run time (it needs fontTools, which is not a project
dependency). See README.md in this folder for why and how:

    python -m venv /tmp/fontvenv && /tmp/fontvenv/bin/pip install fonttools
    /tmp/fontvenv/bin/python core/fonts/build_font.py NotoSansCJK-Regular.ttc

It keeps ASCII, the 6,763 hanzi and 682 symbols of GB 2312, common punctuation and a
short list of given-name characters outside GB 2312, converts the CFF outlines to
TrueType (quadratic) outlines, which reportlab needs to embed a font, and renames the
family (a subset is a Modified Version under the OFL; "Noto" is a trademark of Google).
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, TTFont, newTable

FAMILY = "UnionPortal Sans SC"
POSTSCRIPT = "UnionPortalSansSC-Regular"
OUT = Path(__file__).with_name(f"{POSTSCRIPT}.ttf")
MAX_ERR = 1.0  # font units (1000/em): curve conversion error, invisible at print sizes

# Given-name characters that GB 2312 lacks but registries see often.
EXTRA_NAME_CHARS = (
    "喆堃玥珺昇赟祎瑄彧翀垚镕頔禕玙琰璟曌旻烨熠珏婕晔暄泓浚淏澍湉沄芃莜靓赜玮琛瑛琬"
    "璇璨瑶瑷蔚霈霖骞婧姝妍娅嫣钰琦煜炜淼钊铖铭锴睿璋珩珅玹瑭璐瑀琮琨琪珲珉玳"
    "昀昕晗晞晖暐曦煊炅焜焱烜熳靖竑竣筠箐蓁萱蕙菡菁荟荨蓓蔺邴郗赪"
)
EXTRA_SYMBOLS = "—–‘’“”…·•※●○■□▲△◆◇★☆→←↑↓√×÷±≤≥≠￥°℃№、。，；：？！（）《》〈〉【】「」『』〔〕"


def gb2312_chars() -> set[str]:
    chars = set()
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(bytes((hi, lo)).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return chars


def wanted_codepoints() -> list[int]:
    chars = gb2312_chars() | {chr(c) for c in range(0x20, 0x7F)} | set(EXTRA_NAME_CHARS) | set(EXTRA_SYMBOLS)
    chars |= {chr(c) for c in range(0xFF01, 0xFF5F)}  # full-width ASCII forms
    return sorted(ord(c) for c in chars)


def load_sc(path: str) -> TTFont:
    if path.lower().endswith(".ttc"):
        for font in TTCollection(path).fonts:
            if font["name"].getDebugName(1) == "Noto Sans CJK SC":
                return font
        raise SystemExit("Noto Sans CJK SC not found in the collection")
    return TTFont(path)


def to_truetype(font: TTFont) -> None:
    """CFF outlines -> glyf (fontTools' otf2ttf recipe)."""
    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in order:
        tt_pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(tt_pen, MAX_ERR, reverse_direction=True))
        glyphs[name] = tt_pen.glyph()
    font["loca"] = newTable("loca")
    font["glyf"] = glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    for tag in ("CFF ", "VORG"):
        if tag in font:
            del font[tag]
    glyf.compile(font)
    hmtx = font["hmtx"]
    for name, glyph in glyf.glyphs.items():
        width = hmtx[name][0]
        hmtx[name] = (width, getattr(glyph, "xMin", 0))
    maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for attr in (
        "maxZones",
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, attr, 1 if attr == "maxZones" else 0)
    font["maxp"] = maxp
    maxp.compile(font)
    post = font["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = order
    font["head"].glyphDataFormat = 0
    font.sfntVersion = "\x00\x01\x00\x00"


def rename(font: TTFont) -> None:
    name = font["name"]
    copyright_ = name.getDebugName(0)
    for rec in list(name.names):
        if rec.nameID in (1, 3, 4, 6, 16, 17, 18, 21, 22):
            name.removeNames(nameID=rec.nameID)
    full = f"{FAMILY} Regular"
    for nid, value in (
        (0, f"{copyright_} Subset of Noto Sans CJK SC, modified for UnionPortal."),
        (1, FAMILY),
        (2, "Regular"),
        (3, f"{POSTSCRIPT};subset-gb2312"),
        (4, full),
        (6, POSTSCRIPT),
    ):
        name.setName(value, nid, 3, 1, 0x409)
        name.setName(value, nid, 1, 0, 0)


def main(src: str) -> None:
    font = load_sc(src)
    options = subset.Options()
    options.layout_features = []  # no GSUB/GPOS: reportlab shapes nothing
    options.hinting = False
    options.desubroutinize = True
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.glyph_names = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=wanted_codepoints())
    subsetter.subset(font)
    for tag in ("GSUB", "GPOS", "GDEF", "BASE", "vhea", "vmtx", "VORG"):
        if tag in font:
            del font[tag]
    to_truetype(font)
    rename(font)
    font.save(OUT)
    print(f"{OUT.name}: {OUT.stat().st_size / 1e6:.2f} MB, {len(font.getGlyphOrder())} glyphs")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "NotoSansCJK-Regular.ttc")
