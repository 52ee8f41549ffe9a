"""Unified social credit codes (统一社会信用代码, GB 32100-2015)."""

import re
import unicodedata

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
CODE_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")
# Registration authority (position 1): 8 is 工会, whose institution type 1 is 基层工会.
AUTHORITIES = "123456789ANY"


class CreditCodeError(ValueError):
    pass


def check_char(first17):
    total = sum(ALPHABET.index(char) * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalise_code(value):
    return "".join(unicodedata.normalize("NFKC", value or "").split()).upper()


def validate_credit_code(value):
    """Return the normalised code or raise CreditCodeError with a Chinese message."""
    code = normalise_code(value)
    if not code:
        raise CreditCodeError("请填写统一社会信用代码。")
    if len(code) != 18:
        raise CreditCodeError(f"统一社会信用代码应为18位，现为{len(code)}位。")
    if not CODE_RE.match(code):
        raise CreditCodeError("统一社会信用代码含有不允许的字符：只能是数字和除 I、O、Z、S、V 以外的大写字母，"
                              "第3至8位为行政区划代码（数字）。")
    if code[0] not in AUTHORITIES:
        raise CreditCodeError("统一社会信用代码第1位（登记管理部门代码）无效。")
    if check_char(code[:17]) != code[17]:
        raise CreditCodeError("统一社会信用代码校验位不正确，请核对是否输错。")
    return code


def make_credit_code(first17):
    """Complete 17 characters with their check character (tests and demo data)."""
    return first17 + check_char(first17)
