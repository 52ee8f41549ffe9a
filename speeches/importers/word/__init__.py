"""Speeches from Word (.docx): read (reader), parse into metadata and blocks (metadata, parse), preview and create
drafts (importer)."""
