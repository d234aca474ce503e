"""Archive ingestion: DICOM and NIfTI series, their reports, and what could not be read (with reasons).

Everything downstream (pretraining, indexing, query by image, benchmarks) reads MRI through this package.
Patient-identifying values never leave it unless asked for: identifiers are replaced by salted hashes.
"""
