import datetime

import pytest

from campaigns.idcard import (
    IdNumberError,
    check_digit,
    is_valid_mobile,
    make_id_number,
    mask_id_number,
    normalise_id,
    normalise_mobile,
    normalise_name,
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


@pytest.mark.parametrize("raw", ["１１０１０５１９４９１２３１００２ｘ", "１１０１０５ １９４９１２３１　００２Ｘ",
                                 "110105-19491231-002x", "\u200b11010519491231002X\u2060",
                                 "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X"])
def test_unicode_forms_are_normalised_to_ascii(raw):
    assert normalise_id(raw) == "11010519491231002X"
    assert validate_id_number(raw) == "11010519491231002X"


@pytest.mark.parametrize("region", ["00", "10", "16", "20", "24", "30", "38", "40", "47", "49", "55", "60", "66",
                                    "70", "72", "80", "83", "90", "99"])
def test_unknown_province_codes_are_refused(region):
    with pytest.raises(IdNumberError) as error:
        validate_id_number(make_id_number(region + "010519491231002"))
    assert "省级行政区划代码" in str(error.value)


@pytest.mark.parametrize("region", ["11", "15", "21", "23", "31", "37", "41", "46", "50", "54", "61", "65", "71",
                                    "81", "82"])
def test_known_province_codes_are_accepted(region):
    number = make_id_number(region + "010519491231002")
    assert validate_id_number(number) == number


def test_age_range():
    number = make_id_number("11010520100601002")
    day = datetime.date(2026, 6, 1)
    assert validate_id_number(number, today=day, age_range=(16, 70)) == number
    with pytest.raises(IdNumberError) as error:
        validate_id_number(number, today=day - datetime.timedelta(days=1), age_range=(16, 70))
    assert str(error.value) == "根据身份证号，年龄须在16至70周岁之间。"


def test_names_and_mobiles_are_normalised():
    assert normalise_name("\u202a王\u200b 小\u3000\u3000明\ufeff ") == "王 小 明"
    assert normalise_name("ＡＢＣ") == "ABC"
    assert normalise_mobile("＋８６（１３８）１２３４　５６７８") == "13812345678"


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
