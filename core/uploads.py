"""Bounded cost for uploaded archives (.docx and .xlsx are zips), checked before any library parses them.

``check_zip`` refuses too many members, members or a total that expand too far and absurd compression ratios,
first from the declared sizes, then by decompressing every member once through a counting reader (declared
sizes can lie). With ``max_xml_elements`` the same pass feeds every XML member to expat: the tree a library
later builds costs memory per element, so the elements are counted, and DTDs are refused. ``read_member``
reads one member under the same cap. Refusals are ``UploadRejected`` with a Chinese message for the editor.
``member_name`` reads a member's name as its maker wrote it (GBK from Chinese Windows, UTF-8 from macOS).
"""

import io
import struct
import zipfile
import zlib
from xml.parsers import expat

CHUNK = 64 * 1024
MB = 1024 * 1024
# Compression ratios are only judged for members that expand beyond this (small XML parts compress very well).
RATIO_FLOOR = 1 * MB
XML_STARTS = (b"<", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
BROKEN = (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, NotImplementedError, ValueError)


class UploadRejected(ValueError):
    """An upload refused for its size or shape; the message is shown to the editor as it is."""


def mb(size):
    return f"{size / MB:.1f}"


def size_text(size):
    """A limit for the editor: "10 MB", "1.5 MB" or "4 KB"."""
    if size >= MB:
        return f"{size // MB} MB" if size % MB == 0 else f"{size / MB:.1f} MB"
    return f"{max(size // 1024, 1)} KB"


class BoundedReader(io.RawIOBase):
    """Wraps a file object; reading more than ``limit`` bytes raises UploadRejected(message)."""

    def __init__(self, raw, limit, message):
        self.raw, self.limit, self.message, self.count = raw, limit, message, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self.raw.read(min(len(buffer), self.limit - self.count + 1))
        self.count += len(data)
        if self.count > self.limit:
            raise UploadRejected(self.message)
        buffer[: len(data)] = data
        return len(data)


def open_zip(file, what="压缩包"):
    if isinstance(file, bytes | bytearray | memoryview):
        file = io.BytesIO(file)
    else:
        file.seek(0)
    try:
        return zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise UploadRejected(f"{what}已损坏，无法打开") from exc


UTF8_FLAG = 0x800
UNICODE_PATH_EXTRA = 0x7075
# What Chinese file names are made of. GBK bytes that happen to be valid UTF-8 (一 is D2 BB, "һ" in UTF-8)
# decode to other characters, so a flagless name is read as UTF-8 only when every character is one of these.
NAME_RANGES = ((0x2000, 0x206F), (0x2E80, 0x9FFF), (0xF900, 0xFAFF), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF))
# Files the system leaves in a compressed folder (compared in lower case); "__MACOSX/" and "._*" are macOS's.
SYSTEM_FILES = {"thumbs.db", "ehthumbs.db", "desktop.ini", ".ds_store"}


def _name_like(text):
    return all(char.isascii() or any(low <= ord(char) <= high for low, high in NAME_RANGES) for char in text)


def _unicode_path(info, raw):
    """The UTF-8 name of an Info-ZIP Unicode Path extra field (WinRAR and others), if it matches the header's."""
    extra, at = info.extra or b"", 0
    while at + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, at)
        body = extra[at + 4:at + 4 + size]
        at += 4 + size
        if kind == UNICODE_PATH_EXTRA and len(body) > 5 and body[0] == 1:
            if struct.unpack_from("<L", body, 1)[0] == zlib.crc32(raw):
                try:
                    return body[5:].decode("utf-8")
                except UnicodeDecodeError:
                    return None
    return None


def member_name(info):
    """A member's name as its maker meant it, with "/" between folders.

    Without the UTF-8 flag (bit 11) zipfile reads the name as cp437; Windows "compressed folders" write the
    system code page there (GBK on Chinese Windows) and macOS writes UTF-8, so the cp437 bytes are read again
    as UTF-8 (only when that gives name-like characters) or GB18030; when neither fits, zipfile's reading stays.
    """
    name = info.filename
    if not info.flag_bits & UTF8_FLAG and not name.isascii():
        try:
            raw = name.encode("cp437")
        except UnicodeEncodeError:  # the archive was opened with another metadata_encoding
            raw = None
        if raw is not None:
            name = _unicode_path(info, raw) or _decode_name(raw) or name
    return name.replace("\\", "/")


