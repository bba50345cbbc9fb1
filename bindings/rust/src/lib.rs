//! diffevent for Rust: a safe wrapper over the diffevent C API (`libdiffevent_c.so.1`).
//!
//! Handles free themselves on drop; errors carry the C status and the library's message.
//!
//! ```no_run
//! let blurry = diffevent::Image::read("blur.png")?;
//! let events = diffevent::Events::read("events.h5")?;
//! let sharp = diffevent::edi_deblur(&blurry, &events, &diffevent::EdiOptions::default())?;
//! sharp.write("sharp.png", 8)?;
//! # Ok::<(), diffevent::Error>(())
//! ```
#![deny(missing_docs)]

use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_void};
use std::fmt;
use std::path::Path;
use std::ptr;

/// The raw C declarations (mirroring `diffevent.h`; struct layouts are checked at run time
/// against the library's `struct_size`).
#[allow(missing_docs, non_camel_case_types)]
pub mod ffi {
    use std::os::raw::{c_char, c_void};

    pub type diffevent_status = i32;
    pub type diffevent_progress_fn = Option<unsafe extern "C" fn(*mut c_void, i64, i64) -> i32>;

    #[repr(C)]
    pub struct diffevent_context {
        _private: [u8; 0],
    }
    #[repr(C)]
    pub struct diffevent_image {
        _private: [u8; 0],
    }
    #[repr(C)]
    pub struct diffevent_events {
        _private: [u8; 0],
    }
    #[repr(C)]
    pub struct diffevent_prior {
        _private: [u8; 0],
    }

    #[repr(C)]
    #[derive(Clone, Copy)]
    pub struct diffevent_edi_params {
        pub struct_size: u32,
        pub has_exposure: i32,
        pub exposure_t0_us: i64,
        pub exposure_t1_us: i64,
        pub has_tau: i32,
        pub linearize_srgb: i32,
        pub tau_us: i64,
        pub c_pos: f64,
        pub c_neg: f64,
        pub c_pos_map: *const f32,
        pub c_neg_map: *const f32,
        pub min_integral: f64,
    }

    #[repr(C)]
    #[derive(Clone, Copy)]
    pub struct diffevent_deblur_params {
        pub struct_size: u32,
        pub steps: i32,
        pub edi: diffevent_edi_params,
        pub auto_threshold: i32,
        pub enhancer_kind: i32,
        pub enhancer_path: *const c_char,
        pub guided_radius: i32,
        pub guidance: i32,
        pub guided_eps: f64,
        pub respacing: *const c_char,
        pub ddim: i32,
        pub variance: i32,
        pub eta: f64,
        pub s: f64,
        pub s_r: f64,
        pub lambda_tv: f64,
        pub lambda_l1: f64,
        pub min_prior_variance: f64,
        pub clip: i32,
        pub tile_size: i32,
        pub tile_stride: i32,
        pub reserved0: i32,
        pub tile_above_pixels: i64,
        pub seed: u64,
        pub progress: diffevent_progress_fn,
        pub progress_user_data: *mut c_void,
        /// API version 2.
        pub start: f64,
        pub threshold_sigma: f64,
        pub samples: i32,
        /// API version 3: DIFFEVENT_INTEGRAL_* (0: the library's default).
        pub integral: i32,
        /// API version 5.
        pub antithetic: i32,
        pub residual_prior: i32,
    }

    #[repr(C)]
    #[derive(Clone, Copy)]
    pub struct diffevent_events_info {
        pub struct_size: u32,
        pub width: i32,
        pub height: i32,
        pub format: i32,
        pub size_inferred: i32,
        pub has_image: i32,
        pub count: u64,
        pub count_on: u64,
        pub t_begin_us: i64,
        pub t_end_us: i64,
        pub exposure_count: u64,
    }

    #[repr(C)]
    #[derive(Clone, Copy)]
    pub struct diffevent_ingest_params {
        pub struct_size: u32,
        pub polarity_encoding: i32,
        pub sort_if_unsorted: i32,
    }

