"""Support knowledge base: articles in Markdown, built into a Material for MkDocs site."""

__version__ = "0.1.0"
