// Package diffevent is the Go binding of diffevent (event-guided deblurring: EDI and
// DiffEvent) over its C API, libdiffevent_c.so.1.
//
// cgo finds the header and the library through pkg-config (diffevent-c): install diffevent
// (cmake --install BUILD --prefix PREFIX) and, for a prefix pkg-config does not search, set
// PKG_CONFIG_PATH=PREFIX/lib/pkgconfig. Programs run without LD_LIBRARY_PATH (the .pc file
// carries a run path).
//
// Handles are freed by Close (and, as a safety net, by a finalizer). Long calls take a
// context.Context: cancelling it cancels the call between sampler steps.
package diffevent

/*
#cgo pkg-config: diffevent-c
#include <stdint.h>
#include <stdlib.h>
#include "diffevent/diffevent.h"

extern int32_t goDiffeventProgress(void* user_data, int64_t done, int64_t total);
static int32_t diffevent_go_progress(void* user_data, int64_t done, int64_t total) {
  return goDiffeventProgress(user_data, done, total);
}
// The handle travels as an integer; only C turns it into the void* the API carries.
static void diffevent_go_set_progress(diffevent_deblur_params* p, uintptr_t handle) {
  p->progress = diffevent_go_progress;
  p->progress_user_data = (void*)handle;
}
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/cgo"
	"unsafe"
)

// Status codes of the C API.
const (
	StatusInvalidArgument = 1
	StatusIO              = 2
	StatusFormat          = 3
	StatusOutOfRange      = 4
	StatusUnsupported     = 5
	StatusCancelled       = 6
	StatusInternal        = 7
)

// Error is a failed call: the C status and the library's message.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s", C.GoString(C.diffevent_status_name(C.diffevent_status(e.Status))), e.Message)
}

// check turns a status into an error. It must run on the goroutine's OS thread that made the
// call (the last error is thread-local): callers lock the thread around call and check.
func check(status C.diffevent_status) error {
	if status == 0 {
		return nil
	}
	return &Error{Status: int(status), Message: C.GoString(C.diffevent_last_error())}
}

// call runs f on a locked OS thread and reads the thread-local last error there.
func call(f func() C.diffevent_status) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return check(f())
}

// Version returns the library's "MAJOR.MINOR.PATCH".
func Version() string { return C.GoString(C.diffevent_version_string()) }

// HasTorch reports whether the library was built with LibTorch (needed by Deblur).
func HasTorch() bool { return C.diffevent_has_torch() != 0 }

// Image is a float image, channels x height x width, in [0, 1].
type Image struct{ p *C.diffevent_image }

func newImage(p *C.diffevent_image) *Image {
	img := &Image{p}
	runtime.SetFinalizer(img, (*Image).Close)
	return img
}

// ReadImage reads a PNG or PFM file.
func ReadImage(path string) (*Image, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var out *C.diffevent_image
	if err := call(func() C.diffevent_status { return C.diffevent_image_read(cpath, &out) }); err != nil {
		return nil, err
	}
	return newImage(out), nil
}

// NewImage copies channels*height*width floats, channel-major.
func NewImage(channels, height, width int, data []float32) (*Image, error) {
	if len(data) != channels*height*width || len(data) == 0 {
		return nil, &Error{StatusInvalidArgument, fmt.Sprintf("%dx%dx%d image needs %d floats, got %d",
			channels, height, width, channels*height*width, len(data))}
	}
	var out *C.diffevent_image
	err := call(func() C.diffevent_status {
		return C.diffevent_image_create(C.int32_t(channels), C.int32_t(height), C.int32_t(width),
			(*C.float)(unsafe.Pointer(&data[0])), &out)
	})
	if err != nil {
		return nil, err
	}
	return newImage(out), nil
}

// Shape returns (channels, height, width).
func (img *Image) Shape() (int, int, int) {
	var c, h, w C.int32_t
	C.diffevent_image_shape(img.p, &c, &h, &w)
	runtime.KeepAlive(img)
	return int(c), int(h), int(w)
}

// Data copies the pixels out, channel-major.
func (img *Image) Data() []float32 {
	c, h, w := img.Shape()
	if c*h*w == 0 {
		return nil // closed image
	}
	out := make([]float32, c*h*w)
	C.diffevent_image_copy_data(img.p, (*C.float)(unsafe.Pointer(&out[0])), C.size_t(len(out)))
	runtime.KeepAlive(img)
	return out
}

// Write writes PNG (bitDepth 8 or 16) or PFM (by extension), atomically.
func (img *Image) Write(path string, bitDepth int) error {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	defer runtime.KeepAlive(img)
	return call(func() C.diffevent_status { return C.diffevent_image_write(img.p, cpath, C.int32_t(bitDepth)) })
}

// Close frees the image; further use is an error. Safe to call twice.
func (img *Image) Close() {
	if img.p != nil {
		C.diffevent_image_destroy(img.p)
		img.p = nil
	}
}

// Events is an event stream: sorted by time, coordinates inside the sensor.
type Events struct{ p *C.diffevent_events }

func newEvents(p *C.diffevent_events) *Events {
	ev := &Events{p}
	runtime.SetFinalizer(ev, (*Events).Close)
	return ev
}

// ReadEvents reads an event file (any supported format).
func ReadEvents(path string) (*Events, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var out *C.diffevent_events
	if err := call(func() C.diffevent_status { return C.diffevent_events_read(nil, cpath, nil, &out) }); err != nil {
		return nil, err
	}
	return newEvents(out), nil
}

// EventsFromArrays copies caller arrays (polarity 0/1 or -1/+1; times must not decrease).
func EventsFromArrays(width, height int, t []int64, x, y []uint16, p []int8) (*Events, error) {
	n := len(t)
	if len(x) != n || len(y) != n || len(p) != n {
		return nil, &Error{StatusInvalidArgument, fmt.Sprintf("arrays differ in length: t %d, x %d, y %d, polarity %d",
			n, len(x), len(y), len(p))}
	}
	var out *C.diffevent_events
	var tp *C.int64_t
	var xp, yp *C.uint16_t
	var pp *C.int8_t
	if n > 0 {
		tp, xp, yp, pp = (*C.int64_t)(&t[0]), (*C.uint16_t)(&x[0]), (*C.uint16_t)(&y[0]), (*C.int8_t)(&p[0])
	}
	err := call(func() C.diffevent_status {
		return C.diffevent_events_from_arrays(C.int32_t(width), C.int32_t(height), tp, xp, yp, pp, C.size_t(n), nil, &out)
	})
	if err != nil {
		return nil, err
	}
	return newEvents(out), nil
}

// Len returns the number of events.
func (ev *Events) Len() int {
	var info C.diffevent_events_info
	C.diffevent_events_info_init(&info)
	C.diffevent_events_info_get(ev.p, &info)
	runtime.KeepAlive(ev)
	return int(info.count)
}

// Arrays copies the stream out (polarity -1/+1).
func (ev *Events) Arrays() (t []int64, x, y []uint16, p []int8) {
	n := ev.Len()
	t, x, y, p = make([]int64, n), make([]uint16, n), make([]uint16, n), make([]int8, n)
	if n > 0 {
		C.diffevent_events_copy_arrays(ev.p, (*C.int64_t)(&t[0]), (*C.uint16_t)(&x[0]), (*C.uint16_t)(&y[0]),
			(*C.int8_t)(&p[0]), C.size_t(n))
	}
	runtime.KeepAlive(ev)
	return
}

// Close frees the stream. Safe to call twice.
func (ev *Events) Close() {
	if ev.p != nil {
		C.diffevent_events_destroy(ev.p)
		ev.p = nil
	}
}

// EdiOptions: zero values keep the library's defaults.
type EdiOptions struct {
	CPos, CNeg float64 // thresholds (0: the library's nominal one)
	T0us, T1us int64   // exposure; both 0 = the events file's
	SRGB       bool    // the blurry frame is sRGB-encoded
}

func (o *EdiOptions) apply(p *C.diffevent_edi_params) {
	if o.CPos > 0 {
		p.c_pos = C.double(o.CPos)
	}
	if o.CNeg > 0 {
		p.c_neg = C.double(o.CNeg)
	}
	if o.T0us != 0 || o.T1us != 0 {
		p.has_exposure, p.exposure_t0_us, p.exposure_t1_us = 1, C.int64_t(o.T0us), C.int64_t(o.T1us)
	}
	if o.SRGB {
		p.linearize_srgb = 1
	}
}

// EdiDeblur computes sharp = blurry / E.
func EdiDeblur(blurry *Image, events *Events, o EdiOptions) (*Image, error) {
	var p C.diffevent_edi_params
	C.diffevent_edi_params_init(&p)
	o.apply(&p)
	var out *C.diffevent_image
	err := call(func() C.diffevent_status { return C.diffevent_edi_deblur(nil, blurry.p, events.p, &p, &out) })
	runtime.KeepAlive(blurry)
	runtime.KeepAlive(events)
	if err != nil {
		return nil, err
	}
	return newImage(out), nil
}

// ThresholdEstimate is the result of EstimateThreshold.
type ThresholdEstimate struct {
	C           float64 // the symmetric threshold found
	StdError    float64 // its standard error (the spread over a 3 x 3 grid of cells)
	AtBound     bool    // c ended at an end of the search interval: suspect
	Energy      float64 // the energy at C
	Evaluations int     // energy evaluations spent
}

// EstimateThreshold is EDI's threshold search (docs/edi.md): the symmetric threshold whose EDI
// frame is sharpest. o gives the exposure and sRGB flag (its thresholds are unused); cMin and
// cMax the search interval, 0 for the library's (0.05 and 4).
func EstimateThreshold(blurry *Image, events *Events, o EdiOptions, cMin, cMax float64) (ThresholdEstimate, error) {
	var p C.diffevent_edi_params
	C.diffevent_edi_params_init(&p)
	o.apply(&p)
	var s C.diffevent_threshold_params
	C.diffevent_threshold_params_init(&s)
	if cMin > 0 {
		s.c_min = C.double(cMin)
	}
	if cMax > 0 {
		s.c_max = C.double(cMax)
	}
	var e C.diffevent_threshold_estimate
	C.diffevent_threshold_estimate_init(&e)
	err := call(func() C.diffevent_status {
		return C.diffevent_estimate_threshold(nil, blurry.p, events.p, &p, &s, &e)
	})
	runtime.KeepAlive(blurry)
	runtime.KeepAlive(events)
	if err != nil {
		return ThresholdEstimate{}, err
	}
	return ThresholdEstimate{C: float64(e.c), StdError: float64(e.std_error), AtBound: e.at_bound != 0,
		Energy: float64(e.energy), Evaluations: int(e.evaluations)}, nil
}

// SensorThresholdEstimate is the result of EstimateSensorThreshold.
type SensorThresholdEstimate struct {
	C                    float64 // the sensor's median per-pixel threshold
	StdError             float64 // the spread of the blocks' medians / sqrt(count)
	Pixels               int64   // pixels in the median
	Blocks               int     // blocks whose events gave a clear velocity
	MotionPx             float64 // median motion over the exposure (pixels)
	AtBound              bool    // C is at the end of its range: suspect
	CPos                 float64 // median over the pixels that brightened (ON); 0 below 25 of them
	CNeg                 float64 // median over the pixels that darkened (OFF); 0 below 25 of them
	PixelsPos, PixelsNeg int64
}

// EstimateSensorThreshold is the sensor's own threshold from the blur its events explain
// (docs/edi.md, "The sensor's threshold"); unlike EstimateThreshold it does not optimise the
// image, and under a strong per-pixel mismatch the two differ. o gives the exposure and sRGB
// flag; referenceAtStart: every pixel's reference was reset when the exposure began (simulated
// data).
func EstimateSensorThreshold(blurry *Image, events *Events, o EdiOptions, referenceAtStart bool) (SensorThresholdEstimate, error) {
	var p C.diffevent_edi_params
	C.diffevent_edi_params_init(&p)
	o.apply(&p)
	var s C.diffevent_sensor_threshold_params
	C.diffevent_sensor_threshold_params_init(&s)
	if referenceAtStart {
		s.reference_at_start = 1
	}
	var e C.diffevent_sensor_threshold_estimate
	C.diffevent_sensor_threshold_estimate_init(&e)
	err := call(func() C.diffevent_status {
		return C.diffevent_estimate_sensor_threshold(nil, blurry.p, events.p, &p, &s, &e)
	})
	runtime.KeepAlive(blurry)
	runtime.KeepAlive(events)
	if err != nil {
		return SensorThresholdEstimate{}, err
	}
	return SensorThresholdEstimate{C: float64(e.c), StdError: float64(e.std_error), Pixels: int64(e.pixels),
		Blocks: int(e.blocks), MotionPx: float64(e.motion_px), AtBound: e.at_bound != 0,
		CPos: float64(e.c_pos), CNeg: float64(e.c_neg), PixelsPos: int64(e.pixels_pos),
		PixelsNeg: int64(e.pixels_neg)}, nil
}

// Presets of Deblur (DIFFEVENT_PRESET_*): PresetBalanced is the library's default.
const (
	PresetFast     = 0
	PresetBalanced = 1
	PresetBest     = 2
	PresetPaper    = 3 // the slides' Algorithm 1 (C API version 9)
	PresetNoisy    = 4 // trusts the events less, for noisy sensors (C API version 11)
)

// Roles of the shipped priors (DIFFEVENT_PRIOR_ROLE_*).
const (
	RoleX = 0 // the sharp image's prior
	RoleR = 1 // the residual's prior
)

// Prior is a diffusion prior (a TorchScript noise-prediction network) loaded once and usable
// by any number of Deblur calls.
type Prior struct{ p *C.diffevent_prior }

func newPrior(p *C.diffevent_prior) *Prior {
	pr := &Prior{p}
	runtime.SetFinalizer(pr, (*Prior).Close)
	return pr
}

// LoadPrior loads a TorchScript prior file.
func LoadPrior(path string) (*Prior, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var out *C.diffevent_prior
	if err := call(func() C.diffevent_status { return C.diffevent_prior_load(nil, cpath, nil, &out) }); err != nil {
		return nil, err
	}
	return newPrior(out), nil
}

// ShippedPriorPath returns where the shipped prior for a role (RoleX, RoleR) and channel count
// (1 grey, 3 RGB) is, found as the CLI finds it: $DIFFEVENT_MODELS, then the models folder of
// the library's install.
func ShippedPriorPath(role, channels int) (string, error) {
	var needed C.size_t
	var path string
	err := call(func() C.diffevent_status {
		st := C.diffevent_shipped_prior_path(C.int32_t(role), C.int32_t(channels), nil, 0, &needed)
		if st != C.DIFFEVENT_E_BUFFER_TOO_SMALL {
			return st
		}
		buf := (*C.char)(C.malloc(needed))
		defer C.free(unsafe.Pointer(buf))
		st = C.diffevent_shipped_prior_path(C.int32_t(role), C.int32_t(channels), buf, needed, nil)
		if st == 0 {
			path = C.GoString(buf)
		}
		return st
	})
	return path, err
}

// ShippedPrior loads the shipped prior for a role and channel count (ShippedPriorPath).
func ShippedPrior(role, channels int) (*Prior, error) {
	var out *C.diffevent_prior
	err := call(func() C.diffevent_status {
		return C.diffevent_prior_load_shipped(nil, C.int32_t(role), C.int32_t(channels), nil, &out)
	})
	if err != nil {
		return nil, err
	}
	return newPrior(out), nil
}

// Close frees the prior; no Deblur may be using it.
func (pr *Prior) Close() {
	if pr.p != nil {
		C.diffevent_prior_destroy(pr.p)
		pr.p = nil
	}
}

// DeblurOptions: zero values keep the library's defaults (those of Preset, balanced when nil)
// and pick the priors as the CLI does.
type DeblurOptions struct {
	Preset *int // DIFFEVENT_PRESET_* (nil: the library's default, PresetBalanced)
	Steps  int
	Start  float64 // fraction of the schedule sampling starts from; 1 = pure noise
	Seed   uint64
	Edi    EdiOptions
	// XPrior: nil = the shipped prior for the frame's channels when one is installed (else the
	// analytic prior, with a note on stderr), as the CLI. Analytic: the analytic prior instead.
	XPrior   *Prior
	Analytic bool
	// RPrior: nil = the shipped residual prior when the preset runs one and x uses the shipped
	// prior, as the CLI; NoResidual: r = 0 whatever the preset.
	RPrior     *Prior
	NoResidual bool
	Progress   func(done, total int64) bool // return true to cancel
}

// priors resolves the options' priors; the returned ones loaded here are closed by the caller.
func (o *DeblurOptions) priors(channels int, runsResidual bool) (x, r *Prior, loaded []*Prior, err error) {
	x, r = o.XPrior, o.RPrior
	shippedX := x == nil && !o.Analytic
	if shippedX {
		if _, perr := ShippedPriorPath(RoleX, channels); perr != nil {
			var e *Error
			if !errors.As(perr, &e) || e.Status != StatusIO {
				return nil, nil, nil, perr
			}
			fmt.Fprintf(os.Stderr, "diffevent: note: %s; using the analytic prior\n", e.Message)
			shippedX = false
		} else if x, err = ShippedPrior(RoleX, channels); err != nil {
			return nil, nil, nil, err
		} else {
			loaded = append(loaded, x)
		}
	}
	if o.NoResidual {
		r = nil
	} else if r == nil && shippedX && runsResidual {
		if r, err = ShippedPrior(RoleR, channels); err != nil {
			for _, p := range loaded {
				p.Close()
			}
			return nil, nil, nil, err
		}
		loaded = append(loaded, r)
	}
	return x, r, loaded, nil
}

//export goDiffeventProgress
func goDiffeventProgress(user unsafe.Pointer, done, total C.int64_t) C.int32_t {
	st := cgo.Handle(uintptr(user)).Value().(*progressState)
	if st.ctx.Err() != nil {
		return 1
	}
	if st.fn != nil && st.fn(int64(done), int64(total)) {
		return 1
	}
	return 0
}

type progressState struct {
	ctx context.Context
	fn  func(done, total int64) bool
}

// Deblur runs DiffEvent (EBRD model, alternating sampler) and returns (sharp, residual, c).
// Cancelling ctx stops it between steps with ctx.Err(). Deterministic for a fixed seed: the
// same bytes as `diffevent deblur --preset P --seed S` with the same priors.
func Deblur(ctx context.Context, blurry *Image, events *Events, o DeblurOptions) (*Image, *Image, float64, error) {
	var p C.diffevent_deblur_params
	C.diffevent_deblur_params_init(&p)
	if o.Preset != nil {
		if err := call(func() C.diffevent_status { return C.diffevent_deblur_params_init_preset(&p, C.int32_t(*o.Preset)) }); err != nil {
			return nil, nil, 0, err
		}
	}
	if o.Steps > 0 {
		p.steps = C.int32_t(o.Steps)
	}
	if o.Start > 0 {
		p.start = C.double(o.Start)
	}
	p.seed = C.uint64_t(o.Seed)
	// The EDI parameters in C memory: p, Go memory passed to C, may hold no Go pointer.
	edi := (*C.diffevent_edi_params)(C.malloc(C.size_t(unsafe.Sizeof(C.diffevent_edi_params{}))))
	if edi == nil {
		return nil, nil, 0, errors.New("diffevent: out of memory")
	}
	defer C.free(unsafe.Pointer(edi))
	C.diffevent_edi_params_init(edi)
	o.Edi.apply(edi)
	p.edi = edi
	channels, _, _ := blurry.Shape()
	xPrior, rPrior, loaded, err := o.priors(channels, p.residual_prior != 0)
	if err != nil {
		return nil, nil, 0, err
	}
	defer func() {
		for _, pr := range loaded {
			pr.Close()
		}
	}()
	var xp, rp *C.diffevent_prior
	if xPrior != nil {
		xp = xPrior.p
	}
	if rPrior != nil {
		rp = rPrior.p
	}
	h := cgo.NewHandle(&progressState{ctx, o.Progress})
	defer h.Delete()
	C.diffevent_go_set_progress(&p, C.uintptr_t(h))

	var cctx *C.diffevent_context
	if err := call(func() C.diffevent_status { return C.diffevent_context_create(nil, &cctx) }); err != nil {
		return nil, nil, 0, err
	}
	defer C.diffevent_context_destroy(cctx)
	// A cancelled ctx reaches the C context from another goroutine (thread-safe in C).
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-ctx.Done():
			C.diffevent_context_cancel(cctx)
		case <-finished:
		}
	}()

	var sharp, residual *C.diffevent_image
	var c C.double
	err = call(func() C.diffevent_status {
		return C.diffevent_deblur(cctx, blurry.p, events.p, xp, rp, &p, &sharp, &residual, &c)
	})
	runtime.KeepAlive(blurry)
	runtime.KeepAlive(events)
	runtime.KeepAlive(xPrior)
	runtime.KeepAlive(rPrior)
	if err != nil {
		if e, ok := err.(*Error); ok && e.Status == StatusCancelled && ctx.Err() != nil {
			return nil, nil, 0, fmt.Errorf("diffevent: deblur: %w", ctx.Err())
		}
		return nil, nil, 0, err
	}
	return newImage(sharp), newImage(residual), float64(c), nil
}

// PSNR returns the peak signal-to-noise ratio in dB.
func PSNR(reference, test *Image, dataRange float64) (float64, error) {
	var out C.double
	err := call(func() C.diffevent_status { return C.diffevent_psnr(reference.p, test.p, C.double(dataRange), &out) })
	runtime.KeepAlive(reference)
	runtime.KeepAlive(test)
	return float64(out), err
}
