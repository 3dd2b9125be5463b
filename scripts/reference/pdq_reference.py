"""PDQ hashes from the reference implementation (PyPI's pdqhash: ThreatExchange's C++ through Cython), for
scripts/pdq-reference.sh. Usage: pdq_reference.py FILE... ; prints one line per file: HEX QUALITY DIHEDRAL-HEX*7 FILE.

Pixels: Pillow's decode, EXIF orientation not applied (as the reference tools read files), transparency composited
on white (as imgcls decodes), everything else converted to RGB by Pillow.
"""
import sys

import numpy as np
import pdqhash
from PIL import Image


def hex_of(bits):
    # pdqhash returns bit 255 first: the 256-bit number, most significant bit first.
    text = "".join(str(int(b)) for b in bits)
    return "%064x" % int(text, 2)


for path in sys.argv[1:]:
    try:
        image = Image.open(path)
        image.load()
    except Exception as error:  # a file Pillow cannot read: say so, keep going
        print(f"- - - {path} ({error})")
        continue
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    pixels = np.ascontiguousarray(np.asarray(image.convert("RGB"), dtype=np.uint8))
    variants, quality = pdqhash.compute_dihedral(pixels)
    print(" ".join([hex_of(variants[0]), str(quality)] + [hex_of(v) for v in variants[1:]] + [path]))