    extern "C" {
        pub fn diffevent_version_string() -> *const c_char;
        pub fn diffevent_has_torch() -> i32;
        pub fn diffevent_last_error() -> *const c_char;
        pub fn diffevent_status_name(status: diffevent_status) -> *const c_char;
        pub fn diffevent_context_create(params: *const c_void, out: *mut *mut diffevent_context) -> diffevent_status;
        pub fn diffevent_context_destroy(ctx: *mut diffevent_context);
        pub fn diffevent_context_cancel(ctx: *mut diffevent_context) -> diffevent_status;
        pub fn diffevent_context_reset_cancel(ctx: *mut diffevent_context) -> diffevent_status;
        pub fn diffevent_image_create(
            channels: i32,
            height: i32,
            width: i32,
            data: *const f32,
            out: *mut *mut diffevent_image,
        ) -> diffevent_status;
        pub fn diffevent_image_read(path: *const c_char, out: *mut *mut diffevent_image) -> diffevent_status;
        pub fn diffevent_image_write(image: *const diffevent_image, path: *const c_char, bit_depth: i32) -> diffevent_status;
        pub fn diffevent_image_destroy(image: *mut diffevent_image);
        pub fn diffevent_image_shape(image: *const diffevent_image, c: *mut i32, h: *mut i32, w: *mut i32) -> diffevent_status;
        pub fn diffevent_image_copy_data(image: *const diffevent_image, out: *mut f32, capacity: usize) -> diffevent_status;
        pub fn diffevent_psnr(a: *const diffevent_image, b: *const diffevent_image, range: f64, out: *mut f64) -> diffevent_status;
        pub fn diffevent_ssim(a: *const diffevent_image, b: *const diffevent_image, range: f64, out: *mut f64) -> diffevent_status;
        pub fn diffevent_events_read(
            ctx: *mut diffevent_context,
            path: *const c_char,
            params: *const c_void,
            out: *mut *mut diffevent_events,
        ) -> diffevent_status;
        pub fn diffevent_ingest_params_init(params: *mut diffevent_ingest_params);
        pub fn diffevent_events_from_arrays(
            width: i32,
            height: i32,
            t_us: *const i64,
            x: *const u16,
            y: *const u16,
            polarity: *const i8,
            count: usize,
            params: *const diffevent_ingest_params,
            out: *mut *mut diffevent_events,
        ) -> diffevent_status;
        pub fn diffevent_events_destroy(events: *mut diffevent_events);
        pub fn diffevent_events_info_init(info: *mut diffevent_events_info);
        pub fn diffevent_events_info_get(events: *const diffevent_events, out: *mut diffevent_events_info) -> diffevent_status;
        pub fn diffevent_events_copy_arrays(
            events: *const diffevent_events,
            t_us: *mut i64,
            x: *mut u16,
            y: *mut u16,
            polarity: *mut i8,
            capacity: usize,
        ) -> diffevent_status;
        pub fn diffevent_edi_params_init(params: *mut diffevent_edi_params);
        pub fn diffevent_edi_deblur(
            ctx: *mut diffevent_context,
            blurry: *const diffevent_image,
            events: *const diffevent_events,
            params: *const diffevent_edi_params,
            out: *mut *mut diffevent_image,
        ) -> diffevent_status;
        pub fn diffevent_deblur_params_init(params: *mut diffevent_deblur_params);
        pub fn diffevent_deblur_params_init_preset(
            params: *mut diffevent_deblur_params,
            preset: i32,
        ) -> diffevent_status;
        pub fn diffevent_deblur(
            ctx: *mut diffevent_context,
            blurry: *const diffevent_image,
            events: *const diffevent_events,
            x_prior: *mut diffevent_prior,
            r_prior: *mut diffevent_prior,
            params: *const diffevent_deblur_params,
            out_sharp: *mut *mut diffevent_image,
            out_residual: *mut *mut diffevent_image,
            out_threshold: *mut f64,
        ) -> diffevent_status;
        pub fn diffevent_prior_load(
            ctx: *mut diffevent_context,
            path: *const c_char,
            params: *const c_void,
            out: *mut *mut diffevent_prior,
        ) -> diffevent_status;
        pub fn diffevent_prior_destroy(prior: *mut diffevent_prior);
        pub fn diffevent_shipped_prior_path(
            role: i32,
            channels: i32,
            out: *mut c_char,
            capacity: usize,
            out_length: *mut usize,
        ) -> diffevent_status;
        pub fn diffevent_prior_load_shipped(
            ctx: *mut diffevent_context,
            role: i32,
            channels: i32,
            params: *const c_void,
            out: *mut *mut diffevent_prior,
        ) -> diffevent_status;
    }
}

