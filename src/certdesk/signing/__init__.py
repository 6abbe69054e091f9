"""Key material, PAdES signing and validation, verification against the archive."""
