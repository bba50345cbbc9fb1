#!/usr/bin/env python3
"""The C example's job from Python: EDI and DiffEvent frames of the bundled sample.
Usage: deblur_sample.py BLUR EVENTS OUT_DIR [STEPS] [SEED]"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import diffevent as de  # noqa: E402


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 64
    steps = int(argv[4]) if len(argv) > 4 else 50
    seed = int(argv[5]) if len(argv) > 5 else 0
    with de.Image.read(argv[1]) as blurry, de.Events.read(argv[2]) as events:
        de.edi_deblur(blurry, events).write(os.path.join(argv[3], "edi.png"))
        if de.has_torch():
            def show(done, total):
                print(f"\rstep {done}/{total}", end="\n" if done == total else "", file=sys.stderr)
            # The analytic prior, as the C example (the default is the shipped prior, as the CLI's).
            sharp, _, _ = de.deblur(blurry, events, steps=steps, seed=seed, progress=show, x_prior="analytic",
                                    r_prior=None)
            sharp.write(os.path.join(argv[3], "deblur.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
