//! Download progress on stderr: a bar with bytes, rate and ETA on a terminal, plain lines otherwise
//! (CI logs). `CARGO_TERM_PROGRESS_WHEN=always|never|auto` forces the choice, as it does for cargo.

use std::cell::RefCell;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use onnxruntime_provision::internal::cli::Progress;

use crate::host_env;

/// How often the bar is redrawn at most.
const REDRAW: Duration = Duration::from_millis(100);
/// How often a plain progress line is printed during a long transfer.
const PLAIN_EVERY: Duration = Duration::from_secs(5);
const BAR_WIDTH: usize = 30;

pub struct Reporter {
    bar: bool,
    state: RefCell<State>,
}

#[derive(Default)]
struct State {
    total: Option<u64>,
    received: u64,
    started: Option<Instant>,
    last_shown: Option<Instant>,
}

impl Reporter {
    /// A bar when stderr is a terminal (or `CARGO_TERM_PROGRESS_WHEN=always`), plain lines otherwise.
    pub fn for_stderr() -> Reporter {
        let bar = match host_env::var("CARGO_TERM_PROGRESS_WHEN").as_deref() {
            Some("always") => true,
            Some("never") => false,
            _ => std::io::stderr().is_terminal(),
        };
        Reporter { bar, state: RefCell::new(State::default()) }
    }

    fn draw(&self, state: &State, now: Instant) {
        let elapsed = state.started.map(|s| now.duration_since(s)).unwrap_or_default();
        let rate = rate(state.received, elapsed);
        let mut line = String::from("  ");
        match state.total {
            Some(total) if total > 0 => {
                let done = (state.received.min(total) as f64 / total as f64 * BAR_WIDTH as f64) as usize;
                let bar: String = (0..BAR_WIDTH).map(|i| if i < done { '=' } else { ' ' }).collect();
                line.push_str(&format!("[{bar}] {} / {}", size(state.received), size(total)));
                line.push_str(&format!("  {}/s", size(rate as u64)));
                if rate > 0.0 && state.received < total {
                    let left = (total - state.received) as f64 / rate;
                    line.push_str(&format!("  ETA {}", clock(Duration::from_secs_f64(left.min(359_999.0)))));
                }
            }
            _ => line.push_str(&format!("{}  {}/s", size(state.received), size(rate as u64))),
        }
        // `\r` back to the start, `\x1b[K` erases what a longer previous line left behind.
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{line}\x1b[K");
        let _ = err.flush();
    }
}

impl Progress for Reporter {
    fn started(&self, url: &str, total: Option<u64>) {
        let mut state = self.state.borrow_mut();
        let retry = state.started.is_some();
        *state = State { total, started: Some(Instant::now()), ..State::default() };
        let what = match total {
            Some(total) => format!("{} ({})", url, size(total)),
            None => url.to_string(),
        };
        if self.bar && retry {
            eprintln!();
        }
        eprintln!("  {} {what}", if retry { "retrying" } else { "downloading" });
    }

    fn advanced(&self, bytes: u64) {
        let mut state = self.state.borrow_mut();
        state.received = state.received.saturating_add(bytes);
        let now = Instant::now();
        let every = if self.bar { REDRAW } else { PLAIN_EVERY };
        // The bar appears with the first bytes; plain lines only once a transfer has taken a while.
        let due = match (state.last_shown, state.started) {
            (Some(last), _) => now.duration_since(last) >= every,
            (None, Some(started)) => self.bar || now.duration_since(started) >= every,
            (None, None) => true,
        };
        if !due {
            return;
        }
        state.last_shown = Some(now);
        if self.bar {
            self.draw(&state, now);
        } else {
            let elapsed = state.started.map(|s| now.duration_since(s)).unwrap_or_default();
            let of = state.total.map(|t| format!(" of {}", size(t))).unwrap_or_default();
            eprintln!("  {}{of}, {}/s", size(state.received), size(rate(state.received, elapsed) as u64));
        }
    }

    fn finished(&self) {
        // The next fetch (another target) starts afresh, not as a retry of this one.
        let state = std::mem::take(&mut *self.state.borrow_mut());
        if state.started.is_none() || state.received == 0 {
            // Nothing arrived: the error that follows says why.
            return;
        }
        let now = Instant::now();
        if self.bar {
            self.draw(&state, now);
            eprintln!();
        }
        let elapsed = state.started.map(|s| now.duration_since(s)).unwrap_or_default();
        eprintln!(
            "  {} in {:.1} s ({}/s)",
            size(state.received),
            elapsed.as_secs_f64(),
            size(rate(state.received, elapsed) as u64)
        );
    }
}

fn rate(bytes: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 { bytes as f64 / secs } else { 0.0 }
}

/// `8.3 MiB`, `512 B`.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS.get(unit).unwrap_or(&"TiB"))
}

/// `0:07`, `12:30`, `1:02:03`.
fn clock(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_clocks() {
        assert_eq!(size(512), "512 B");
        assert_eq!(size(8_309_231), "7.9 MiB");
        assert_eq!(size(3 << 30), "3.0 GiB");
        assert_eq!(clock(Duration::from_secs(7)), "0:07");
        assert_eq!(clock(Duration::from_secs(3723)), "1:02:03");
    }
}
