#[worker_runtime::main]
fn main() {}
