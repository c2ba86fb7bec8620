"""khulasa server: Arabic news to English translation and summary on CTranslate2."""

from khulasa import __version__ as __version__  # the package metadata, as for the client
