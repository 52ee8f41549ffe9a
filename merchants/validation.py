"""Field rules shared by the admin form and the spreadsheet importer."""

import re

from django.core.exceptions import ValidationError

PHONE_HELP = "手机号（11位）、座机（如 023-63861234）或 400/800 热线；多个号码用“/”分隔"
_PHONE_PATTERNS = [
    re.compile(r"^1[3-9]\d{9}$"),  # mobile
    re.compile(r"^(0\d{2,3}-?)?[2-9]\d{6,7}(-\d{1,6})?$"),  # landline, optional area code and extension
    re.compile(r"^[48]00-?\d{3}-?\d{4}$"),  # 400/800 hotlines
    re.compile(r"^9\d{4}$|^1\d{4}$"),  # five-digit service numbers such as 95588, 12351
]


def normalise_phone(value):
    value = (value or "").strip()
    for old, new in (("－", "-"), ("—", "-"), ("／", "/"), ("（", "("), ("）", ")"), ("　", " ")):
        value = value.replace(old, new)
    parts = [re.sub(r"[\s()]", "", part) for part in value.split("/")]
    return "/".join(part for part in parts if part)


def phone_is_valid(value):
    value = normalise_phone(value)
    if not value:
        return True
    return all(any(p.match(part) for p in _PHONE_PATTERNS) for part in value.split("/"))


def validate_phone(value):
    if not phone_is_valid(value):
        raise ValidationError("电话号码格式不正确：%(value)s", params={"value": value}, code="bad_phone")
