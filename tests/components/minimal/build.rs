//! A small wasm stack (Rust's default is 1 MiB): this guest's calls nest a
//! few frames deep, and a smaller linear memory is less for the host to
//! reset after each instance (it scans the memory for dirty pages).

fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg-cdylib=-zstack-size=16384");
    }
}
