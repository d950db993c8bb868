//! Raw HTTP/1.1 over TCP, for the servers' hostile-input tests (issue #7).
//!
//! An HTTP client refuses to send what these tests need (two `Origin`s, a
//! folded header, conflicting lengths, bytes that are not UTF-8, a head sent
//! one byte a second), so the tests write bytes on a socket themselves and
//! read back whatever the server answers: a status, the text, how long it
//! took, and whether the server closed the connection.

use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long [`send`] waits for the server to answer and close.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// What came back on a raw connection.
#[derive(Debug)]
pub struct Answer {
    /// The status of the first response, if one arrived.
    pub status: Option<u16>,
    /// Everything read, as text (bytes that are not UTF-8 replaced).
    pub text: String,
    /// How long until the server closed, or the read gave up.
    pub took: Duration,
    /// Whether the server closed the connection.
    pub closed: bool,
}

impl Answer {
    /// The first response's head: the status line and the header lines.
    pub fn head(&self) -> &str {
        self.text
            .split_once("\r\n\r\n")
            .map_or("", |(head, _)| head)
    }

    /// Everything after the first head.
    pub fn body(&self) -> &str {
        self.text
            .split_once("\r\n\r\n")
            .map_or("", |(_, body)| body)
    }

    /// The JSON body of the first response (the contract's error, say);
    /// panics, showing the whole answer, when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(self.body())
            .unwrap_or_else(|e| panic!("not a JSON body ({e}): {self:?}"))
    }

    /// The contract error's `error.code`, or `""`.
    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// A header of the first response, by name (any case).
    pub fn header(&self, name: &str) -> Option<String> {
        self.head().lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_string())
        })
    }

    /// How many responses the server sent on the connection.
    pub fn responses(&self) -> usize {
        self.text.matches("HTTP/1.1 ").count()
    }
}

/// Reads until the server closes the connection, or `patience` passes;
/// `started` is when the exchange began (for [`Answer::took`]).
pub async fn read_all(stream: &mut TcpStream, started: Instant, patience: Duration) -> Answer {
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 8192];
    let mut closed = false;
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            Ok(Ok(n)) => bytes.extend_from_slice(&buffer[..n]),
            Err(_) => break,
        }
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok());
    Answer {
        status,
        text,
        took: started.elapsed(),
        closed,
    }
}

/// Sends `request` whole on a new connection to `addr` and reads what comes
/// back, for up to [`PATIENCE`].
pub async fn send(addr: &str, request: &[u8]) -> Answer {
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"));
    stream
        .write_all(request)
        .await
        .unwrap_or_else(|e| panic!("cannot write to {addr}: {e}"));
    read_all(&mut stream, started, PATIENCE).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(text: &str) -> Answer {
        Answer {
            status: None,
            text: text.into(),
            took: Duration::ZERO,
            closed: true,
        }
    }

    #[test]
    fn headers_are_read_from_the_first_head_only_in_any_case() {
        let a = answer(
            "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n\r\n\
             {\"error\":{\"code\":\"bad\"}}HTTP/1.1 200 OK\r\nx-later: 1\r\n\r\n",
        );
        assert_eq!(
            a.header("content-type").as_deref(),
            Some("application/json")
        );
        assert_eq!(a.header("x-later"), None);
        assert_eq!(a.responses(), 2);
    }

    #[tokio::test]
    async fn an_exchange_reads_the_status_and_sees_the_close() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 64];
            let n = socket.read(&mut request).await.unwrap();
            assert_eq!(&request[..n], b"GET / HTTP/1.1\r\n\r\n");
            let body = r#"{"error":{"code":"nope"}}"#;
            let head = format!(
                "HTTP/1.1 404 Not Found\r\ncontent-length: {}\r\n\r\n",
                body.len()
            );
            socket.write_all(head.as_bytes()).await.unwrap();
            socket.write_all(body.as_bytes()).await.unwrap();
        });
        let a = send(&addr, b"GET / HTTP/1.1\r\n\r\n").await;
        assert_eq!(a.status, Some(404));
        assert!(a.closed);
        assert_eq!(a.code(), "nope");
    }
}
