//! Release manifests: which official archive exists for version × platform × variant, and its SHA-256.
