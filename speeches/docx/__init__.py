"""Speeches from Word (.docx): parse, read metadata, clean typography, suggest topics, find duplicates."""