/// Status codes of the C API.
pub mod status {
    /// A value is out of range, NULL or malformed.
    pub const INVALID_ARGUMENT: i32 = 1;
    /// A file could not be opened, read or written.
    pub const IO: i32 = 2;
    /// A file's content is malformed or truncated.
    pub const FORMAT: i32 = 3;
    /// An index, coordinate or time is out of range.
    pub const OUT_OF_RANGE: i32 = 4;
    /// Not compiled in, or not implemented for this input.
    pub const UNSUPPORTED: i32 = 5;
    /// Cancelled by a progress callback or `Context::cancel`.
    pub const CANCELLED: i32 = 6;
    /// A bug in diffevent.
    pub const INTERNAL: i32 = 7;
    /// An allocation failed.
    pub const OUT_OF_MEMORY: i32 = 8;
    /// A caller buffer is smaller than required.
    pub const BUFFER_TOO_SMALL: i32 = 9;
}

/// A failed call: the C status and the library's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// One of [`status`].
    pub status: i32,
    /// What went wrong, naming the file, index or value.
    pub message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // SAFETY: diffevent_status_name returns a static NUL-terminated string for any value.
        let name = unsafe { CStr::from_ptr(ffi::diffevent_status_name(self.status)) };
        write!(f, "{}: {}", name.to_string_lossy(), self.message)
    }
}

impl std::error::Error for Error {}

/// Result of this crate's calls.
pub type Result<T> = std::result::Result<T, Error>;

fn check(status: i32) -> Result<()> {
    if status == 0 {
        return Ok(());
    }
    // SAFETY: the last error is a NUL-terminated thread-local string, valid until the next call.
    let message = unsafe { CStr::from_ptr(ffi::diffevent_last_error()) }.to_string_lossy().into_owned();
    Err(Error { status, message })
}

fn c_path(path: &Path) -> Result<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(path.as_os_str().as_bytes()).map_err(|_| Error {
        status: status::INVALID_ARGUMENT,
        message: format!("path {path:?} contains a NUL byte"),
    })
}

fn check_size(name: &str, got: u32, ours: usize) -> Result<()> {
    if got as usize == ours {
        Ok(())
    } else {
        Err(Error {
            status: status::INTERNAL,
            message: format!("{name}: the library's struct has {got} bytes, this binding's {ours} (version mismatch)"),
        })
    }
}

/// The library's version, "MAJOR.MINOR.PATCH".
pub fn version() -> String {
    // SAFETY: static NUL-terminated string.
    unsafe { CStr::from_ptr(ffi::diffevent_version_string()) }.to_string_lossy().into_owned()
}

/// Whether the library was built with LibTorch (needed by [`deblur`]).
pub fn has_torch() -> bool {
    // SAFETY: no arguments, no state.
    unsafe { ffi::diffevent_has_torch() != 0 }
}

/// Cancellation for the calls made with it. [`Context::cancel`] may be called from any thread.
pub struct Context(*mut ffi::diffevent_context);

// SAFETY: the C context is thread-safe for cancel/reset; calls that run on it take &Context.
unsafe impl Send for Context {}
unsafe impl Sync for Context {}

impl Context {
    /// A silent context with default settings.
    pub fn new() -> Result<Self> {
        let mut out = ptr::null_mut();
        // SAFETY: NULL params means defaults; out is a valid pointer.
        check(unsafe { ffi::diffevent_context_create(ptr::null(), &mut out) })?;
        Ok(Context(out))
    }
    /// Asks the calls running on this context to stop (they fail with CANCELLED).
    pub fn cancel(&self) -> Result<()> {
        // SAFETY: self.0 is a live context; cancel is thread-safe.
        check(unsafe { ffi::diffevent_context_cancel(self.0) })
    }
    /// Clears the cancellation flag.
    pub fn reset_cancel(&self) -> Result<()> {
        // SAFETY: as above.
        check(unsafe { ffi::diffevent_context_reset_cancel(self.0) })
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        // SAFETY: we own the context; destroy accepts it once.
        unsafe { ffi::diffevent_context_destroy(self.0) }
    }
}

/// A float image, channels x height x width, in [0, 1].
pub struct Image(*mut ffi::diffevent_image);

// SAFETY: images are plain buffers; the C API allows use from any thread, one at a time.
unsafe impl Send for Image {}

