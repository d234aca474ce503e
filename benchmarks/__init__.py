"""Benchmarks: retrieval metrics and generator audits; builds on mri_search only."""
