#!/usr/bin/env bash
# Render `python3 -m cxm report` in a real browser: chromium, headless.
#
#   tools/check-report.sh BUILD_DIR
#
# BUILD_DIR is a meson build directory with the Python binding built
# (BUILD_DIR/bindings/python/cxm/_cxm.abi3.so). The script writes a report
# from a small generated export with that module, then has chromium load it
# from a file:// URL twice: --dump-dom, whose DOM must hold the charts and
# tables the page was written with (counted both in the file and in the
# DOM, and no script), and --screenshot at 1200x2000, whose PNG must exist
# and not be blank: it is decoded here (zlib, PNG filters) and must show
# many colours, enough non-white pixels, and the charts' blue.
#
# A missing chromium is a failure, never a skip (apt-get install chromium).
# chromium refuses to run as root without --no-sandbox; the page has no
# script and no network resource, and chromium runs with a profile of its
# own in a temporary directory, so it is passed always.
set -euo pipefail

fail() {
	echo "check-report: FAIL: $*" >&2
	exit 1
}

[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd) || fail "no build directory $1"
pydir=$build/bindings/python
[ -f "$pydir/cxm/_cxm.abi3.so" ] ||
	fail "$pydir/cxm/_cxm.abi3.so is not built (ninja -C $1)"
[ -f "$pydir/cxm/report.py" ] || fail "$pydir/cxm/report.py is missing (reconfigure $1)"
chromium=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[ -n "$chromium" ] && [ -x "$chromium" ] ||
	fail "chromium not found: apt-get install chromium (or set CHROMIUM=/path/to/it)"
py=/usr/bin/python3
[ -x "$py" ] || py=python3

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cxm-check-report.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export PYTHONPATH=$pydir PYTHONDONTWRITEBYTECODE=1

SECONDS=0
echo "== a report from an export ($("$chromium" --version 2>/dev/null || echo chromium))"
"$py" "$src/bindings/python/tests/gen_export.py" "$tmp/calls.csv" 3000
"$py" -m cxm report "$tmp/calls.csv" -o "$tmp/report.html" --no-progress --window 48h \
	--title 'Contact centre <test> & co' --journey 'care=ivr,tech support,callback' \
	--map ts=time --map queue=touchpoint --map channel=channel --map caller=customer \
	--map nps=nps --map handle_s=duration:aht --map solved=rate:resolved --segment tier ||
	fail "python3 -m cxm report failed"

# counts of the elements of an HTML file: svg, table, script, and the svgs
# that are images with a title
count='
import html.parser, sys
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.n = {"svg": 0, "table": 0, "script": 0, "titled": 0, "th": 0}
        self.in_svg = 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in self.n:
            self.n[tag] += 1
        if tag == "svg":
            self.in_svg = 1 if a.get("role") == "img" else -1
        elif tag == "title" and self.in_svg == 1:
            self.n["titled"] += 1
            self.in_svg = 2
p = P()
p.feed(open(sys.argv[1], encoding="utf-8").read())
print(" ".join(str(p.n[k]) for k in ("svg", "table", "script", "titled", "th")))
'
read -r svg table script titled th < <("$py" -c "$count" "$tmp/report.html")
kib=$(($(stat -c %s "$tmp/report.html") / 1024))
echo "written: $svg charts, $table tables, $th header cells ($kib KiB)"
# 8 queues: nps for all and the 6 busiest, aht's histogram and box plot, the funnel;
# tables: the summary, nps by touchpoint and per hour, aht, the funnel, rates and
# counts, the tiers
[ "$svg" -eq 10 ] || fail "the report has $svg charts, not 10"
[ "$table" -eq 7 ] || fail "the report has $table tables, not 7"
[ "$script" -eq 0 ] || fail "the report has a script"
[ "$titled" -eq "$svg" ] || fail "$((svg - titled)) charts have no title"

