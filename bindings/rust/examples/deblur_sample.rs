//! The C example's job from Rust: EDI and DiffEvent frames of the bundled sample.
//! Usage: deblur_sample BLUR EVENTS OUT_DIR [STEPS] [SEED]
use std::path::Path;
use std::process::ExitCode;

fn run(args: &[String]) -> diffevent::Result<()> {
    let blurry = diffevent::Image::read(&args[1])?;
    let events = diffevent::Events::read(&args[2])?;
    let out = Path::new(&args[3]);
    diffevent::edi_deblur(&blurry, &events, &Default::default())?.write(out.join("edi.png"), 8)?;
    if diffevent::has_torch() {
        let mut show = |done: i64, total: i64| {
            eprint!("\rstep {done}/{total}{}", if done == total { "\n" } else { "" });
            false
        };
        let opts = diffevent::DeblurOptions {
            steps: args.get(4).map_or(100, |s| s.parse().unwrap_or(100)),
            seed: args.get(5).map_or(0, |s| s.parse().unwrap_or(0)),
            progress: Some(&mut show),
            ..Default::default()
        };
        diffevent::deblur(&blurry, &events, opts)?.sharp.write(out.join("deblur.png"), 8)?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: deblur_sample BLUR EVENTS OUT_DIR [STEPS] [SEED]");
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
