// Finds libdiffevent_c through pkg-config (diffevent-c.pc, installed with the library): set
// PKG_CONFIG_PATH=PREFIX/lib/pkgconfig for a prefix pkg-config does not search. The .pc file's
// run path reaches this crate's own tests and examples; a program that depends on the crate
// gets the library's folder as DEP_DIFFEVENT_C_LIBDIR in its build script (see README.md).
fn main() {
    let lib = pkg_config::Config::new()
        .atleast_version("0.1")
        .probe("diffevent-c")
        .unwrap_or_else(|e| panic!("diffevent: the C library was not found through pkg-config: {e}"));
    for dir in &lib.link_paths {
        println!("cargo:libdir={}", dir.display());
    }
}
