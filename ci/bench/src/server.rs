//! The loopback mirror: a plain HTTP/1.1 file server on 127.0.0.1 that counts the GETs of each path,
//! so the concurrency figure can say how many downloads really happened. The body goes out with
//! `io::copy` from the file, which the standard library turns into `sendfile` on Linux, so the server
//! costs the client as little as a server can.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread;

pub struct Mirror {
    pub base_url: String,
    gets: Arc<Mutex<HashMap<String, u64>>>,
}

impl Mirror {
    /// Serves `root` until the process ends.
    pub fn start(root: &Path) -> io::Result<Mirror> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let gets = Arc::new(Mutex::new(HashMap::new()));
        let root = root.to_path_buf();
        let counter = Arc::clone(&gets);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let root = root.clone();
                let counter = Arc::clone(&counter);
                thread::spawn(move || {
                    let _ = serve(stream, &root, &counter);
                });
            }
        });
        Ok(Mirror { base_url, gets })
    }

    /// GETs of `path` (as in the URL) so far.
    pub fn gets(&self, path: &str) -> u64 {
        self.gets.lock().map(|g| g.get(path).copied().unwrap_or(0)).unwrap_or(0)
    }
}

fn serve(stream: TcpStream, root: &Path, gets: &Mutex<HashMap<String, u64>>) -> io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    // Read the headers to the blank line; none of them changes the answer.
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let mut words = request.split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let mut out = stream;
    let file = match (method, local_path(root, path)) {
        ("GET", Some(local)) => File::open(local).ok(),
        _ => None,
    };
    let Some(mut file) = file else {
        return out.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    };
    if let Ok(mut gets) = gets.lock() {
        *gets.entry(path.to_string()).or_default() += 1;
    }
    let length = file.metadata()?.len();
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/gzip\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
    );
    out.write_all(head.as_bytes())?;
    io::copy(&mut file, &mut out)?;
    out.flush()
}

/// `root` joined with the URL path, or `None` for anything that could leave `root`.
fn local_path(root: &Path, url_path: &str) -> Option<PathBuf> {
    let relative = Path::new(url_path.strip_prefix('/')?);
    relative.components().all(|c| matches!(c, Component::Normal(_))).then(|| root.join(relative))
}
