// The C example's job from Go: EDI and DiffEvent frames of the bundled sample.
// Usage: deblur_sample BLUR EVENTS OUT_DIR [STEPS] [SEED]. Ctrl-C cancels the sampler.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"

	diffevent "github.com/diffevent/diffevent/bindings/go"
)

func run(ctx context.Context, args []string) error {
	blurry, err := diffevent.ReadImage(args[1])
	if err != nil {
		return err
	}
	defer blurry.Close()
	events, err := diffevent.ReadEvents(args[2])
	if err != nil {
		return err
	}
	defer events.Close()
	edi, err := diffevent.EdiDeblur(blurry, events, diffevent.EdiOptions{})
	if err != nil {
		return err
	}
	defer edi.Close()
	if err := edi.Write(filepath.Join(args[3], "edi.png"), 8); err != nil {
		return err
	}
	if !diffevent.HasTorch() {
		return nil
	}
	o := diffevent.DeblurOptions{Steps: 100, Progress: func(done, total int64) bool {
		fmt.Fprintf(os.Stderr, "\rstep %d/%d", done, total)
		if done == total {
			fmt.Fprintln(os.Stderr)
		}
		return false
	}}
	if len(args) > 4 {
		o.Steps, _ = strconv.Atoi(args[4])
	}
	if len(args) > 5 {
		o.Seed, _ = strconv.ParseUint(args[5], 10, 64)
	}
	sharp, residual, _, err := diffevent.Deblur(ctx, blurry, events, o)
	if err != nil {
		return err
	}
	defer sharp.Close()
	defer residual.Close()
	return sharp.Write(filepath.Join(args[3], "deblur.png"), 8)
}

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: deblur_sample BLUR EVENTS OUT_DIR [STEPS] [SEED]")
		os.Exit(64)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "deblur_sample:", err)
		os.Exit(1)
	}
}