impl Image {
    /// Reads a PNG or PFM file.
    pub fn read<P: AsRef<Path>>(path: P) -> Result<Self> {
        let p = c_path(path.as_ref())?;
        let mut out = ptr::null_mut();
        // SAFETY: p is NUL-terminated; out is valid.
        check(unsafe { ffi::diffevent_image_read(p.as_ptr(), &mut out) })?;
        Ok(Image(out))
    }
    /// From `channels * height * width` floats, channel-major (copied).
    pub fn from_slice(channels: i32, height: i32, width: i32, data: &[f32]) -> Result<Self> {
        let need = (channels.max(0) as usize) * (height.max(0) as usize) * (width.max(0) as usize);
        if data.len() != need {
            return Err(Error {
                status: status::INVALID_ARGUMENT,
                message: format!("{channels}x{height}x{width} image needs {need} floats, got {}", data.len()),
            });
        }
        let mut out = ptr::null_mut();
        // SAFETY: data holds exactly the floats the shape needs.
        check(unsafe { ffi::diffevent_image_create(channels, height, width, data.as_ptr(), &mut out) })?;
        Ok(Image(out))
    }
    /// (channels, height, width).
    pub fn shape(&self) -> (i32, i32, i32) {
        let (mut c, mut h, mut w) = (0, 0, 0);
        // SAFETY: self.0 is live; the out pointers are valid. Cannot fail on a live image.
        unsafe { ffi::diffevent_image_shape(self.0, &mut c, &mut h, &mut w) };
        (c, h, w)
    }
    /// The pixels, channel-major.
    pub fn to_vec(&self) -> Vec<f32> {
        let (c, h, w) = self.shape();
        let mut v = vec![0f32; (c * h * w) as usize];
        // SAFETY: v has exactly capacity for the image.
        unsafe { ffi::diffevent_image_copy_data(self.0, v.as_mut_ptr(), v.len()) };
        v
    }
    /// Writes PNG (bit_depth 8 or 16) or PFM (by extension), atomically.
    pub fn write<P: AsRef<Path>>(&self, path: P, bit_depth: i32) -> Result<()> {
        let p = c_path(path.as_ref())?;
        // SAFETY: live image, NUL-terminated path.
        check(unsafe { ffi::diffevent_image_write(self.0, p.as_ptr(), bit_depth) })
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        // SAFETY: we own the image.
        unsafe { ffi::diffevent_image_destroy(self.0) }
    }
}

/// An event stream: sorted by time, coordinates inside the sensor.
pub struct Events(*mut ffi::diffevent_events);

// SAFETY: immutable once built; the C API reads it from any thread.
unsafe impl Send for Events {}
unsafe impl Sync for Events {}

/// Arrays of an event stream (polarity -1 / +1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventArrays {
    /// Timestamps in microseconds.
    pub t_us: Vec<i64>,
    /// Columns.
    pub x: Vec<u16>,
    /// Rows.
    pub y: Vec<u16>,
    /// -1 (OFF) or +1 (ON).
    pub polarity: Vec<i8>,
}

impl Events {
    /// Reads an event file (any supported format).
    pub fn read<P: AsRef<Path>>(path: P) -> Result<Self> {
        let p = c_path(path.as_ref())?;
        let mut out = ptr::null_mut();
        // SAFETY: NULL context and params are allowed.
        check(unsafe { ffi::diffevent_events_read(ptr::null_mut(), p.as_ptr(), ptr::null(), &mut out) })?;
        Ok(Events(out))
    }
    /// From arrays (polarity in {0,1} or {-1,+1}); times must not decrease.
    pub fn from_arrays(width: i32, height: i32, a: &EventArrays) -> Result<Self> {
        let n = a.t_us.len();
        if a.x.len() != n || a.y.len() != n || a.polarity.len() != n {
            return Err(Error {
                status: status::INVALID_ARGUMENT,
                message: format!(
                    "arrays differ in length: t {n}, x {}, y {}, polarity {}",
                    a.x.len(),
                    a.y.len(),
                    a.polarity.len()
                ),
            });
        }
        // SAFETY: zeroed is a valid bit pattern; _init fills it.
        let mut params: ffi::diffevent_ingest_params = unsafe { std::mem::zeroed() };
        unsafe { ffi::diffevent_ingest_params_init(&mut params) };
        check_size("diffevent_ingest_params", params.struct_size, std::mem::size_of::<ffi::diffevent_ingest_params>())?;
        let mut out = ptr::null_mut();
        // SAFETY: each array holds n elements.
        check(unsafe {
            ffi::diffevent_events_from_arrays(
                width,
                height,
                a.t_us.as_ptr(),
                a.x.as_ptr(),
                a.y.as_ptr(),
                a.polarity.as_ptr(),
                n,
                &params,
                &mut out,
            )
        })?;
        Ok(Events(out))
    }
    fn info(&self) -> ffi::diffevent_events_info {
        // SAFETY: zeroed is valid; _init sets struct_size; get fills the rest of a live stream.
        let mut info: ffi::diffevent_events_info = unsafe { std::mem::zeroed() };
        unsafe {
            ffi::diffevent_events_info_init(&mut info);
            ffi::diffevent_events_info_get(self.0, &mut info);
        }
        info
    }
    /// Number of events.
    pub fn len(&self) -> usize {
        self.info().count as usize
    }
    /// Whether the stream holds no event.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Sensor (width, height).
    pub fn sensor_size(&self) -> (i32, i32) {
        let i = self.info();
        (i.width, i.height)
    }
    /// A copy of the arrays.
    pub fn to_arrays(&self) -> EventArrays {
        let n = self.len();
        let mut a = EventArrays { t_us: vec![0; n], x: vec![0; n], y: vec![0; n], polarity: vec![0; n] };
        // SAFETY: each buffer holds n elements.
        unsafe {
            ffi::diffevent_events_copy_arrays(
                self.0,
                a.t_us.as_mut_ptr(),
                a.x.as_mut_ptr(),
                a.y.as_mut_ptr(),
                a.polarity.as_mut_ptr(),
                n,
            )
        };
        a
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        // SAFETY: we own the stream.
        unsafe { ffi::diffevent_events_destroy(self.0) }
    }
}

