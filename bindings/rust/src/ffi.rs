//! The raw C declarations (mirroring `diffevent.h`; struct layouts are checked at run time
//! against the library's `struct_size`).
#![allow(missing_docs, non_camel_case_types)]

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
pub struct diffevent_threshold_params {
    pub struct_size: u32,
    pub num_times: i32,
    pub c_min: f64,
    pub c_max: f64,
    pub tolerance: f64,
    pub lambda_tv: f64,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct diffevent_threshold_estimate {
    pub struct_size: u32,
    pub evaluations: i32,
    pub c: f64,
    pub energy: f64,
    pub at_bound: i32,
    pub reserved0: i32,
    pub std_error: f64,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct diffevent_sensor_threshold_params {
    pub struct_size: u32,
    pub block_px: i32,
    pub max_motion_px: f64,
    pub min_peak: f64,
    pub gradient_quantile: f64,
    pub c_min: f64,
    pub c_max: f64,
    pub reference_at_start: i32,
    pub reserved0: i32,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct diffevent_sensor_threshold_estimate {
    pub struct_size: u32,
    pub blocks: i32,
    pub c: f64,
    pub std_error: f64,
    pub pixels: i64,
    pub motion_px: f64,
    pub at_bound: i32,
    pub reserved0: i32,
    pub c_pos: f64,
    pub c_neg: f64,
    pub pixels_pos: i64,
    pub pixels_neg: i64,
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
    /// API version 7: by pointer (null: the defaults).
    pub edi: *const diffevent_edi_params,
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
    /// DIFFEVENT_INTEGRAL_* (0: the library's default).
    pub integral: i32,
    pub tile_above_pixels: i64,
    pub seed: u64,
    pub progress: diffevent_progress_fn,
    pub progress_user_data: *mut c_void,
    pub start: f64,
    pub threshold_sigma: f64,
    pub samples: i32,
    pub antithetic: i32,
    pub residual_prior: i32,
    pub reserved0: i32,
    pub reserved_layout: [u64; 10],
    pub start_threshold: f64,
    pub robust_residual: f64,
    pub start_threshold_max: f64,
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
    pub threshold_pos: f64,
    pub threshold_neg: f64,
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
    pub fn diffevent_threshold_params_init(params: *mut diffevent_threshold_params);
    pub fn diffevent_threshold_estimate_init(estimate: *mut diffevent_threshold_estimate);
    pub fn diffevent_estimate_threshold(
        ctx: *mut diffevent_context,
        blurry: *const diffevent_image,
        events: *const diffevent_events,
        params: *const diffevent_edi_params,
        search: *const diffevent_threshold_params,
        out: *mut diffevent_threshold_estimate,
    ) -> diffevent_status;
    pub fn diffevent_sensor_threshold_params_init(params: *mut diffevent_sensor_threshold_params);
    pub fn diffevent_sensor_threshold_estimate_init(estimate: *mut diffevent_sensor_threshold_estimate);
    pub fn diffevent_estimate_sensor_threshold(
        ctx: *mut diffevent_context,
        blurry: *const diffevent_image,
        events: *const diffevent_events,
        params: *const diffevent_edi_params,
        options: *const diffevent_sensor_threshold_params,
        out: *mut diffevent_sensor_threshold_estimate,
    ) -> diffevent_status;
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
