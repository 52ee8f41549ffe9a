class DocxImportError(Exception):
    """A file that cannot be imported; the message is shown to the editor as it is."""
