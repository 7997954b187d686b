//! The expansion: checks the function the attribute sits on and rewrites it into a plain `fn`
//! that builds a runtime and blocks on the body.

use crate::args;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemFn, ReturnType, Type};

/// Which attribute is being expanded.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `#[main]`: any number of worker threads (default one per CPU).
    Main,
    /// `#[test]`: one worker thread unless `worker_threads` says otherwise, as tokio's test
    /// runtime is single-threaded by default.
    Test,
}

/// Expands one attribute. On an error the function is still emitted, as a plain `fn` without
/// arguments whose body is never run, so that the compiler reports that one error and not a
/// cascade (an `async fn main`, a missing `main`, unused items).
pub(crate) fn entry(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let func: ItemFn = match syn::parse2(item.clone()) {
        Ok(func) => func,
        Err(e) => {
            let e = e.to_compile_error();
            return quote! { #e #item };
        }
    };
    match expand(kind, args, func.clone()) {
        Ok(tokens) => tokens,
        Err(e) => {
            let e = e.to_compile_error();
            let stub = stub(func);
            quote! { #e #stub }
        }
    }
}

/// The function as a plain `fn` with no arguments and a body that is never run.
fn stub(mut func: ItemFn) -> TokenStream {
    func.sig.asyncness = None;
    func.sig.inputs.clear();
    func.attrs.retain(|a| !a.path().is_ident("test"));
    let attrs = &func.attrs;
    let vis = &func.vis;
    let sig = &func.sig;
    quote! {
        #(#attrs)*
        #[allow(unreachable_code, unused_variables, dead_code)]
        #vis #sig {
            ::core::unreachable!("this function's attribute did not expand")
        }
    }
}

fn expand(kind: Kind, args: TokenStream, mut func: ItemFn) -> syn::Result<TokenStream> {
    let sig = &func.sig;
    if sig.asyncness.is_none() {
        return Err(syn::Error::new_spanned(
            sig.fn_token,
            "the `async` keyword is missing from the function declaration",
        ));
    }
    if !sig.inputs.is_empty() {
        let message = match kind {
            Kind::Main => "the main function cannot accept arguments",
            Kind::Test => "a test function cannot accept arguments",
        };
        return Err(syn::Error::new_spanned(&sig.inputs, message));
    }
    if kind == Kind::Test {
        if let Some(attr) = func.attrs.iter().find(|a| a.path().is_ident("test")) {
            return Err(syn::Error::new_spanned(
                attr,
                "a second test attribute is given: `#[worker_runtime::test]` already makes this a \
                 test; remove this `#[test]`",
            ));
        }
    }
    let args = args::parse(args)?;
    let krate = match args.krate {
        Some(path) => quote! { #path },
        None => quote! { ::worker_runtime },
    };
    let threads = match (args.worker_threads, kind) {
        (Some((n, span)), _) => quote_spanned! {span=> .worker_threads(#n) },
        (None, Kind::Test) => quote! { .worker_threads(1) },
        (None, Kind::Main) => quote! {},
    };
    // The body's type is pinned to the declared return type, so that `?` in it converts into the
    // declared error type (an `impl Trait` return type is left to inference).
    let output = match &func.sig.output {
        ReturnType::Default => Some(quote! { () }),
        ReturnType::Type(_, ty) if matches!(**ty, Type::ImplTrait(_)) => None,
        ReturnType::Type(_, ty) => Some(quote! { #ty }),
    };
    let typed = output.map(|ty| {
        quote! {
            let body = ::core::pin::pin!(body);
            let body: ::core::pin::Pin<&mut dyn ::core::future::Future<Output = #ty>> = body;
        }
    });
    let block = &func.block;
    let span = block.span();
    let body = quote_spanned! {span=>
        {
            let body = async move #block;
            #typed
            #[allow(clippy::expect_used, clippy::needless_return)]
            {
                return #krate::Builder::new_multi_thread()
                    #threads
                    .build()
                    .expect("failed to build the worker-runtime runtime")
                    .block_on(body);
            }
        }
    };
    func.sig.asyncness = None;
    let test_attr = match kind {
        Kind::Test => quote! { #[::core::prelude::v1::test] },
        Kind::Main => quote! {},
    };
    let attrs = &func.attrs;
    let vis = &func.vis;
    let sig = &func.sig;
    Ok(quote! {
        #test_attr
        #(#attrs)*
        #vis #sig #body
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_str(kind: Kind, args: &str, item: &str) -> String {
        entry(kind, args.parse().unwrap(), item.parse().unwrap()).to_string()
    }

    #[test]
    fn main_builds_a_runtime_with_the_given_threads() {
        let out = expand_str(
            Kind::Main,
            "worker_threads = 3",
            "async fn main() { run().await }",
        );
        assert!(out.contains("worker_threads (3usize)"), "{out}");
        assert!(
            out.contains(":: worker_runtime :: Builder :: new_multi_thread ()"),
            "{out}"
        );
        assert!(out.contains("block_on (body)"), "{out}");
        assert!(!out.contains("async fn"), "{out}");
        assert!(!out.contains("compile_error"), "{out}");
    }

    #[test]
    fn main_without_arguments_keeps_the_default_thread_count() {
        let out = expand_str(Kind::Main, "", "async fn main() {}");
        assert!(!out.contains("worker_threads"), "{out}");
    }

    #[test]
    fn current_thread_means_one_worker() {
        let out = expand_str(
            Kind::Main,
            "flavor = \"current_thread\"",
            "async fn main() {}",
        );
        assert!(out.contains("worker_threads (1usize)"), "{out}");
        let out = expand_str(
            Kind::Main,
            "flavor = \"multi_thread\"",
            "async fn main() {}",
        );
        assert!(!out.contains("worker_threads"), "{out}");
    }

    #[test]
    fn test_adds_the_test_attribute_and_one_worker() {
        let out = expand_str(Kind::Test, "", "async fn t() {}");
        assert!(
            out.starts_with("# [:: core :: prelude :: v1 :: test]"),
            "{out}"
        );
        assert!(out.contains("worker_threads (1)"), "{out}");
    }

    #[test]
    fn crate_argument_replaces_the_path() {
        let out = expand_str(Kind::Main, "crate = \"my_rt\"", "async fn main() {}");
        assert!(out.contains("my_rt :: Builder"), "{out}");
        assert!(!out.contains(":: worker_runtime"), "{out}");
    }

    #[test]
    fn return_type_is_kept_and_pins_the_body() {
        let out = expand_str(
            Kind::Main,
            "",
            "async fn main() -> Result<(), String> { Ok(()) }",
        );
        assert!(
            out.contains("fn main () -> Result < () , String >"),
            "{out}"
        );
        assert!(out.contains("Output = Result < () , String >"), "{out}");
    }

    #[test]
    fn errors_name_the_problem() {
        let cases = [
            (
                Kind::Main,
                "",
                "fn main() {}",
                "the `async` keyword is missing",
            ),
            (
                Kind::Main,
                "",
                "async fn main(x: u8) {}",
                "cannot accept arguments",
            ),
            (
                Kind::Test,
                "",
                "async fn t(x: u8) {}",
                "cannot accept arguments",
            ),
            (
                Kind::Main,
                "threads = 2",
                "async fn main() {}",
                "unknown argument `threads`",
            ),
            (
                Kind::Main,
                "start_paused",
                "async fn main() {}",
                "unknown argument `start_paused`",
            ),
            (
                Kind::Main,
                "worker_threads = 0",
                "async fn main() {}",
                "at least 1, found `0`",
            ),
            (
                Kind::Main,
                "worker_threads = \"2\"",
                "async fn main() {}",
                "integer literal",
            ),
            (
                Kind::Main,
                "flavor = \"local\"",
                "async fn main() {}",
                "unknown flavor",
            ),
            (
                Kind::Main,
                "worker_threads = 1, worker_threads = 2",
                "async fn main() {}",
                "more than once",
            ),
            (
                Kind::Main,
                "flavor = \"current_thread\", worker_threads = 2",
                "async fn main() {}",
                "cannot be combined",
            ),
            (
                Kind::Test,
                "",
                "#[test] async fn t() {}",
                "a second test attribute",
            ),
        ];
        for (kind, args, item, want) in cases {
            let out = expand_str(kind, args, item);
            assert!(out.contains("compile_error"), "{args} / {item}: {out}");
            assert!(
                out.contains(want),
                "{args} / {item}: want {want:?} in {out}"
            );
        }
    }

    #[test]
    fn unknown_argument_lists_the_allowed_ones() {
        let out = expand_str(Kind::Main, "threads = 2", "async fn main() {}");
        for name in ["worker_threads", "flavor", "crate"] {
            assert!(out.contains(name), "{out}");
        }
    }
}
