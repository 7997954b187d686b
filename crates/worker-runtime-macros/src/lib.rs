//! The `#[main]` and `#[test]` attributes of
//! [worker-runtime](https://docs.rs/worker-runtime), as tokio's `#[tokio::main]` and
//! `#[tokio::test]`. Use them through the runtime's re-exports, `#[worker_runtime::main]` and
//! `#[worker_runtime::test]`, which are documented there.
//!
//! Each attribute turns an `async fn` into a plain one that builds a runtime and blocks on the
//! body:
//!
//! ```text
//! #[worker_runtime::main(worker_threads = 2)]
//! async fn main() { body }
//! ```
//!
//! becomes
//!
//! ```text
//! fn main() {
//!     let body = async move { body };
//!     ::worker_runtime::Builder::new_multi_thread()
//!         .worker_threads(2)
//!         .build()
//!         .expect("failed to build the worker-runtime runtime")
//!         .block_on(body)
//! }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod args;
mod expand;

use proc_macro::TokenStream;

/// Runs an `async fn main` on a worker-runtime runtime; see `worker_runtime::main`.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::entry(expand::Kind::Main, args.into(), item.into()).into()
}

/// Runs an `async fn` test on a worker-runtime runtime of its own; see `worker_runtime::test`.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::entry(expand::Kind::Test, args.into(), item.into()).into()
}
