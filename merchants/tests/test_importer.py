import datetime

import pytest
from django.core.management import CommandError, call_command

from merchants.importing import (
    HEADINGS,
    ImportFileError,
    export_rows,
    plan_import,
    write_csv,
    write_xlsx,
)
from merchants.models import Merchant

from .helpers import GOOD_ROWS, csv_bytes, xlsx_bytes


def snapshot():
    return sorted(
        Merchant.objects.values_list(
            "pk", "name", "category__name", "district", "address", "phone", "opening_hours", "discount",
            "valid_from", "valid_to", "active", "updated_at",
        )
    )


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_good_csv_in_each_encoding(categories, encoding):
    plan = plan_import(csv_bytes(GOOD_ROWS, encoding), "商户.csv")
    assert plan.ok and [row.action for row in plan.rows] == ["create"] * 3
    plan.apply()
    hotpot = Merchant.objects.get(name="重庆老火锅")
    assert hotpot.category.name == "餐饮" and hotpot.district == "渝中区" and hotpot.phone == "023-63861234"
    assert hotpot.valid_from == datetime.date(2024, 1, 1) and hotpot.valid_to == datetime.date(2099, 12, 31)
    assert hotpot.discount == "锅底免费，菜品9折" and hotpot.active
    books = Merchant.objects.get(name="新华书店")
    assert books.valid_from == datetime.date(2024, 3, 1) and books.valid_to is None
    assert books.sort_key == "xin1 hua2 shu1 dian4"


def test_good_xlsx_with_real_dates_and_numeric_phone(categories):
    rows = [list(row) for row in GOOD_ROWS]
    rows[0][7], rows[0][8] = datetime.datetime(2024, 1, 1), datetime.date(2099, 12, 31)
    rows[1][4] = 13812345678  # Excel turned the mobile number into a number
    plan = plan_import(xlsx_bytes(rows), "商户.xlsx")
    assert plan.ok, plan.error_lines()
    plan.apply()
    assert Merchant.objects.count() == 3
    assert Merchant.objects.get(name="仁爱口腔诊所").phone == "13812345678"
    assert Merchant.objects.get(name="重庆老火锅").valid_from == datetime.date(2024, 1, 1)
    assert "新建 3 家" in plan.summary()


def test_each_kind_of_bad_row_is_reported_with_row_number(categories):
    rows = GOOD_ROWS + [
        ["", "餐饮", "渝中区", "无名路1号", "13812345678", "", "9折", "", "", ""],
        ["神秘商户", "宠物", "渝中区", "宠物路1号", "", "", "9折", "", "", ""],
        ["电话错误店", "餐饮", "渝中区", "电话路1号", "12345678901234", "", "9折", "", "", ""],
        ["日期颠倒店", "餐饮", "渝中区", "日期路1号", "", "", "9折", "2025-06-01", "2025-01-01", ""],
        ["坏日期店", "餐饮", "渝中区", "坏日期路1号", "", "", "9折", "明年", "2025-02-30", ""],
        ["没优惠店", "餐饮", "渝中区", "没优惠路1号", "", "", "", "", "", ""],
        ["没类别店", "", "渝中区", "没类别路1号", "", "", "9折", "", "", ""],
        ["状态错误店", "餐饮", "渝中区", "状态路1号", "", "", "9折", "", "", "也许"],
        ["重庆老火锅", "餐饮", "渝中区", "解放碑民族路88号", "", "", "重复一行", "", "", ""],
    ]
    plan = plan_import(csv_bytes(rows), "坏数据.csv")
    assert not plan.ok
    errors = {row.row_number: "；".join(row.errors) for row in plan.rejected}
    assert set(errors) == set(range(5, 14))
    assert errors[5] == "缺少商户名称"
    assert "类别“宠物”不存在" in errors[6] and "餐饮" in errors[6]
    assert "电话“12345678901234”格式不正确" in errors[7]
    assert errors[8] == "有效期结束（2025-01-01）早于开始（2025-06-01）"
    assert "有效期开始“明年”不是有效日期" in errors[9] and "有效期结束“2025-02-30”不是有效日期" in errors[9]
    assert errors[10] == "缺少优惠内容"
    assert errors[11] == "缺少类别"
    assert "是否启用“也许”无法识别" in errors[12]
    assert errors[13] == "与第 2 行是同一商户（名称和地址相同）"
    assert plan.error_lines()[0] == "第 5 行（无名称）：缺少商户名称"
    assert [row.action for row in plan.rows[:3]] == ["create"] * 3
    # the whole import is refused: even the good rows are not written
    with pytest.raises(ImportFileError, match="未导入任何数据"):
        plan.apply()
    assert Merchant.objects.count() == 0