/// A TorchScript diffusion prior.
pub struct Prior(*mut ffi::diffevent_prior);

// SAFETY: the C prior serialises its own use with a mutex.
unsafe impl Send for Prior {}
unsafe impl Sync for Prior {}

impl Prior {
    /// Loads a TorchScript prior (with its metadata) on the CPU.
    pub fn load<P: AsRef<Path>>(path: P) -> Result<Self> {
        let p = c_path(path.as_ref())?;
        let mut out = ptr::null_mut();
        // SAFETY: NULL context and params are allowed.
        check(unsafe { ffi::diffevent_prior_load(ptr::null_mut(), p.as_ptr(), ptr::null(), &mut out) })?;
        Ok(Prior(out))
    }

    /// Loads the shipped prior for a role and channel count (1 grey, 3 RGB), found as the CLI
    /// finds it ([`shipped_prior_path`]).
    pub fn shipped(role: Role, channels: i32) -> Result<Self> {
        let mut out = ptr::null_mut();
        // SAFETY: NULL context and params are allowed.
        check(unsafe {
            ffi::diffevent_prior_load_shipped(ptr::null_mut(), role as i32, channels, ptr::null(), &mut out)
        })?;
        Ok(Prior(out))
    }
}

/// Roles of the shipped priors (DIFFEVENT_PRIOR_ROLE_*).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The sharp image's prior.
    X = 0,
    /// The residual's prior.
    R = 1,
}

/// Where the shipped prior for a role and channel count is: `$DIFFEVENT_MODELS`, then the
/// models folder of the library's install (PREFIX/share/diffevent/models).
pub fn shipped_prior_path(role: Role, channels: i32) -> Result<std::path::PathBuf> {
    let mut needed = 0usize;
    // SAFETY: a NULL buffer of capacity 0 asks for the size.
    let rc = unsafe { ffi::diffevent_shipped_prior_path(role as i32, channels, ptr::null_mut(), 0, &mut needed) };
    if rc != status::BUFFER_TOO_SMALL {
        check(rc)?;
    }
    let mut buf = vec![0u8; needed];
    // SAFETY: buf holds `needed` bytes.
    check(unsafe {
        ffi::diffevent_shipped_prior_path(role as i32, channels, buf.as_mut_ptr() as *mut c_char, needed, ptr::null_mut())
    })?;
    buf.truncate(needed.saturating_sub(1));
    use std::os::unix::ffi::OsStringExt;
    Ok(std::ffi::OsString::from_vec(buf).into())
}

/// Which prior [`deblur`] runs for x or for the residual r.
#[derive(Clone, Copy)]
pub enum PriorChoice<'a> {
    /// The shipped prior, as the CLI: for x, the one for the frame's channels when installed
    /// (else the analytic prior, with a note on stderr); for r, the shipped residual prior when
    /// the preset runs one and x uses the shipped prior.
    Shipped,
    /// x: the analytic Gaussian prior; r: no residual (r = 0).
    None,
    /// A prior loaded by the caller.
    Given(&'a Prior),
}

impl Drop for Prior {
    fn drop(&mut self) {
        // SAFETY: we own the prior.
        unsafe { ffi::diffevent_prior_destroy(self.0) }
    }
}