def _decode_name(raw):
    try:
        text = raw.decode("utf-8")
        if _name_like(text):
            return text
    except UnicodeDecodeError:
        pass
    for encoding in ("gb18030", "utf-8"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def member_parts(name):
    """(folders, file name) of a member name; empty, "." and ".." parts are dropped."""
    parts = [part for part in name.split("/") if part not in ("", ".", "..")]
    return parts[:-1], (parts[-1] if parts else "")


def is_system_file(name):
    """What an operating system adds to a compressed folder: __MACOSX/, ._ files, Thumbs.db, desktop.ini, …"""
    folders, base = member_parts(name)
    return (any(folder.lower() == "__macosx" for folder in folders) or base.startswith("._")
            or base.lower() in SYSTEM_FILES)


def _limit(max_member_size, name):
    return max_member_size(name) if callable(max_member_size) else max_member_size


def _name(info):
    return info.filename


def check_zip(file, max_members, max_member_size, max_total, max_ratio, *, what="压缩包", stream=True,
              max_xml_elements=None, watch=None, label=_name):
    """(ZipFile, members) of a zip given as bytes or a file object, after checking the limits.

    ``max_member_size`` is a number or a function of the member name. ``stream`` decompresses every member
    once (nothing is kept) to count the real sizes. ``watch(name)`` may return a callable that is given the
    local name of each start tag of that XML member and raises UploadRejected to refuse.
    """
    archive = open_zip(file, what)
    try:
        infos = archive.infolist()
    except BROKEN as exc:
        raise UploadRejected(f"{what}已损坏，无法打开") from exc
    if len(infos) > max_members:
        raise UploadRejected(f"{what}内的文件过多（{len(infos)} 个），最多 {max_members} 个，未处理")
    total_message = f"{what}解压后的总大小超过 {size_text(max_total)}，未处理"
    total = 0
    for info in infos:
        limit = _limit(max_member_size, info.filename)
        if info.file_size > limit:
            raise UploadRejected(f"{what}内的“{label(info)}”解压后过大（{mb(info.file_size)} MB），"
                                 f"单个不能超过 {size_text(limit)}，未处理")
        total += info.file_size
        if total > max_total:
            raise UploadRejected(total_message)
        if info.file_size > RATIO_FLOOR and info.file_size > max_ratio * max(info.compress_size, 1):
            ratio = info.file_size / max(info.compress_size, 1)
            raise UploadRejected(f"{what}内的“{label(info)}”压缩比异常（约 {ratio:.0f} 倍），疑似压缩炸弹，未处理")
    if stream:
        scan = _XmlBudget(max_xml_elements, what) if max_xml_elements else None
        counted = 0
        for info in infos:
            counted += _stream_member(archive, info, _limit(max_member_size, info.filename), what, label,
                                      keep=False, scan=scan, watch=watch)
            if counted > max_total:
                raise UploadRejected(total_message)
    return archive, infos


class _XmlBudget:
    def __init__(self, max_elements, what):
        self.left = max_elements
        self.what = what
        self.message = f"{what}的结构过于复杂（超过 {max_elements:,} 个 XML 元素），未处理"

    def parser(self, seen, strict):
        parser = expat.ParserCreate()

        def start(name, attrs):
            self.left -= 1
            if self.left < 0:
                raise UploadRejected(self.message)
            if seen is not None:
                seen(name.rpartition(":")[2])

        def refuse(*args):
            raise UploadRejected(f"{self.what}内含文档类型声明（DTD），不是正常的 Office 文件，未处理")

        parser.StartElementHandler = start
        if strict:
            parser.StartDoctypeDeclHandler = refuse
            parser.EntityDeclHandler = refuse
        return parser


def _open_member(archive, info, limit, what, label):
    if info.flag_bits & 0x1:
        raise UploadRejected(f"{what}内的“{label(info)}”已加密，无法解压")
    message = f"{what}内的“{label(info)}”解压后超过 {size_text(limit)}，未处理"
    return BoundedReader(archive.open(info), limit, message)


def _stream_member(archive, info, limit, what, label, keep, scan=None, watch=None):
    # Office parts named .xml/.rels must be well-formed and have no DTD. Any other member whose first bytes
    # look like XML is counted too (a part's content type, not its name, makes a library parse it) until it
    # stops being well-formed, where a library's parser would stop as well.
    out, size, parser, undecided = bytearray(), 0, None, scan is not None
    strict = info.filename.lower().endswith((".xml", ".rels"))
    try:
        reader = _open_member(archive, info, limit, what, label)
        while chunk := reader.read(CHUNK):
            if undecided and chunk.strip(b" \t\r\n"):
                undecided = False
                if strict or chunk.lstrip(b" \t\r\n").startswith(XML_STARTS):
                    parser = scan.parser(watch(info.filename) if watch else None, strict)
            size += len(chunk)
            if keep:
                out += chunk
            if parser is not None:
                parser = _feed(parser, chunk, strict, what, label(info))
        if parser is not None:
            _feed(parser, b"", strict, what, label(info), final=True)
    except UploadRejected:
        raise
    except BROKEN as exc:
        raise UploadRejected(f"{what}内的“{label(info)}”已损坏，无法解压") from exc
    return bytes(out) if keep else size


def _feed(parser, chunk, strict, what, name, final=False):
    try:
        parser.Parse(chunk, final)
    except expat.ExpatError as exc:
        if strict:
            raise UploadRejected(f"{what}内的“{name}”不是有效的 XML，文件已损坏") from exc
        return None
    return parser


def read_member(archive, info, limit, what="压缩包", label=_name):
    """One member's bytes, read through a counting reader capped at ``limit``."""
    return _stream_member(archive, info, limit, what, label, keep=True)
