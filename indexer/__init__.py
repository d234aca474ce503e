"""Bulk indexer into Qdrant and Parquet; builds on mri_search only."""
