import pytest

from campaigns.creditcode import WEIGHTS, CreditCodeError, check_char, make_credit_code, validate_credit_code


def test_weights_are_powers_of_three_mod_31():
    assert WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


@pytest.mark.parametrize("code", [
    "91350100M000100Y43",  # the example printed in GB 32100-2015 guidance
    "91110000600037341L",
    make_credit_code("81420106MC0000001"),  # a 基层工会 (authority 8 = 工会, type 1)
])
def test_valid_codes(code):
    assert validate_credit_code(code) == code


def test_check_character_computed_by_hand():
    # 8·1 + 1·3 + 4·9 + 2·27 + 0·19 + 1·26 + 0·16 + 6·17 + M(21)·20 + C(12)·29 + 0… + 1·28 = 1025
    # 1025 mod 31 = 2; 31 − 2 = 29, the 30th character of the alphabet: X
    assert 8 + 3 + 36 + 54 + 26 + 102 + 420 + 348 + 28 == 1025
    assert check_char("81420106MC0000001") == "X"
    assert check_char("91350100M000100Y4") == "3"


def test_normalises_spaces_full_width_and_case():
    assert validate_credit_code(" 9135 0100m000100y43 ") == "91350100M000100Y43"
    assert validate_credit_code("９１３５０１００Ｍ０００１００Ｙ４３") == "91350100M000100Y43"


@pytest.mark.parametrize("code,message", [
    ("", "请填写统一社会信用代码。"),
    ("91350100M000100Y4", "统一社会信用代码应为18位，现为17位。"),
    ("91350100M000100Y44", "统一社会信用代码校验位不正确，请核对是否输错。"),
    ("91350100M000100I43", "含有不允许的字符"),
    ("9135A100M000100Y43", "含有不允许的字符"),
    ("Z1350100M000100Y43", "含有不允许的字符"),
    ("B1350100M000100Y43", "第1位（登记管理部门代码）无效"),
])
def test_invalid_codes(code, message):
    with pytest.raises(CreditCodeError) as error:
        validate_credit_code(code)
    assert message in str(error.value)


def test_every_single_character_error_is_caught():
    code = make_credit_code("81420106MC0000001")
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    for position in range(17):
        for char in alphabet:
            if char == code[position] or (2 <= position < 8 and not char.isdigit()):
                continue
            wrong = code[:position] + char + code[position + 1:]
            if wrong[0] in "123456789ANY":
                with pytest.raises(CreditCodeError):
                    validate_credit_code(wrong)


def test_model_rejects_bad_code_in_chinese(db):
    from django.core.exceptions import ValidationError

    from campaigns.models import Unit

    unit = Unit(name="测试工会", credit_code="91350100M000100Y44")
    with pytest.raises(ValidationError) as error:
        unit.full_clean()
    assert "校验位不正确" in str(error.value.message_dict["credit_code"])