/// EDI options. `None` keeps the library's default.
#[derive(Debug, Clone, Default)]
pub struct EdiOptions {
    /// Contrast thresholds (ON, OFF); default 0.2 each.
    pub threshold: Option<(f64, f64)>,
    /// Exposure [t0, t1) in microseconds; default: the one the events file states.
    pub exposure_us: Option<(i64, i64)>,
    /// The blurry frame is sRGB-encoded.
    pub srgb: bool,
}

fn edi_params(o: &EdiOptions, p: &mut ffi::diffevent_edi_params) {
    if let Some((on, off)) = o.threshold {
        p.c_pos = on;
        p.c_neg = off;
    }
    if let Some((t0, t1)) = o.exposure_us {
        p.has_exposure = 1;
        p.exposure_t0_us = t0;
        p.exposure_t1_us = t1;
    }
    p.linearize_srgb = o.srgb as i32;
}

/// EDI deblurring: sharp = blurry / E.
pub fn edi_deblur(blurry: &Image, events: &Events, options: &EdiOptions) -> Result<Image> {
    // SAFETY: zeroed then filled by _init; layout checked below.
    let mut p: ffi::diffevent_edi_params = unsafe { std::mem::zeroed() };
    unsafe { ffi::diffevent_edi_params_init(&mut p) };
    check_size("diffevent_edi_params", p.struct_size, std::mem::size_of::<ffi::diffevent_edi_params>())?;
    edi_params(options, &mut p);
    let mut out = ptr::null_mut();
    // SAFETY: live handles, initialised params.
    check(unsafe { ffi::diffevent_edi_deblur(ptr::null_mut(), blurry.0, events.0, &p, &mut out) })?;
    Ok(Image(out))
}

/// Options of [`deblur`]; the rest of the C parameters keep their defaults.
pub struct DeblurOptions<'a> {
    /// Sampling steps over the whole schedule (default 100; the warm start runs start * steps).
    pub steps: i32,
    /// Random seed (default 0).
    pub seed: u64,
    /// Thresholds, exposure, sRGB.
    pub edi: EdiOptions,
    /// Prior for x (default: the shipped one, as the CLI).
    pub x_prior: PriorChoice<'a>,
    /// Prior for the residual (default: the shipped one when the preset runs it, as the CLI).
    pub r_prior: PriorChoice<'a>,
    /// Context to cancel through (from another thread).
    pub context: Option<&'a Context>,
    /// Called after each step with (done, total); return `true` to cancel.
    pub progress: Option<&'a mut dyn FnMut(i64, i64) -> bool>,
    /// Start of sampling as a fraction of the schedule (default 0.05, a warm start from the
    /// EDI estimate; 1: from pure noise).
    pub start: f64,
    /// Threshold noise model: the sensor's per-pixel threshold mismatch std (default 0.05; 0: off).
    pub threshold_sigma: f64,
    /// Posterior samples averaged (default: the preset's).
    pub samples: i32,
    /// Antithetic noise pairs among the samples (default: the preset's).
    pub antithetic: bool,
    /// Run `r_prior` (default: the preset's; `false`: r = 0, half the network calls).
    pub residual_prior: bool,
}

/// Speed and quality of [`deblur`] (DIFFEVENT_PRESET_*).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// One sample, no residual prior.
    Fast = 0,
    /// An antithetic pair of samples, no residual prior: the library's default.
    Balanced = 1,
    /// Four antithetic pairs and the residual prior.
    Best = 2,
}

impl<'a> DeblurOptions<'a> {
    /// The library's defaults for a preset (read from `diffevent_deblur_params_init_preset`).
    pub fn preset(preset: Preset) -> Self {
        // SAFETY: zeroed then filled by the library.
        let mut p: ffi::diffevent_deblur_params = unsafe { std::mem::zeroed() };
        let status = unsafe { ffi::diffevent_deblur_params_init_preset(&mut p, preset as i32) };
        debug_assert_eq!(status, 0);
        DeblurOptions {
            steps: p.steps,
            seed: p.seed,
            edi: EdiOptions::default(),
            x_prior: PriorChoice::Shipped,
            r_prior: PriorChoice::Shipped,
            context: None,
            progress: None,
            start: p.start,
            threshold_sigma: p.threshold_sigma,
            samples: p.samples,
            antithetic: p.antithetic != 0,
            residual_prior: p.residual_prior != 0,
        }
    }
}

impl Default for DeblurOptions<'_> {
    /// The library's defaults (`diffevent_deblur_params_init`: the balanced preset).
    fn default() -> Self {
        DeblurOptions::preset(Preset::Balanced)
    }
}

