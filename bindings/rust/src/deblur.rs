//! Priors, EDI and DiffEvent deblurring.
use std::os::raw::{c_char, c_void};
use std::path::Path;
use std::ptr;

use crate::{c_path, check, check_size, ffi, status, Context, Events, Image, Result};

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
    /// Contrast thresholds (ON, OFF); default: the library's nominal threshold.
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

/// What [`estimate_threshold`] found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThresholdEstimate {
    /// The symmetric threshold.
    pub c: f64,
    /// Its standard error (the spread of the estimates over a 3 x 3 grid of cells).
    pub std_error: f64,
    /// The estimate ended at an end of the search interval: suspect.
    pub at_bound: bool,
    /// The energy at `c`.
    pub energy: f64,
    /// Energy evaluations spent.
    pub evaluations: i32,
}

/// EDI's threshold search (docs/edi.md): the symmetric threshold whose EDI frame is sharpest.
/// `options` gives the exposure and the sRGB flag (its thresholds are unused); `interval` the
/// search interval (default: the library's, 0.05 to 4).
pub fn estimate_threshold(
    blurry: &Image,
    events: &Events,
    options: &EdiOptions,
    interval: Option<(f64, f64)>,
) -> Result<ThresholdEstimate> {
    // SAFETY: zeroed then filled by _init; layouts checked below.
    let mut p: ffi::diffevent_edi_params = unsafe { std::mem::zeroed() };
    unsafe { ffi::diffevent_edi_params_init(&mut p) };
    check_size("diffevent_edi_params", p.struct_size, std::mem::size_of::<ffi::diffevent_edi_params>())?;
    edi_params(options, &mut p);
    let mut s: ffi::diffevent_threshold_params = unsafe { std::mem::zeroed() };
    unsafe { ffi::diffevent_threshold_params_init(&mut s) };
    check_size("diffevent_threshold_params", s.struct_size, std::mem::size_of::<ffi::diffevent_threshold_params>())?;
    if let Some((lo, hi)) = interval {
        s.c_min = lo;
        s.c_max = hi;
    }
    let mut e: ffi::diffevent_threshold_estimate = unsafe { std::mem::zeroed() };
    unsafe { ffi::diffevent_threshold_estimate_init(&mut e) };
    check_size(
        "diffevent_threshold_estimate",
        e.struct_size,
        std::mem::size_of::<ffi::diffevent_threshold_estimate>(),
    )?;
    // SAFETY: live handles, initialised params.
    check(unsafe { ffi::diffevent_estimate_threshold(ptr::null_mut(), blurry.0, events.0, &p, &s, &mut e) })?;
    Ok(ThresholdEstimate {
        c: e.c,
        std_error: e.std_error,
        at_bound: e.at_bound != 0,
        energy: e.energy,
        evaluations: e.evaluations,
    })
}

/// What [`estimate_sensor_threshold`] found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SensorThresholdEstimate {
    /// The sensor's median per-pixel threshold.
    pub c: f64,
    /// The spread of the blocks' medians / sqrt(count).
    pub std_error: f64,
    /// Pixels in the median.
    pub pixels: i64,
    /// Blocks whose events gave a clear velocity.
    pub blocks: i32,
    /// Median motion over the exposure (pixels).
    pub motion_px: f64,
    /// `c` is at the end of its range: suspect.
    pub at_bound: bool,
    /// Median over the pixels that brightened (ON); 0 below 25 of them.
    pub c_pos: f64,
    /// Median over the pixels that darkened (OFF); 0 below 25 of them.
    pub c_neg: f64,
    /// Pixels in `c_pos`.
    pub pixels_pos: i64,
    /// Pixels in `c_neg`.
    pub pixels_neg: i64,
}

