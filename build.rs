//! Link options for the release binary only (issue #20: binary size <= 10 MB).
//!
//! Identical code folding (`--icf=all`): generic code instantiated for many types (redb's
//! tables, serde, async state machines) often compiles to byte-identical functions; the linker
//! keeps one copy. Rust promises nothing about distinct addresses of distinct functions
//! (`std::ptr::fn_addr_eq`), so folding is sound. Only where rustc links with lld by default
//! (x86_64-unknown-linux-gnu since Rust 1.90); other targets and debug builds are untouched.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let release = std::env::var("PROFILE").as_deref() == Ok("release");
    let lld = std::env::var("TARGET").as_deref() == Ok("x86_64-unknown-linux-gnu");
    if release && lld {
        println!("cargo:rustc-link-arg-bin=mailnook=-Wl,--icf=all");
    }
}
