#!/usr/bin/env python3
"""The C example's job from Python: EDI and DiffEvent frames of the bundled sample, with the
shipped priors found as the CLI finds them.
Usage: deblur_sample.py BLUR EVENTS OUT_DIR [PRESET] [SEED]   (PRESET: fast (default), balanced, best)"""
import os
import sys

import diffevent as de


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 64
    preset = argv[4] if len(argv) > 4 else "fast"
    seed = int(argv[5]) if len(argv) > 5 else 0
    with de.Image.read(argv[1]) as blurry, de.Events.read(argv[2]) as events:
        de.edi_deblur(blurry, events).write(os.path.join(argv[3], "edi.png"))
        if de.has_torch():
            def show(done, total):
                print(f"step {done}/{total}", file=sys.stderr)
            sharp, _, _ = de.deblur(blurry, events, preset=preset, seed=seed, progress=show)
            sharp.write(os.path.join(argv[3], "deblur.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
