// Links libdiffevent_c. DIFFEVENT_LIB_DIR names the folder that holds it (a build tree's capi/
// or an install's lib/); it also becomes the binaries' run path. Without it the system linker
// paths are searched (an installed package).
fn main() {
    println!("cargo:rerun-if-env-changed=DIFFEVENT_LIB_DIR");
    if let Ok(dir) = std::env::var("DIFFEVENT_LIB_DIR") {
        println!("cargo:rustc-link-search=native={dir}");
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
    println!("cargo:rustc-link-lib=dylib=diffevent_c");
}
