import datetime

import pytest

from campaigns.idcard import (
    IdNumberError,
    check_digit,
    is_valid_mobile,
    make_id_number,
    mask_id_number,
    validate_id_number,
)

VALID = [
    "11010519491231002X",  # GB 11643 example with X check digit
    "440524188001010014",
    "110101199003074477",
    make_id_number("42010619900307123"),
]


@pytest.mark.parametrize("number", VALID)
def test_valid_numbers(number):
    assert validate_id_number(number) == number


def test_lower_case_x_and_spaces_are_normalised():
    assert validate_id_number(" 11010519491231002x ") == "11010519491231002X"


def test_x_check_digit_computed():
    assert check_digit("11010519491231002") == "X"


@pytest.mark.parametrize(
    "number,message",
    [
        ("", "请填写身份证号。"),
        ("1101051949123100", "身份证号应为18位"),
        ("11010519491231002Y", "身份证号应为18位"),
        ("110105194912310021", "身份证号校验位不正确"),
        ("110105194912310020", "身份证号校验位不正确"),
        ("440524188001010015", "身份证号校验位不正确"),
        (make_id_number("11010519490231002"), "出生日期无效"),  # 2月31日
        (make_id_number("11010521000101002"), "出生日期无效"),  # future
        (make_id_number("11010518000101002"), "出生日期无效"),
    ],
)
def test_invalid_numbers(number, message):
    with pytest.raises(IdNumberError) as error:
        validate_id_number(number, today=datetime.date(2026, 11, 25))
    assert message in str(error.value)


def test_mask():
    assert mask_id_number("420106199003071234") == "4201**********1234"


@pytest.mark.parametrize("mobile,ok", [("13812345678", True), ("+86 138-1234-5678", True), ("12812345678", False),
                                       ("1381234567", False), ("23812345678", False), ("1381234567a", False)])
def test_mobile(mobile, ok):
    assert is_valid_mobile(mobile) is ok
