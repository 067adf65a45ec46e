//! The shared, content-addressed download cache: `<cache>/<sha256>/` with a marker written last.
