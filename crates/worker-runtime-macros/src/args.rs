//! The attribute arguments: `worker_threads = N`, `flavor = "..."` and `crate = "path"`, each at
//! most once, anything else refused with an error that names it and lists the allowed ones.

use proc_macro2::Span;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, LitInt, LitStr, Meta, Token};

/// The arguments the attributes accept, in the order error messages list them.
pub(crate) const ALLOWED: &str = "`worker_threads = N` (N >= 1), \
     `flavor = \"multi_thread\"` or `flavor = \"current_thread\"`, `crate = \"path\"`";

/// What the arguments asked for.
pub(crate) struct Args {
    /// `worker_threads = N`, or 1 for `flavor = "current_thread"`.
    pub(crate) worker_threads: Option<(usize, Span)>,
    /// `crate = "path"`: where the runtime is (default `::worker_runtime`).
    pub(crate) krate: Option<syn::Path>,
}

/// The runtime flavor named by `flavor = "..."`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavor {
    MultiThread,
    CurrentThread,
}

/// Parses the attribute's arguments; each error points at the offending tokens.
pub(crate) fn parse(tokens: proc_macro2::TokenStream) -> syn::Result<Args> {
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(tokens)?;
    let mut worker_threads: Option<(usize, Span)> = None;
    let mut flavor: Option<(Flavor, Span)> = None;
    let mut krate: Option<syn::Path> = None;
    for meta in metas {
        let name_value = match meta {
            Meta::NameValue(nv) => nv,
            other => {
                let name = path_name(other.path());
                return Err(syn::Error::new_spanned(
                    other,
                    format!("unknown argument `{name}`; the allowed arguments are {ALLOWED}"),
                ));
            }
        };
        let name = path_name(&name_value.path);
        let span = span_of(&name_value.value);
        match name.as_str() {
            "worker_threads" => {
                if worker_threads.is_some() {
                    return Err(duplicate(&name_value.path, &name));
                }
                let lit = int_literal(&name_value.value, "worker_threads")?;
                let n: usize = lit.base10_parse().map_err(|_| not_a_count(&lit))?;
                if n == 0 {
                    return Err(not_a_count(&lit));
                }
                worker_threads = Some((n, lit.span()));
            }
            "flavor" => {
                if flavor.is_some() {
                    return Err(duplicate(&name_value.path, &name));
                }
                let lit = str_literal(&name_value.value, "flavor")?;
                let f = match lit.value().as_str() {
                    "multi_thread" => Flavor::MultiThread,
                    "current_thread" => Flavor::CurrentThread,
                    other => {
                        return Err(syn::Error::new(
                            lit.span(),
                            format!(
                                "unknown flavor {other:?}; `flavor` must be \"multi_thread\" or \
                                 \"current_thread\" (one worker thread)"
                            ),
                        ))
                    }
                };
                flavor = Some((f, span));
            }
            "crate" => {
                if krate.is_some() {
                    return Err(duplicate(&name_value.path, &name));
                }
                let lit = str_literal(&name_value.value, "crate")?;
                krate = Some(lit.parse().map_err(|e| {
                    syn::Error::new(
                        lit.span(),
                        format!("`crate` must be a path such as \"::worker_runtime\": {e}"),
                    )
                })?);
            }
            _ => {
                return Err(syn::Error::new_spanned(
                    &name_value.path,
                    format!("unknown argument `{name}`; the allowed arguments are {ALLOWED}"),
                ))
            }
        }
    }
    if let Some((Flavor::CurrentThread, span)) = flavor {
        if let Some((_, threads_span)) = worker_threads {
            return Err(syn::Error::new(
                threads_span,
                "`worker_threads` cannot be combined with `flavor = \"current_thread\"` (which \
                 means one worker thread); use `flavor = \"multi_thread\"`",
            ));
        }
        worker_threads = Some((1, span));
    }
    Ok(Args {
        worker_threads,
        krate,
    })
}

/// The argument's name as written (`a::b` for a path).
fn path_name(path: &syn::Path) -> String {
    path.segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}

fn span_of(expr: &Expr) -> Span {
    syn::spanned::Spanned::span(expr)
}

fn duplicate(path: &syn::Path, name: &str) -> syn::Error {
    syn::Error::new_spanned(
        path,
        format!("the argument `{name}` is given more than once"),
    )
}

fn not_a_count(lit: &LitInt) -> syn::Error {
    syn::Error::new(
        lit.span(),
        format!(
            "`worker_threads` must be a whole number of at least 1, found `{}`",
            lit.base10_digits()
        ),
    )
}

fn int_literal(expr: &Expr, name: &str) -> syn::Result<LitInt> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Int(lit), ..
        }) => Ok(lit.clone()),
        other => Err(syn::Error::new_spanned(
            other,
            format!("`{name}` must be an integer literal of at least 1, such as `{name} = 4`"),
        )),
    }
}

fn str_literal(expr: &Expr, name: &str) -> syn::Result<LitStr> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Ok(lit.clone()),
        other => Err(syn::Error::new_spanned(
            other,
            format!("`{name}` must be a string literal, such as `{name} = \"...\"`"),
        )),
    }
}