browser() { # args...: chromium, headless, its own profile
	timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --no-first-run \
		--disable-extensions --disable-background-networking --user-data-dir="$tmp/profile" \
		"$@"
}

echo "== chromium --dump-dom"
browser --dump-dom "file://$tmp/report.html" >"$tmp/dom.html" 2>"$tmp/dom.log" || {
	cat "$tmp/dom.log" >&2
	fail "chromium --dump-dom failed"
}
read -r dsvg dtable dscript dtitled dth < <("$py" -c "$count" "$tmp/dom.html")
echo "the DOM chromium built: $dsvg charts, $dtable tables, $dth header cells"
[ "$dsvg" -eq "$svg" ] || fail "chromium's DOM has $dsvg svg elements, the file $svg"
[ "$dtable" -eq "$table" ] || fail "chromium's DOM has $dtable tables, the file $table"
[ "$dth" -eq "$th" ] || fail "chromium's DOM has $dth header cells, the file $th"
[ "$dtitled" -eq "$svg" ] || fail "chromium's DOM has $((svg - dtitled)) charts without a title"
[ "$dscript" -eq 0 ] || fail "chromium's DOM has a script"
grep -q 'Contact centre &lt;test&gt; &amp; co' "$tmp/dom.html" ||
	fail "the title is not in chromium's DOM, escaped"

echo "== chromium --screenshot (1200x2000)"
browser --screenshot="$tmp/shot.png" --window-size=1200,2000 --hide-scrollbars \
	"file://$tmp/report.html" >"$tmp/shot.log" 2>&1 || {
	cat "$tmp/shot.log" >&2
	fail "chromium --screenshot failed"
}
[ -s "$tmp/shot.png" ] || fail "chromium wrote no screenshot"
"$py" - "$tmp/shot.png" <<'EOF' || fail "the screenshot is blank or broken (above)"
import struct, sys, zlib

data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, ihdr = 8, [], None
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    pos += 12 + n
    if kind == b"IHDR":
        ihdr = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        idat.append(body)
w, h, depth, ctype, _, _, interlace = ihdr
assert depth == 8 and interlace == 0 and ctype in (2, 6), f"unexpected PNG format {ihdr}"
bpp = 3 if ctype == 2 else 4
raw = zlib.decompress(b"".join(idat))
stride = w * bpp
assert len(raw) == h * (stride + 1), "truncated image data"
prev = bytearray(stride)
colours, ink, blue, i = set(), 0, 0, 0
for y in range(h):  # undo the PNG row filters (None, Sub, Up, Average, Paeth)
    f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
    i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b = prev[x]
        if f == 1:
            line[x] = (line[x] + a) & 255
        elif f == 2:
            line[x] = (line[x] + b) & 255
        elif f == 3:
            line[x] = (line[x] + ((a + b) >> 1)) & 255
        elif f == 4:
            c = prev[x - bpp] if x >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp):
        r, g, bl = line[x], line[x + 1], line[x + 2]
        colours.add((r, g, bl))
        if r < 240 or g < 240 or bl < 240:
            ink += 1
        if abs(r - 0x0b) < 40 and abs(g - 0x5c) < 40 and abs(bl - 0xad) < 40:
            blue += 1  # the charts' lines, bars and links
    prev = line
share = ink / (w * h)
print(f"{w}x{h}, {len(data) // 1024} KiB: {len(colours)} colours, {share:.1%} not white, "
      f"{blue} pixels of the charts' blue")
assert (w, h) == (1200, 2000), f"the screenshot is {w}x{h}, not 1200x2000"
assert len(colours) >= 16, "fewer than 16 colours: a blank page"
assert share >= 0.02, "less than 2 % of the pixels are not white: a blank page"
assert blue >= 2000, "hardly any of the charts' blue: no chart was drawn"
EOF
echo "check-report: OK: the report renders in chromium with its $svg charts and $table tables" \
	"(${SECONDS} s)"
