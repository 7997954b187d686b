#[worker_runtime::main(flavor = "local")]
async fn main() {}
