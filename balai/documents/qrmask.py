"""Choosing a QR code's data mask quickly: the same choice segno makes, cheaper.

ISO/IEC 18004:2015, 7.8.3.1: "The data mask pattern which results in the
lowest penalty score shall be selected for the symbol." So the mask may not
simply be fixed: a decoder reads any of the eight (the format information
names it), but the standard requires the encoder to evaluate all eight and
keep the best, which avoids large blocks of one colour and false finder
patterns that make a printed or photographed code harder to read.

segno evaluates module by module in pure Python (~9 ms for a version 10
symbol, most of a letter's QR cost). Here the symbol is encoded once with
mask 0; the seven other candidates are derived from it by XOR on whole rows
(Python ints holding one module per byte), and the four penalty features
(N1 runs, N2 2x2 blocks, N3 finder-like 1:1:3:1:1 patterns, N4 dark
proportion) are counted with bytes searches, regular expressions and bit
operations. The scoring follows the reading of the standard segno uses
(format and version areas light during the evaluation, lowest score wins,
the first on a tie), and the tests check that both always choose the same mask.
"""

from __future__ import annotations

import re
from functools import lru_cache

import segno
from segno import encoder

_RUN = re.compile(rb"\x00{5,}|\x01{5,}")
_FINDER_LIKE = bytes((1, 0, 1, 1, 1, 0, 1))
_MASKS = (
    lambda i, j: (i + j) % 2 == 0,
    lambda i, j: i % 2 == 0,
    lambda i, j: j % 3 == 0,
    lambda i, j: (i + j) % 3 == 0,
    lambda i, j: (i // 2 + j // 3) % 2 == 0,
    lambda i, j: (i * j) % 2 + (i * j) % 3 == 0,
    lambda i, j: ((i * j) % 2 + (i * j) % 3) % 2 == 0,
    lambda i, j: ((i + j) % 2 + (i * j) % 3) % 2 == 0,
)


def _row_int(values) -> int:
    return int.from_bytes(bytes(values), "big")


@lru_cache(maxsize=64)
def _geometry(width: int) -> tuple[tuple[int, ...], ...]:
    """For a symbol `width` wide, as row ints (one module per byte): the
    function patterns as they stand while masks are scored, the encoding
    region, and each mask's pattern within that region; last, the bits that
    pair a module with its left neighbour.
    """
    layout = encoder.make_matrix(width, width)
    encoder.add_finder_patterns(layout, width, width)
    encoder.add_alignment_patterns(layout, width, width)
    # Format and version areas (and the dark module) stay light while scoring.
    layout[-8][8] = 0x0
    base = tuple(_row_int(0 if v == 0x2 else v for v in row) for row in layout)
    region = tuple(_row_int(1 if v == 0x2 else 0 for v in row) for row in layout)
    patterns = tuple(
        tuple(
            _row_int(
                1 if layout[i][j] == 0x2 and mask(i, j) else 0 for j in range(width)
            )
            for i in range(width)
        )
        for mask in _MASKS
    )
    pairs = _row_int([0] + [1] * (width - 1))
    return base, region, patterns, pairs


def _finder_like(joined: bytes, width: int) -> int:
    """N3 over lines joined by a separator (a match never spans two lines)."""
    stride = width + 1
    score = 0
    at = joined.find(_FINDER_LIKE)
    while at != -1:
        line_start = at - at % stride
        column = at - line_start
        end = at + 7
        if (
            column in (0, width - 7)
            or not any(joined[max(at - 4, line_start) : at])
            or not any(joined[end : min(end + 4, line_start + width)])
        ):
            score += 40
            start = end
        else:
            start = at + 4
        at = joined.find(_FINDER_LIKE, start)
    return score


def penalty(rows: list[int], width: int, pairs: int) -> int:
    """The penalty score (N1 + N2 + N3 + N4) of a symbol given as row ints."""
    lines = [r.to_bytes(width, "big") for r in rows]
    # Rows then columns, each line ended by a byte no pattern contains.
    joined = b"\x02".join(lines + [bytes(c) for c in zip(*lines, strict=True)])
    joined += b"\x02"
    score = 0
    for run in _RUN.finditer(joined):
        score += run.end() - run.start() - 2
    score += _finder_like(joined, width)
    blocks = 0
    above = rows[0]
    for row in rows[1:]:
        same = ~(above ^ row) & ~(above ^ (above >> 8)) & ~(row ^ (row >> 8))
        blocks += (same & pairs).bit_count()
        above = row
    score += 3 * blocks
    dark = joined.count(1) // 2  # every dark module is counted in a row and a column
    score += 10 * int(abs(dark * 100 / (width * width) - 50) / 5)
    return score


def best_mask(symbol: segno.QRCode) -> int:
    """The mask the standard's evaluation selects for this symbol's data."""
    return _choose(symbol)[0]


def _choose(symbol: segno.QRCode) -> tuple[int, list[int]]:
    width = len(symbol.matrix)
    base, region, patterns, pairs = _geometry(width)
    # The data bits: the symbol's encoding region with its own mask undone.
    data = [
        (_row_int(row) & area) ^ own
        for row, area, own in zip(
            symbol.matrix, region, patterns[symbol.mask], strict=True
        )
    ]
    best, best_score = 0, -1
    for number, pattern in enumerate(patterns):
        rows = [d ^ p | b for d, p, b in zip(data, pattern, base, strict=True)]
        score = penalty(rows, width, pairs)
        if best_score < 0 or score < best_score:
            best, best_score = number, score
    return best, data


def make(text: str, *, error: str) -> segno.QRCode:
    """`segno.make(text, error=...)` (no boost, no micro), its mask chosen here.

    The text is encoded once (with mask 0); the chosen mask is then applied to
    that symbol's data and the format information written again.
    """
    symbol = segno.make(text, error=error, boost_error=False, micro=False, mask=0)
    mask, data = _choose(symbol)
    if mask == symbol.mask:
        return symbol
    width = len(symbol.matrix)
    _base, region, patterns, _pairs = _geometry(width)
    matrix = tuple(
        bytearray(((_row_int(row) & ~area) | (d ^ p)).to_bytes(width, "big"))
        for row, area, d, p in zip(
            symbol.matrix, region, data, patterns[mask], strict=True
        )
    )
    encoder.add_format_info(matrix, symbol.version, symbol._error, mask)
    symbol.matrix, symbol.mask = matrix, mask
    return symbol
