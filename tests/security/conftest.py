import pytest


@pytest.fixture(autouse=True)
def private_dirs(settings, tmp_path):
    """Uploaded media and staged imports of each test in its own directories."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.VAR_DIR = tmp_path / "var"
    return tmp_path


@pytest.fixture
def speech_docx():
    from speeches.tests.samples import build_docx
    from speeches.tests.test_docx_import import SPEECH

    return build_docx(SPEECH)

