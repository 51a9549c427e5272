"""The QR mask choice: the standard's evaluation (as segno does it), only faster."""

import io
import random
import string

import segno
import zxingcpp
from PIL import Image

from balai.documents import payload, qrmask

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def samples(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for i in range(count):
        if i % 3:
            # What letters carry: an upper-case URL and a base32 payload.
            body = "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(90, 260)))
            texts.append("HTTPS://BALAI.KUKARKAB.GO.ID/V/" + body)
        else:
            # Anything else, over many versions and both modes.
            chars = string.ascii_letters + string.digits + " /:-"
            texts.append(
                "".join(rng.choice(chars) for _ in range(rng.randrange(1, 200)))
            )
    return texts


def test_the_same_symbol_as_segno_evaluating_every_mask_itself():
    chosen = set()
    for text in samples(240):
        ours = qrmask.make(text, error="m")
        theirs = segno.make(text, error="m", boost_error=False, micro=False)
        assert (ours.version, ours.mask) == (theirs.version, theirs.mask), text
        assert ours.matrix == theirs.matrix, text
        chosen.add(ours.mask)
    # The mask is evaluated, not fixed: many of the eight are chosen.
    assert len(chosen) >= 6


def test_the_penalty_matches_segnos_scores_for_every_mask():
    from segno import encoder

    text = samples(2)[1]
    for mask in range(8):
        symbol = segno.make(text, error="m", boost_error=False, micro=False, mask=mask)
        width = len(symbol.matrix)
        base, region, _patterns, pairs = qrmask._geometry(width)
        # Format and version areas light, as while masks are scored.
        rows = [
            (qrmask._row_int(row) & area) | b
            for row, area, b in zip(symbol.matrix, region, base, strict=True)
        ]
        light = tuple(bytearray(r.to_bytes(width, "big")) for r in rows)
        assert qrmask.penalty(rows, width, pairs) == encoder.evaluate_mask(
            light, width, width
        )


def test_a_letters_qr_decodes_with_the_chosen_mask():
    text = samples(3)[2]
    out = io.BytesIO()
    payload.make_qr(text).save(out, kind="png", scale=4, border=4)
    out.seek(0)
    image = Image.open(out).convert("L")
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert [r.text for r in found] == [text]
    assert found[0].ec_level == "M"
