//! The C example's job from Rust: EDI and DiffEvent frames of the bundled sample, with the
//! shipped priors found as the CLI finds them.
//! Usage: deblur_sample BLUR EVENTS OUT_DIR [PRESET] [SEED]   (PRESET: fast (default), balanced, best)
use std::path::Path;
use std::process::ExitCode;

fn run(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let preset = match args.get(4).map_or("fast", |s| s.as_str()) {
        "fast" => diffevent::Preset::Fast,
        "balanced" => diffevent::Preset::Balanced,
        "best" => diffevent::Preset::Best,
        other => return Err(format!("preset '{other}': expected fast, balanced or best").into()),
    };
    let seed: u64 = match args.get(5) {
        Some(s) => s.parse().map_err(|e| format!("seed '{s}': {e}"))?,
        None => 0,
    };
    let blurry = diffevent::Image::read(&args[1])?;
    let events = diffevent::Events::read(&args[2])?;
    let out = Path::new(&args[3]);
    diffevent::edi_deblur(&blurry, &events, &Default::default())?.write(out.join("edi.png"), 8)?;
    if diffevent::has_torch() {
        let mut show = |done: i64, total: i64| {
            eprintln!("step {done}/{total}");
            false
        };
        let mut opts = diffevent::DeblurOptions::preset(preset);
        opts.seed = seed;
        opts.progress = Some(&mut show);
        diffevent::deblur(&blurry, &events, opts)?.sharp.write(out.join("deblur.png"), 8)?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: deblur_sample BLUR EVENTS OUT_DIR [PRESET] [SEED]");
        return ExitCode::from(64);
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("deblur_sample: {e}");
            ExitCode::FAILURE
        }
    }
}
