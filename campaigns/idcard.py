"""Mainland resident ID numbers (GB 11643-1999), names and mobile numbers."""

import datetime
import re
import unicodedata

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
ID_RE = re.compile(r"^[0-9]{17}[0-9X]$", re.ASCII)
MOBILE_RE = re.compile(r"^1[3-9][0-9]{9}$", re.ASCII)
# GB/T 2260 province-level codes (first two digits).
PROVINCE_CODES = frozenset(
    [11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54,
     61, 62, 63, 64, 65, 71, 81, 82]
)
DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
INVALID_BIRTH = "身份证号中的出生日期无效，请核对第7至14位。"


class IdNumberError(ValueError):
    pass


def check_digit(first17):
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def _ascii_digits(value):
    """NFKC, then every Unicode decimal digit to ASCII; spaces, dashes and invisible characters dropped."""
    out = []
    for char in unicodedata.normalize("NFKC", value or ""):
        if char.isspace() or char in DASHES or unicodedata.category(char) == "Cf":
            continue
        digit = unicodedata.decimal(char, None)
        out.append(str(digit) if digit is not None else char)
    return "".join(out)


def normalise_id(value):
    return _ascii_digits(value).upper()


def birth_date(number):
    return datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def age_on(born, day):
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def validate_id_number(value, today=None, age_range=None):
    """Return the normalised number or raise IdNumberError with a Chinese message."""
    number = normalise_id(value)
    if not number:
        raise IdNumberError("请填写身份证号。")
    if not ID_RE.match(number):
        raise IdNumberError("身份证号应为18位：前17位为数字，最后一位为数字或X。")
    if int(number[:2]) not in PROVINCE_CODES:
        raise IdNumberError("身份证号前两位不是有效的省级行政区划代码，请核对。")
    try:
        born = birth_date(number)
    except ValueError:
        raise IdNumberError(INVALID_BIRTH) from None
    today = today or datetime.date.today()
    if born > today or born.year < 1870:
        raise IdNumberError(INVALID_BIRTH)
    if check_digit(number[:17]) != number[17]:
        raise IdNumberError("身份证号校验位不正确，请检查是否输错。")
    if age_range is not None:
        low, high = age_range
        if not low <= age_on(born, today) <= high:
            raise IdNumberError(f"根据身份证号，年龄须在{low}至{high}周岁之间。")
    return number


def make_id_number(prefix17):
    """Complete 17 digits with their check digit (used by tests and the load test)."""
    return prefix17 + check_digit(prefix17)


def mask_id_number(number):
    if not number:
        return ""
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def normalise_name(value):
    """Invisible and bidi control characters removed, NFKC, inner whitespace collapsed."""
    text = "".join(char for char in (value or "") if unicodedata.category(char) != "Cf")
    return " ".join(unicodedata.normalize("NFKC", text).split())


def has_letter(value):
    return any(unicodedata.category(char).startswith("L") for char in value)


def normalise_mobile(value):
    number = _ascii_digits(value).replace("(", "").replace(")", "")
    if number.startswith("+86"):
        number = number[3:]
    return number


def is_valid_mobile(value):
    return bool(MOBILE_RE.match(normalise_mobile(value)))
