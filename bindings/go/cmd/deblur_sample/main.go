// The C example's job from Go: EDI and DiffEvent frames of the bundled sample.
// Usage: deblur_sample BLUR EVENTS OUT_DIR [PRESET] [SEED]: PRESET fast (default), balanced or
// best; the priors are the shipped ones, found as the CLI finds them. Ctrl-C cancels the sampler.
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
	presets := map[string]int{"fast": diffevent.PresetFast, "balanced": diffevent.PresetBalanced, "best": diffevent.PresetBest}
	name := "fast"
	if len(args) > 4 {
		name = args[4]
	}
	preset, ok := presets[name]
	if !ok {
		return fmt.Errorf("preset %q: expected fast, balanced or best", name)
	}
	o := diffevent.DeblurOptions{Preset: &preset, Progress: func(done, total int64) bool {
		fmt.Fprintf(os.Stderr, "step %d/%d\n", done, total)
		return false
	}}
	if len(args) > 5 {
		seed, err := strconv.ParseUint(args[5], 10, 64)
		if err != nil {
			return fmt.Errorf("seed %q: %w", args[5], err)
		}
		o.Seed = seed
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
		fmt.Fprintln(os.Stderr, "usage: deblur_sample BLUR EVENTS OUT_DIR [PRESET] [SEED]")
		os.Exit(64)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "deblur_sample:", err)
		os.Exit(1)
	}
}
