"""Cross-cutting pieces: settings (the one place the environment is read) and errors."""
