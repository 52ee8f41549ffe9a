"""Bounded cost for uploaded archives (.docx and .xlsx are zips), checked before any library parses them.

``check_zip`` refuses too many members, members or a total that expand too far and absurd compression ratios,
first from the declared sizes, then by decompressing every member once through a counting reader (declared
sizes can lie). With ``max_xml_elements`` the same pass feeds every XML member to expat: the tree a library
later builds costs memory per element, so the elements are counted, and DTDs are refused. ``read_member``
reads one member under the same cap. Refusals are ``UploadRejected`` with a Chinese message for the editor.
"""

import io
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