def test_reimport_updates_instead_of_duplicating(categories):
    plan_import(csv_bytes(GOOD_ROWS), "第一次.csv").apply()
    ids = dict(Merchant.objects.values_list("name", "pk"))
    again = plan_import(csv_bytes(GOOD_ROWS), "第二次.csv")
    assert [row.action for row in again.rows] == ["unchanged"] * 3
    before = snapshot()
    again.apply()
    assert snapshot() == before

    changed = [list(row) for row in GOOD_ROWS]
    changed[0][6] = "锅底免费，菜品8折"
    changed[1][1] = "生活服务"
    changed[2][9] = "否"
    third = plan_import(csv_bytes(changed), "第三次.csv")
    assert [row.action for row in third.rows] == ["update"] * 3
    assert third.rows[0].changes == ["优惠内容"] and third.rows[1].changes == ["类别"]
    third.apply()
    assert Merchant.objects.count() == 3 and dict(Merchant.objects.values_list("name", "pk")) == ids
    assert Merchant.objects.get(name="重庆老火锅").discount == "锅底免费，菜品8折"
    assert Merchant.objects.get(name="仁爱口腔诊所").category.name == "生活服务"
    assert not Merchant.objects.get(name="新华书店").active


def test_same_name_other_address_is_another_branch(categories):
    plan_import(csv_bytes(GOOD_ROWS), "a.csv").apply()
    branch = [["重庆老火锅", "餐饮", "江北区", "观音桥步行街1号", "", "", "9折", "", "", ""]]
    assert plan_import(csv_bytes(branch), "b.csv").rows[0].action == "create"


def test_failure_while_writing_rolls_everything_back(categories, monkeypatch):
    plan_import(csv_bytes(GOOD_ROWS[:1]), "a.csv").apply()
    rows = [list(GOOD_ROWS[0]), *GOOD_ROWS[1:]]
    rows[0][6] = "新优惠"
    plan = plan_import(csv_bytes(rows), "b.csv")

    def broken(*args, **kwargs):
        raise RuntimeError("索引写入失败")

    # the search index is written last, after every row: its failure must undo the rows too
    monkeypatch.setattr("wagtail.search.backends.get_search_backends", broken)
    with pytest.raises(RuntimeError):
        plan.apply()
    assert Merchant.objects.count() == 1 and Merchant.objects.get().discount == "锅底免费，菜品9折"
    assert [row.action for row in plan.rows] == ["update", "create", "create"]


@pytest.mark.parametrize(
    "data, filename, message",
    [
        (b"", "empty.csv", "文件是空的"),
        ("名字,电话\n张三,1\n".encode(), "x.csv", "第 1 行缺少表头：商户名称、类别、优惠内容"),
        (b"\xff\xfe\x00\x00garbage\x81\x00", "x.csv", "CSV"),
        (b"PK\x03\x04not really a zip", "x.xlsx", "无法读取 Excel 文件"),
        (b"%PDF-1.4", "x.pdf", "不支持的文件类型"),
        (",".join(HEADINGS).encode() + b"\n,,,,,,,,,\n", "x.csv", "没有商户数据"),
    ],
)
def test_unreadable_files_are_refused_in_chinese(categories, data, filename, message):
    with pytest.raises(ImportFileError, match=message):
        plan_import(data, filename)


def test_header_aliases_and_column_order(categories):
    headings = ["优惠", "名称", "分类", "联系电话", "地址"]
    rows = [["9折", "别名商户", "餐饮", "13812345678", "别名路1号"]]
    plan = plan_import(csv_bytes(rows, headings=headings), "alias.csv")
    assert plan.ok
    plan.apply()
    assert Merchant.objects.get(name="别名商户").phone == "13812345678"


def test_export_round_trip_changes_nothing(categories, make_merchant, today):
    make_merchant("重庆老火锅", district="渝中区", phone="023-63861234", opening_hours="11:00-23:00",
                  valid_from=datetime.date(2024, 1, 1), valid_to=datetime.date(2030, 6, 30))
    make_merchant("停用超市", "购物", active=False, address="")
    make_merchant("过期店", "医疗", valid_to=today - datetime.timedelta(days=3), discount="洁牙半价, \"特价\"")
    before = snapshot()
    for data, name in [(write_xlsx(export_rows(Merchant.objects.all())), "export.xlsx"),
                       (write_csv(export_rows(Merchant.objects.all())), "export.csv"),
                       (write_csv(export_rows(Merchant.objects.all()), encoding="gbk"), "export-gbk.csv")]:
        plan = plan_import(data, name)
        assert [row.action for row in plan.rows] == ["unchanged"] * 3, plan.error_lines()
        plan.apply()
        assert snapshot() == before


def test_management_command(categories, tmp_path, capsys):
    good = tmp_path / "商户.xlsx"
    good.write_bytes(xlsx_bytes(GOOD_ROWS))
    call_command("import_merchants", str(good), "--dry-run")
    assert "试运行" in capsys.readouterr().out and Merchant.objects.count() == 0
    call_command("import_merchants", str(good))
    assert "新建 3 家" in capsys.readouterr().out and Merchant.objects.count() == 3

    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([["坏电话", "餐饮", "", "", "abc", "", "9折", "", "", ""]], "gbk"))
    with pytest.raises(CommandError, match="未导入任何数据"):
        call_command("import_merchants", str(bad))
    assert "第 2 行（坏电话）：电话“abc”格式不正确" in capsys.readouterr().err
    with pytest.raises(CommandError, match="找不到文件"):
        call_command("import_merchants", str(tmp_path / "missing.xlsx"))
    assert Merchant.objects.count() == 3

