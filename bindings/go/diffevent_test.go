package diffevent

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestImageRoundTripAndPSNR(t *testing.T) {
	data := make([]float32, 2*3*4)
	shifted := make([]float32, len(data))
	for i := range data {
		data[i] = float32(i) / 30
		shifted[i] = data[i] + 0.1
	}
	a, err := NewImage(2, 3, 4, data)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if c, h, w := a.Shape(); c != 2 || h != 3 || w != 4 {
		t.Fatalf("shape %d %d %d", c, h, w)
	}
	for i, v := range a.Data() {
		if v != data[i] {
			t.Fatalf("pixel %d: %v != %v", i, v, data[i])
		}
	}
	b, _ := NewImage(2, 3, 4, shifted)
	// MSE 0.01 -> 20 dB.
	if db, err := PSNR(a, b, 1); err != nil || math.Abs(db-20) > 1e-4 {
		t.Fatalf("psnr %v %v", db, err)
	}
}

func TestEventsErrorsNameTheProblem(t *testing.T) {
	ev, err := EventsFromArrays(4, 3, []int64{1, 5, 9}, []uint16{0, 3, 1}, []uint16{2, 0, 1}, []int8{1, -1, 1})
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	if ev.Len() != 3 {
		t.Fatalf("len %d", ev.Len())
	}
	_, err = EventsFromArrays(4, 3, []int64{5, 1}, []uint16{0, 0}, []uint16{0, 0}, []int8{1, 1})
	var e *Error
	if !errors.As(err, &e) || !strings.Contains(e.Message, "index 1") {
		t.Fatalf("unsorted: %v", err)
	}
	_, err = ReadEvents("/nonexistent/events.h5")
	if !errors.As(err, &e) || e.Status != StatusIO || !strings.Contains(err.Error(), "/nonexistent/events.h5") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestEstimateThresholdStaysInItsInterval(t *testing.T) {
	const w, h, n = 16, 16, 400
	data := make([]float32, w*h)
	for i := range data {
		data[i] = 0.2 + 0.6*float32((i*7919)%97)/97
	}
	img, err := NewImage(1, h, w, data)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	ts, xs, ys, ps := make([]int64, n), make([]uint16, n), make([]uint16, n), make([]int8, n)
	for i := 0; i < n; i++ {
		ts[i], xs[i], ys[i] = int64(i*1000/n), uint16((i*13)%w), uint16((i*7)%h)
		ps[i] = int8(1 - 2*(i%2))
	}
	ev, err := EventsFromArrays(w, h, ts, xs, ys, ps)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	o := EdiOptions{T0us: 0, T1us: 1000}
	est, err := EstimateThreshold(img, ev, o, 0.3, 0.6)
	if err != nil || est.C < 0.3 || est.C > 0.6 || est.Evaluations < 12 {
		t.Fatalf("estimate %+v, %v", est, err)
	}
	var e *Error
	if _, err = EstimateThreshold(img, ev, o, 0.6, 0.3); !errors.As(err, &e) ||
		!strings.Contains(e.Message, "threshold search interval") {
		t.Fatalf("reversed interval: %v", err)
	}
}

func TestSensorThresholdOfTheBundledSample(t *testing.T) {
	// data/sample: simulated at 0.2, every pixel starting at its reference. The packaging test
	// names the repository's data folder in DIFFEVENT_TEST_DATA.
	data := os.Getenv("DIFFEVENT_TEST_DATA")
	if data == "" {
		t.Skip("DIFFEVENT_TEST_DATA (the repository's data folder) is not set")
	}
	img, err := ReadImage(filepath.Join(data, "sample", "blur.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	ev, err := ReadEvents(filepath.Join(data, "sample", "events.h5"))
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	est, err := EstimateSensorThreshold(img, ev, EdiOptions{}, true)
	if err != nil || est.C < 0.17 || est.C > 0.23 || est.Pixels < 50 || est.AtBound ||
		est.PixelsPos+est.PixelsNeg != est.Pixels || math.Abs(est.CPos/est.CNeg-1) > 0.2 {
		t.Fatalf("estimate %+v, %v", est, err)
	}
}

func TestCancellingTheContextStopsDeblur(t *testing.T) {
	if !HasTorch() {
		t.Skip("library built without LibTorch")
	}
	pix := make([]float32, 64*64)
	for i := range pix {
		pix[i] = 0.5
	}
	img, _ := NewImage(1, 64, 64, pix)
	ev, _ := EventsFromArrays(64, 64, []int64{10, 20}, []uint16{1, 2}, []uint16{1, 2}, []int8{1, -1})
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{}, 1)
	go func() {
		<-started
		cancel() // from another goroutine, mid-run
	}()
	steps := int64(0)
	o := DeblurOptions{Steps: 1000, Start: 1, Analytic: true, Edi: EdiOptions{T1us: 30}, Progress: func(done, total int64) bool {
		steps = done
		select {
		case started <- struct{}{}:
		default:
		}
		time.Sleep(time.Millisecond)
		return false
	}}
	_, _, _, err := Deblur(ctx, img, ev, o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	if steps >= 1000 {
		t.Fatalf("ran all %d steps", steps)
	}
}

func TestShippedPriorPathFollowsRoleAndChannels(t *testing.T) {
	path, err := ShippedPriorPath(RoleR, 3)
	if err != nil || !strings.HasSuffix(path, "r_prior_rgb.pt") {
		t.Fatalf("ShippedPriorPath(RoleR, 3) = %q, %v", path, err)
	}
	_, err = ShippedPriorPath(RoleX, 2)
	var e *Error
	if !errors.As(err, &e) || e.Status != StatusInvalidArgument || !strings.Contains(e.Message, "not 2 channels") {
		t.Fatalf("2 channels: want an invalid-argument error naming them, got %v", err)
	}
}

func TestDeblurDefaultsToTheShippedPriorAsTheCLIDoes(t *testing.T) {
	if !HasTorch() {
		t.Skip("library built without LibTorch")
	}
	pix := make([]float32, 32*32)
	for i := range pix {
		pix[i] = 0.2 + 0.6*float32((i*7919)%97)/97
	}
	img, _ := NewImage(1, 32, 32, pix)
	defer img.Close()
	ev, _ := EventsFromArrays(32, 32, []int64{10, 20}, []uint16{1, 2}, []uint16{1, 2}, []int8{1, -1})
	defer ev.Close()
	fast := PresetFast
	run := func(o DeblurOptions) []float32 {
		o.Preset, o.Steps, o.Edi = &fast, 20, EdiOptions{T1us: 30}
		sharp, residual, _, err := Deblur(context.Background(), img, ev, o)
		if err != nil {
			t.Fatal(err)
		}
		defer sharp.Close()
		defer residual.Close()
		return sharp.Data()
	}
	prior, err := ShippedPrior(RoleX, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer prior.Close()
	byDefault, named, analytic := run(DeblurOptions{}), run(DeblurOptions{XPrior: prior}), run(DeblurOptions{Analytic: true})
	differs := false
	for i := range byDefault {
		if byDefault[i] != named[i] {
			t.Fatalf("pixel %d: default %v, shipped prior named %v", i, byDefault[i], named[i])
		}
		differs = differs || byDefault[i] != analytic[i]
	}
	if !differs {
		t.Fatal("the default gave the analytic prior's image")
	}
}