/// What [`deblur`] returns.
pub struct Deblurred {
    /// The sharp frame x in [0, 1].
    pub sharp: Image,
    /// The residual r (zero-centred).
    pub residual: Image,
    /// The symmetric threshold used.
    pub threshold: f64,
}

unsafe extern "C" fn progress_trampoline(user: *mut c_void, done: i64, total: i64) -> i32 {
    // SAFETY: user points at the `&mut dyn FnMut` that `deblur` keeps alive for the call.
    let f = &mut *(user as *mut &mut dyn FnMut(i64, i64) -> bool);
    // A panic must not unwind into C: treat it as a cancel.
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(done, total))) {
        Ok(cancel) => cancel as i32,
        Err(_) => 1,
    }
}

/// DiffEvent deblurring: the EBRD model y = f(E) x + r sampled with the alternating sampler.
/// Deterministic for a fixed seed: the same bytes as `diffevent deblur --preset P --seed S` with
/// the same priors.
pub fn deblur(blurry: &Image, events: &Events, options: DeblurOptions<'_>) -> Result<Deblurred> {
    // SAFETY: zeroed then filled by _init; layout checked below.
    let mut p: ffi::diffevent_deblur_params = unsafe { std::mem::zeroed() };
    unsafe { ffi::diffevent_deblur_params_init(&mut p) };
    check_size("diffevent_deblur_params", p.struct_size, std::mem::size_of::<ffi::diffevent_deblur_params>())?;
    p.steps = options.steps;
    p.seed = options.seed;
    p.start = options.start;
    p.threshold_sigma = options.threshold_sigma;
    p.samples = options.samples;
    p.antithetic = options.antithetic as i32;
    p.residual_prior = options.residual_prior as i32;
    edi_params(&options.edi, &mut p.edi);
    let mut progress = options.progress;
    if let Some(f) = progress.as_mut() {
        p.progress = Some(progress_trampoline);
        p.progress_user_data = f as *mut &mut dyn FnMut(i64, i64) -> bool as *mut c_void;
    }
    let ctx = options.context.map_or(ptr::null_mut(), |c| c.0);
    let channels = blurry.shape().0;
    let mut shipped_x = None;
    if let PriorChoice::Shipped = options.x_prior {
        match shipped_prior_path(Role::X, channels) {
            Ok(_) => shipped_x = Some(Prior::shipped(Role::X, channels)?),
            Err(e) if e.status == status::IO => eprintln!("diffevent: note: {}; using the analytic prior", e.message),
            Err(e) => return Err(e),
        }
    }
    let mut shipped_r = None;
    if let (PriorChoice::Shipped, Some(_)) = (options.r_prior, &shipped_x) {
        if p.residual_prior != 0 {
            shipped_r = Some(Prior::shipped(Role::R, channels)?);
        }
    }
    let xp = match (options.x_prior, &shipped_x) {
        (PriorChoice::Given(prior), _) => prior.0,
        (_, Some(prior)) => prior.0,
        _ => ptr::null_mut(),
    };
    let rp = match (options.r_prior, &shipped_r) {
        (PriorChoice::Given(prior), _) => prior.0,
        (_, Some(prior)) => prior.0,
        _ => ptr::null_mut(),
    };
    let (mut sharp, mut residual, mut c) = (ptr::null_mut(), ptr::null_mut(), 0f64);
    // SAFETY: live handles; the progress closure outlives the call.
    check(unsafe { ffi::diffevent_deblur(ctx, blurry.0, events.0, xp, rp, &p, &mut sharp, &mut residual, &mut c) })?;
    Ok(Deblurred { sharp: Image(sharp), residual: Image(residual), threshold: c })
}

/// PSNR in dB.
pub fn psnr(reference: &Image, test: &Image, data_range: f64) -> Result<f64> {
    let mut out = 0.0;
    // SAFETY: live images, valid out pointer.
    check(unsafe { ffi::diffevent_psnr(reference.0, test.0, data_range, &mut out) })?;
    Ok(out)
}

