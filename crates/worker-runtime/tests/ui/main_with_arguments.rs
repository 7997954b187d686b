#[worker_runtime::main]
async fn main(n: u32) {
    let _ = n;
}
