#!/usr/bin/env python3
"""Where the colours of an incident chart are in a screenshot (PNG).

    chart_pixels.py SHOT.png

Reads the PNG with the standard library only (zlib; 8-bit RGB or RGBA,
not interlaced: what chromium writes) and finds, in the first chart of
the page (user/html.c, the chart user/html_chart.c):
  - the plot's x range: the longest horizontal run of the axis colour
    (#555555) is the time axis, from the plot's left to its right edge;
  - the alert line: the pixel column holding the most pixels of the
    marker colour (#6a00a8, HTML_MARK_COLOR) within that range;
  - the ESP (#d62728) and TCP (#4e79a7) pixels within that range, above
    the axis (the legend is right of it, outside).
Prints one line of key=value pairs: ax0 ax1 axis_y mark_x esp_min esp_max
esp_n tcp_min tcp_max tcp_n (-1 where none).
"""
import struct
import sys
import zlib

AXIS = (0x55, 0x55, 0x55)
MARK = (0x6a, 0x00, 0xa8)
ESP = (0xd6, 0x27, 0x28)
TCP = (0x4e, 0x79, 0xa7)


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"{path}: not a PNG")
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        sys.exit(f"{path}: depth {depth} colour type {ctype} interlace {interlace}: not read here")
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(h):
        f = raw[i]
        line = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 0xFF
            elif f == 2:
                line[x] = (line[x] + b) & 0xFF
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pr) & 0xFF
        rows.append(line)
        prev = line
    return w, h, bpp, rows


def main():
    w, h, bpp, rows = read_png(sys.argv[1])

    def px(x, y):
        r = rows[y]
        return (r[x * bpp], r[x * bpp + 1], r[x * bpp + 2])

    # the time axis: the longest run of the axis colour in a row
    best = (0, -1, -1, -1)
    for y in range(h):
        run = 0
        for x in range(w):
            if px(x, y) == AXIS:
                run += 1
                if run > best[0]:
                    best = (run, x - run + 1, x, y)
            else:
                run = 0
    _, ax0, ax1, axis_y = best
    out = {"ax0": ax0, "ax1": ax1, "axis_y": axis_y}
    marks = {}
    found = {"esp": [], "tcp": []}
    if ax0 >= 0:
        top = max(0, axis_y - 400)
        for y in range(top, axis_y + 1):
            for x in range(ax0, ax1 + 1):
                c = px(x, y)
                if c == MARK:
                    marks[x] = marks.get(x, 0) + 1
                elif c == ESP:
                    found["esp"].append(x)
                elif c == TCP:
                    found["tcp"].append(x)
    out["mark_x"] = max(marks, key=marks.get) if marks else -1
    for k, xs in found.items():
        out[k + "_min"] = min(xs) if xs else -1
        out[k + "_max"] = max(xs) if xs else -1
        out[k + "_n"] = len(xs)
    print(" ".join(f"{k}={v}" for k, v in out.items()))


main()
