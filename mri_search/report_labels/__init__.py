"""Labels parsed from the report text alone (never the manifest, never the DICOM header): body region and the
organs named, tumour presence, head-and-neck sub-site and histology, laterality and contrast. The vocabulary is a
table (``vocabulary.tsv``) a user can extend with their own (``load_vocabulary``)."""

from .parser import ReportLabels, labels_of, parse_labels
from .vocabulary import Vocabulary, load_vocabulary

__all__ = ["ReportLabels", "Vocabulary", "labels_of", "load_vocabulary", "parse_labels"]
