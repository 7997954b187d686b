//! A tokio echo server with a blocking call, ported by changing its `use` lines and the
//! attribute (the diff is in `docs/porting.md`): `spawn`, `spawn_blocking`, `net::TcpListener`,
//! `io::{AsyncReadExt, AsyncWriteExt}`, a host name for `bind`.

use worker_runtime::io::{AsyncReadExt, AsyncWriteExt};
use worker_runtime::net::{TcpListener, TcpStream};
use worker_runtime::spawn;
use worker_runtime::task::spawn_blocking;

#[worker_runtime::main]
async fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind("localhost:0").await?;
    let addr = listener.local_addr()?;
    spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            spawn(async move {
                // A blocking call (a file, a C library) goes to the blocking pool.
                let greeting =
                    spawn_blocking(|| format!("hello from {:?}\n", std::thread::current().name()))
                        .await
                        .unwrap();
                let _ = socket.write_all(greeting.as_bytes()).await;
                let mut buf = [0; 1024];
                while let Ok(n @ 1..) = socket.read(&mut buf).await {
                    if socket.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    let mut client = TcpStream::connect(addr).await?;
    let mut line = vec![0; 64];
    let n = client.read(&mut line).await?;
    print!("{}", String::from_utf8_lossy(&line[..n]));
    for msg in ["one", "two", "three"] {
        client.write_all(msg.as_bytes()).await?;
        let mut echo = vec![0; msg.len()];
        client.read_exact(&mut echo).await?;
        println!("echoed {}", String::from_utf8_lossy(&echo));
    }
    Ok(())
}
