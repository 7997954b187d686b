//! Sets `cfg(worker_runtime_tsan)` when the crate is built with `-Zsanitizer=thread`, so that
//! `src/tsan.rs` hands ThreadSanitizer its suppressions. Nothing else changes in any build.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(worker_runtime_tsan)");
    let sanitizers = std::env::var("CARGO_CFG_SANITIZE").unwrap_or_default();
    if sanitizers.split(',').any(|s| s == "thread") {
        println!("cargo::rustc-cfg=worker_runtime_tsan");
    }
}
