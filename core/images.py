"""Every image that enters the site is decoded by Pillow and stored under the extension of its real format.

``verify_image`` is used by the Word import; ``SafeImageForm`` (``WAGTAILIMAGES_IMAGE_FORM_BASE``) puts the
same check on Wagtail's image upload (single, multiple and chooser), so a page named ``.png`` that is really
HTML is refused and a JPEG named ``.png`` is stored as ``.jpg``.
"""

import io
import re
import struct
import warnings
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms import FileField
from PIL import Image, UnidentifiedImageError
from wagtail.images.fields import WagtailImageField
from wagtail.images.forms import BaseImageForm

# Pillow format -> stored extension. Nothing else (SVG, HTML, PSD, TIFF…) is accepted.
FORMATS = {"PNG": "png", "JPEG": "jpg", "GIF": "gif", "WEBP": "webp"}
ALLOWED_TEXT = "PNG、JPEG、GIF、WebP"
DEFAULT_MAX_PIXELS = 50_000_000
MAX_FRAMES = 500


class ImageRejected(ValueError):
    """Not an image the site stores; the message is for the editor (Chinese)."""


@dataclass(frozen=True)
class VerifiedImage:
    ext: str
    width: int
    height: int


def max_pixels():
    return getattr(settings, "WAGTAILIMAGES_MAX_IMAGE_PIXELS", None) or DEFAULT_MAX_PIXELS


def verify_image(source):
    """Open, verify and re-open ``source`` (bytes or a file object) with Pillow; raises ImageRejected."""
    file = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
    limit = max_pixels()
    not_image = ImageRejected(f"不是有效的图片（只支持 {ALLOWED_TEXT}）")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            file.seek(0)
            with Image.open(file) as image:
                _check_pixels(image, limit)
                image.verify()
            file.seek(0)
            with Image.open(file) as image:
                fmt = image.format
                if fmt not in FORMATS:
                    raise not_image
                frames = _frames(image)
                _check_pixels(image, limit, frames)
                width, height = image.size
    except ImageRejected:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise ImageRejected(f"图片像素过多，超过 {limit // 1_000_000} 百万像素，疑似解压炸弹") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, TypeError, IndexError,
            struct.error) as exc:
        raise not_image from exc
    finally:
        file.seek(0)
    return VerifiedImage(FORMATS[fmt], width, height)


def _frames(image):
    frames = getattr(image, "n_frames", 1) or 1
    if frames > MAX_FRAMES:
        raise ImageRejected(f"动图帧数过多（{frames} 帧），最多 {MAX_FRAMES} 帧")
    return frames


def _check_pixels(image, limit, frames=1):
    width, height = image.size
    if width * height * frames > limit:
        raise ImageRejected(f"图片像素过多（{width}×{height}"
                            f"{f'×{frames} 帧' if frames > 1 else ''}），不能超过 {limit // 1_000_000} 百万像素")


def safe_name(name, ext, default="image"):
    """``name``'s stem (letters, digits, - and _ only: no second extension) with the real extension."""
    stem = re.sub(r"[^\w-]+", "-", PurePath(str(name or "")).name.split(".", 1)[0]).strip("-_")
    return f"{stem[:60] or default}.{ext}"


class SafeImageField(WagtailImageField):
    """Wagtail's image field, with Pillow verification; the stored name takes the real format's extension."""

    def to_python(self, data):
        if FileField.to_python(self, data) is None:
            return None
        try:
            verified = verify_image(data)
        except ImageRejected as exc:
            raise ValidationError(f"{exc}，未上传", code="invalid_image") from exc
        f = super().to_python(data)
        f.name = safe_name(f.name, verified.ext)
        return f

    def check_image_file_format(self, f):
        # The extension is replaced by the real format in to_python; Willow's format is checked there by Pillow.
        if (f.image.format_name or "").upper() not in {"PNG", "JPEG", "GIF", "WEBP"}:
            raise ValidationError(f"不是有效的图片（只支持 {ALLOWED_TEXT}），未上传", code="invalid_image")


class SafeImageForm(BaseImageForm):
    """Base form for every Wagtail image form (``WAGTAILIMAGES_IMAGE_FORM_BASE``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("file")
        if field is not None and not isinstance(field, SafeImageField):
            self.fields["file"] = SafeImageField(label=field.label, required=field.required, widget=field.widget)
