//! The `tokio-io` feature: tokio's `AsyncRead` / `AsyncWrite` on our sockets, so code written
//! against `tokio::io` and tokio-util's codecs runs on them (the traits only: no tokio runtime is
//! started anywhere in this test).
//!
//! Real sockets: not run under Miri.

use futures_lite::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::codec::{FramedRead, LinesCodec};
use worker_runtime::net::{TcpListener, TcpStream};
use worker_runtime::{spawn, Runtime};

#[test]
fn tokio_io_helpers_and_a_tokio_util_codec_run_on_our_sockets() {
    let rt = Runtime::builder().worker_threads(2).build().unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let (read, mut write) = stream.into_split();
            let mut lines = FramedRead::new(read, LinesCodec::new());
            let mut seen = Vec::new();
            while let Some(line) = lines.next().await {
                let line = line.unwrap();
                // Through tokio's `AsyncWriteExt`, on our write half.
                tokio::io::AsyncWriteExt::write_all(
                    &mut write,
                    format!("{}\n", line.len()).as_bytes(),
                )
                .await
                .unwrap();
                seen.push(line);
            }
            seen
        });
        let mut client = TcpStream::connect(addr).await.unwrap();
        AsyncWriteExt::write_all(&mut client, b"first\nsecond line\nthird\n")
            .await
            .unwrap();
        AsyncWriteExt::shutdown(&mut client).await.unwrap();
        let mut replies = String::new();
        AsyncReadExt::read_to_string(&mut client, &mut replies)
            .await
            .unwrap();
        assert_eq!(replies, "5\n11\n5\n");
        assert_eq!(server.await.unwrap(), ["first", "second line", "third"]);
    });
}
