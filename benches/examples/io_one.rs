//! Runs the echo row on one runtime (by index in the contender list: 0 ours, 1 tokio,
//! 2 async-executor) `N` times, for profiling one runtime alone.
//!
//! `cargo run --release -p benches --example io_one [INDEX] [RUNS]`

fn main() {
    let mut args = std::env::args().skip(1);
    let index: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(0);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let Some(start) = benches::CONTENDERS.get(index) else {
        eprintln!("index {index}: allowed 0..{}", benches::CONTENDERS.len());
        std::process::exit(2);
    };
    let rt = start(2);
    let mut total = std::time::Duration::ZERO;
    for _ in 0..runs {
        total += rt.echo(50, 100, 64).wall;
    }
    println!("{} echo: {:?} per run", rt.name(), total / runs as u32);
}
