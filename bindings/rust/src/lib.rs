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
use std::fmt;
use std::path::Path;
use std::ptr;

pub mod ffi;

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
    /// The contrast thresholds (ON, OFF) the file states, if it states them.
    pub fn stated_thresholds(&self) -> Option<(f64, f64)> {
        let i = self.info();
        (i.threshold_pos > 0.0).then_some((i.threshold_pos, i.threshold_neg))
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

mod deblur;
pub use deblur::*;

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
mod tests;
