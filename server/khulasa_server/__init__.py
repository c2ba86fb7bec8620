"""khulasa server: Arabic news to English translation and summary on CTranslate2."""

__version__ = "0.1.0"
