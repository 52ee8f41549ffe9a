from .pages import OrgLevel, SpeechIndexPage, SpeechPage, SpeechPageTag
from .snippets import Speaker

__all__ = ["OrgLevel", "Speaker", "SpeechIndexPage", "SpeechPage", "SpeechPageTag"]
