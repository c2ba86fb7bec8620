"""Text handling that needs no model: normalization, segmentation, language detection."""