/// Mean SSIM.
pub fn ssim(reference: &Image, test: &Image, data_range: f64) -> Result<f64> {
    let mut out = 0.0;
    // SAFETY: live images, valid out pointer.
    check(unsafe { ffi::diffevent_ssim(reference.0, test.0, data_range, &mut out) })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_round_trips_and_metrics_agree() {
        let data: Vec<f32> = (0..2 * 3 * 4).map(|i| i as f32 / 30.0).collect(); // <= 0.77
        let img = Image::from_slice(2, 3, 4, &data).unwrap();
        assert_eq!(img.shape(), (2, 3, 4));
        assert_eq!(img.to_vec(), data);
        // A uniform offset of 0.1 gives MSE 0.01: PSNR = 10 log10(1 / 0.01) = 20 dB.
        let shifted: Vec<f32> = data.iter().map(|v| v + 0.1).collect();
        let other = Image::from_slice(2, 3, 4, &shifted).unwrap();
        let db = psnr(&img, &other, 1.0).unwrap();
        assert!((db - 20.0).abs() < 1e-4, "{db}");
        let err = ssim(&img, &other, 1.0).err().unwrap();
        assert!(err.message.contains("at least 11x11"), "{err}");
        let err = Image::from_slice(1, 2, 2, &data).err().unwrap();
        assert_eq!(err.status, status::INVALID_ARGUMENT);
    }

    #[test]
    fn events_round_trip_and_errors_name_the_problem() {
        let a = EventArrays { t_us: vec![1, 5, 9], x: vec![0, 3, 1], y: vec![2, 0, 1], polarity: vec![1, -1, 1] };
        let ev = Events::from_arrays(4, 3, &a).unwrap();
        assert_eq!(ev.len(), 3);
        assert_eq!(ev.sensor_size(), (4, 3));
        assert_eq!(ev.to_arrays(), a);
        let bad = EventArrays { t_us: vec![5, 1], x: vec![0, 0], y: vec![0, 0], polarity: vec![1, 1] };
        let err = Events::from_arrays(4, 3, &bad).err().unwrap();
        assert!(err.message.contains("index 1"), "{err}");
        let err = Events::read("/nonexistent/events.h5").err().unwrap();
        assert_eq!(err.status, status::IO);
        assert!(err.to_string().contains("/nonexistent/events.h5"));
    }

    #[test]
    fn a_progress_callback_cancels_deblur() {
        if !has_torch() {
            return;
        }
        let img = Image::from_slice(1, 8, 8, &[0.5; 64]).unwrap();
        let a = EventArrays { t_us: vec![10, 20], x: vec![1, 2], y: vec![1, 2], polarity: vec![1, -1] };
        let ev = Events::from_arrays(8, 8, &a).unwrap();
        let mut calls = 0;
        let mut stop_at_3 = |done: i64, _total: i64| {
            calls += 1;
            done >= 3
        };
        let opts = DeblurOptions {
            steps: 20,
            start: 1.0,
            edi: EdiOptions { exposure_us: Some((0, 30)), ..Default::default() },
            progress: Some(&mut stop_at_3),
            x_prior: PriorChoice::None,
            ..Default::default()
        };
        let err = deblur(&img, &ev, opts).err().unwrap();
        assert_eq!(err.status, status::CANCELLED);
        assert_eq!(calls, 3);
    }

    #[test]
    fn shipped_paths_follow_role_and_channels() {
        let path = shipped_prior_path(Role::R, 3).unwrap();
        assert!(path.ends_with("r_prior_rgb.pt"), "{}", path.display());
        let err = shipped_prior_path(Role::X, 2).err().unwrap();
        assert_eq!(err.status, status::INVALID_ARGUMENT);
        assert!(err.message.contains("not 2 channels"), "{err}");
    }

    #[test]
    fn deblur_defaults_to_the_shipped_prior_as_the_cli_does() {
        if !has_torch() {
            return;
        }
        let data: Vec<f32> = (0..32 * 32).map(|i| 0.2 + 0.6 * ((i * 7919) % 97) as f32 / 97.0).collect();
        let img = Image::from_slice(1, 32, 32, &data).unwrap();
        let a = EventArrays { t_us: vec![10, 20], x: vec![1, 2], y: vec![1, 2], polarity: vec![1, -1] };
        let ev = Events::from_arrays(32, 32, &a).unwrap();
        let prior = Prior::shipped(Role::X, 1).unwrap();
        let run = |x_prior: PriorChoice| {
            let mut o = DeblurOptions::preset(Preset::Fast);
            o.steps = 20;
            o.edi.exposure_us = Some((0, 30));
            o.x_prior = x_prior;
            deblur(&img, &ev, o).unwrap().sharp.to_vec()
        };
        let by_default = run(PriorChoice::Shipped);
        assert_eq!(by_default, run(PriorChoice::Given(&prior)));
        assert_ne!(by_default, run(PriorChoice::None));
    }
}
