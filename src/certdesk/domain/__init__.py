"""Certification rules that are neither numbering nor documents: pure functions."""
