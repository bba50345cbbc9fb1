//! Tests of the binding against the library (run by the packaging test and `cargo test`).
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
    assert_eq!(ev.stated_thresholds(), None); // arrays state no threshold
    assert_eq!(ev.to_arrays(), a);
    let bad = EventArrays { t_us: vec![5, 1], x: vec![0, 0], y: vec![0, 0], polarity: vec![1, 1] };
    let err = Events::from_arrays(4, 3, &bad).err().unwrap();
    assert!(err.message.contains("index 1"), "{err}");
    let err = Events::read("/nonexistent/events.h5").err().unwrap();
    assert_eq!(err.status, status::IO);
    assert!(err.to_string().contains("/nonexistent/events.h5"));
}

#[test]
fn the_threshold_search_stays_in_its_interval() {
    let (w, h, n) = (16usize, 16usize, 400usize);
    let data: Vec<f32> = (0..w * h).map(|i| 0.2 + 0.6 * ((i * 7919) % 97) as f32 / 97.0).collect();
    let img = Image::from_slice(1, h as i32, w as i32, &data).unwrap();
    let a = EventArrays {
        t_us: (0..n).map(|i| (i * 1000 / n) as i64).collect(),
        x: (0..n).map(|i| ((i * 13) % w) as u16).collect(),
        y: (0..n).map(|i| ((i * 7) % h) as u16).collect(),
        polarity: (0..n).map(|i| if i % 2 == 0 { 1 } else { -1 }).collect(),
    };
    let ev = Events::from_arrays(w as i32, h as i32, &a).unwrap();
    let o = EdiOptions { exposure_us: Some((0, 1000)), ..Default::default() };
    let est = estimate_threshold(&img, &ev, &o, Some((0.3, 0.6))).unwrap();
    assert!(est.c >= 0.3 && est.c <= 0.6 && est.evaluations >= 12, "{est:?}");
    let err = estimate_threshold(&img, &ev, &o, Some((0.6, 0.3))).err().unwrap();
    assert!(err.message.contains("threshold search interval"), "{err}");
}

#[test]
fn the_sensor_threshold_of_the_bundled_sample() {
    // data/sample: simulated at 0.2, every pixel starting at its reference. The packaging test
    // names the repository's data folder in DIFFEVENT_TEST_DATA.
    let Ok(data) = std::env::var("DIFFEVENT_TEST_DATA") else {
        eprintln!("skipped: DIFFEVENT_TEST_DATA (the repository's data folder) is not set");
        return;
    };
    let sample = std::path::Path::new(&data).join("sample");
    let img = Image::read(sample.join("blur.png")).unwrap();
    let ev = Events::read(sample.join("events.h5")).unwrap();
    let est = estimate_sensor_threshold(&img, &ev, &EdiOptions::default(), true).unwrap();
    assert!((est.c - 0.2).abs() < 0.03 && est.pixels > 50 && !est.at_bound, "{est:?}");
    assert!(est.pixels_pos + est.pixels_neg == est.pixels && (est.c_pos / est.c_neg - 1.0).abs() < 0.2, "{est:?}");
    let o = EdiOptions { exposure_us: Some((0, 50)), ..Default::default() };
    let err = estimate_sensor_threshold(&img, &ev, &o, true).err().unwrap();
    assert!(err.message.contains("sensor threshold: only"), "{err}");
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
