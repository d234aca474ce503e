"""Writers that turn an acquired series (float volume + plan) into DICOM and BIDS-style NIfTI files."""

from .dicom import EXPORT_STYLES, LAYOUTS, write_dicom_series
from .nifti import write_nifti_series

__all__ = ["EXPORT_STYLES", "LAYOUTS", "write_dicom_series", "write_nifti_series"]
