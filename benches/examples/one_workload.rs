//! Runs one workload on each peer runtime and prints ns per unit.
//!
//! `cargo run --release -p benches --example one_workload [WORKLOAD]`
//! (default `chained_spawn`).

use benches::workloads::Workload;

fn main() {
    let name = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "chained_spawn".into());
    let Some(workload) = Workload::from_name(&name) else {
        let names: Vec<&str> = Workload::ALL.iter().map(|w| w.name()).collect();
        eprintln!("unknown workload `{name}` (allowed: {})", names.join(", "));
        std::process::exit(2);
    };
    for rt in benches::contenders(2) {
        rt.run(workload); // warm-up
        let d = rt.run(workload);
        let ns = benches::stats::ns_per_unit(d, workload.units());
        println!(
            "{:<15} {:<15} {ns:>8.1} ns/{}",
            workload.name(),
            rt.name(),
            workload.unit()
        );
    }
}
