from .fingerprints import SpeechFingerprint, SpeechShingleKey
from .pages import OrgLevel, SpeechIndexPage, SpeechPage, SpeechPageTag, plain_text_from_stream
from .snippets import Speaker

__all__ = ["OrgLevel", "Speaker", "SpeechFingerprint", "SpeechIndexPage", "SpeechPage", "SpeechPageTag",
           "SpeechShingleKey", "plain_text_from_stream"]
