// The one line a program using the diffevent crate adds so that it runs without
// LD_LIBRARY_PATH: the crate publishes the C library's folder as DEP_DIFFEVENT_C_LIBDIR.
fn main() {
    if let Ok(dir) = std::env::var("DEP_DIFFEVENT_C_LIBDIR") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
}