/// The sensor's own threshold from the blur its events explain (docs/edi.md, "The sensor's
/// threshold"); unlike [`estimate_threshold`] it does not optimise the image, and under a
/// strong per-pixel mismatch the two differ. `options` gives the exposure and the sRGB flag;
/// `reference_at_start`: every pixel's reference was reset when the exposure began (simulated
/// data).
pub fn estimate_sensor_threshold(
    blurry: &Image,
    events: &Events,
    options: &EdiOptions,
    reference_at_start: bool,
) -> Result<SensorThresholdEstimate> {
    // SAFETY: zeroed then filled by _init; layouts checked below.
    let mut p: ffi::diffevent_edi_params = unsafe { std::mem::zeroed() };
    unsafe { ffi::diffevent_edi_params_init(&mut p) };
    check_size("diffevent_edi_params", p.struct_size, std::mem::size_of::<ffi::diffevent_edi_params>())?;
    edi_params(options, &mut p);
    let mut s: ffi::diffevent_sensor_threshold_params = unsafe { std::mem::zeroed() };
    unsafe { ffi::diffevent_sensor_threshold_params_init(&mut s) };
    check_size(
        "diffevent_sensor_threshold_params",
        s.struct_size,
        std::mem::size_of::<ffi::diffevent_sensor_threshold_params>(),
    )?;
    s.reference_at_start = i32::from(reference_at_start);
    let mut e: ffi::diffevent_sensor_threshold_estimate = unsafe { std::mem::zeroed() };
    unsafe { ffi::diffevent_sensor_threshold_estimate_init(&mut e) };
    check_size(
        "diffevent_sensor_threshold_estimate",
        e.struct_size,
        std::mem::size_of::<ffi::diffevent_sensor_threshold_estimate>(),
    )?;
    // SAFETY: live handles, initialised params.
    check(unsafe {
        ffi::diffevent_estimate_sensor_threshold(ptr::null_mut(), blurry.0, events.0, &p, &s, &mut e)
    })?;
    Ok(SensorThresholdEstimate {
        c: e.c,
        std_error: e.std_error,
        pixels: e.pixels,
        blocks: e.blocks,
        motion_px: e.motion_px,
        at_bound: e.at_bound != 0,
        c_pos: e.c_pos,
        c_neg: e.c_neg,
        pixels_pos: e.pixels_pos,
        pixels_neg: e.pixels_neg,
    })
}

/// Options of [`deblur`]; the rest of the C parameters keep their defaults.
pub struct DeblurOptions<'a> {
    /// Sampling steps over the whole schedule (the warm start runs start * steps).
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
    /// Start of sampling as a fraction of the schedule (below 1 a warm start from the
    /// EDI estimate; 1: from pure noise).
    pub start: f64,
    /// Threshold noise model: the sensor's per-pixel threshold mismatch std (0: off).
    pub threshold_sigma: f64,
    /// Posterior samples averaged (default: the preset's).
    pub samples: i32,
    /// Antithetic noise pairs among the samples (default: the preset's).
    pub antithetic: bool,
    /// Run `r_prior` (default: the preset's; `false`: r = 0, half the network calls).
    pub residual_prior: bool,
    /// Without a residual prior: residuals beyond this many deviations of the threshold noise
    /// model become r, so pixels whose events are far off stop pulling x (0: off; default: the
    /// preset's).
    pub robust_residual: f64,
    /// The largest threshold the warm start follows: a larger one starts where this one does,
    /// which bounds the network calls (0: no limit; default: the preset's).
    pub start_threshold_max: f64,
}

/// Speed and quality of [`deblur`] (DIFFEVENT_PRESET_*).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// One sample, no residual prior.
    Fast = 0,
    /// An antithetic pair of samples, no residual prior: the library's default.
    Balanced = 1,
    /// Four antithetic pairs (eight samples averaged).
    Best = 2,
    /// The slides' Algorithm 1: from pure noise, one sample, uniform data weights, the residual
    /// prior (C API version 9).
    Paper = 3,
    /// The balanced pair trusting the events less (threshold sigma 0.05, start 0.05): for
    /// sensors with strong threshold mismatch or many noise events (C API version 11).
    Noisy = 4,
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
            robust_residual: p.robust_residual,
            start_threshold_max: p.start_threshold_max,
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
    p.robust_residual = options.robust_residual;
    p.start_threshold_max = options.start_threshold_max;
    // SAFETY: zeroed then filled by _init; lives until the call returns.
    let mut edi: ffi::diffevent_edi_params = unsafe { std::mem::zeroed() };
    unsafe { ffi::diffevent_edi_params_init(&mut edi) };
    check_size("diffevent_edi_params", edi.struct_size, std::mem::size_of::<ffi::diffevent_edi_params>())?;
    edi_params(&options.edi, &mut edi);
    p.edi = &edi;
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
