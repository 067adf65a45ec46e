//! Getting bytes from a URL (`https://`, `http://`, `file://`): timeouts, bounded retries with backoff,
//! bounded redirects without https→http downgrade, proxies, extra CA roots, SHA-256 while streaming.
