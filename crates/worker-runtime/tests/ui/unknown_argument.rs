// An argument tokio has but this runtime does not: the error names it and lists the allowed ones.
#[worker_runtime::main(start_paused = true)]
async fn main() {}
