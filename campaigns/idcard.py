"""Mainland resident ID numbers (GB 11643-1999) and mobile numbers."""

import datetime
import re

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
ID_RE = re.compile(r"^\d{17}[\dX]$")
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


class IdNumberError(ValueError):
    pass


def check_digit(first17):
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def normalise_id(value):
    return (value or "").strip().replace(" ", "").upper()


def validate_id_number(value, today=None):
    """Return the normalised number or raise IdNumberError with a Chinese message."""
    number = normalise_id(value)
    if not number:
        raise IdNumberError("请填写身份证号。")
    if not ID_RE.match(number):
        raise IdNumberError("身份证号应为18位：前17位为数字，最后一位为数字或X。")
    try:
        born = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdNumberError("身份证号中的出生日期无效，请核对第7至14位。") from None
    today = today or datetime.date.today()
    if born > today or born.year < 1870:
        raise IdNumberError("身份证号中的出生日期无效，请核对第7至14位。")
    if check_digit(number[:17]) != number[17]:
        raise IdNumberError("身份证号校验位不正确，请检查是否输错。")
    return number


def make_id_number(prefix17):
    """Complete 17 digits with their check digit (used by tests and the load test)."""
    return prefix17 + check_digit(prefix17)


def mask_id_number(number):
    if not number:
        return ""
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def normalise_mobile(value):
    number = re.sub(r"[\s-]", "", value or "")
    if number.startswith("+86"):
        number = number[3:]
    return number


def is_valid_mobile(value):
    return bool(MOBILE_RE.match(normalise_mobile(value)))
