//! Stopping the emulator while clients hold connections open: it returns
//! promptly and answers nothing afterwards.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wayfinder_emulator::Emulator;

/// Reads until EOF or an error; `None` if the peer kept the socket open.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> Option<Vec<u8>> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(seen),
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
            Err(_) => return None,
        }
    }
}

#[tokio::test]
async fn stop_closes_half_open_and_idle_connections() {
    let emulator = Emulator::builder().admin_token("admin-canary").start().await.unwrap();
    let addr = emulator.local_addr();

    // A client that sent half its request headers.
    let mut half = TcpStream::connect(addr).await.unwrap();
    half.write_all(b"GET /apiinfo HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    // A keep-alive client between requests.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /apiinfo HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = idle.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    tokio::time::sleep(Duration::from_millis(50)).await;

    let started = Instant::now();
    emulator.shutdown().await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "stop took {:?}",
        started.elapsed()
    );

    // Finishing the half-sent request gets no answer: the connection is gone.
    let _ = half.write_all(b"\r\n").await;
    let answer = closed_within(&mut half, Duration::from_secs(2)).await;
    assert_eq!(answer.as_deref(), Some(&b""[..]), "the stopped emulator answered");
    let _ = idle.write_all(b"GET /apiinfo HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let answer = closed_within(&mut idle, Duration::from_secs(2)).await;
    assert_eq!(answer.as_deref(), Some(&b""[..]), "the stopped emulator answered");
    assert!(TcpStream::connect(addr).await.is_err(), "still listening");
}
