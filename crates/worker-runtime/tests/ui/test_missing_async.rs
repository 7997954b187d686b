#[worker_runtime::test]
fn adds() {}

fn main() {}
