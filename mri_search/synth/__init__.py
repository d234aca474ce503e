"""Synthetic MRI archives: phantoms, MR physics, DICOM/NIfTI writers, reports and a ground-truth manifest."""
