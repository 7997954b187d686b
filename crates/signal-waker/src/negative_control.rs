//! Planted bugs for the negative controls of the loom models.
//!
//! A loom model is only worth something if it fails when the edge it checks is missing. Each crate
//! of the workspace therefore plants, next to every such edge, a bug written
//! `negative_control("<bug_name>")`: under `--cfg loom` the call returns `true` when the
//! environment variable `NEGATIVE_CONTROL` names that bug, so one loom build serves the models and
//! every negative control (`cargo xtask verify`'s loom-neg row runs each model again with the
//! variable set and requires it to fail). Outside loom builds it is always `false` and the planted
//! code folds away.

/// Whether the planted bug `bug` is switched on (see the module docs). Not part of the API's
/// stability promise; the workspace's own crates call it through their `sync` modules.
#[inline]
pub fn negative_control(bug: &str) -> bool {
    #[cfg(loom)]
    {
        static SELECTED: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
        SELECTED
            .get_or_init(|| std::env::var("NEGATIVE_CONTROL").ok())
            .as_deref()
            == Some(bug)
    }
    #[cfg(not(loom))]
    {
        let _ = bug;
        false
    }
}
