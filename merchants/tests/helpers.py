import io


def xlsx_bytes(rows, headings=None):
    from openpyxl import Workbook

    from merchants.importing import HEADINGS

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headings or HEADINGS)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, encoding="utf-8", headings=None):
    import csv

    from merchants.importing import HEADINGS

    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(headings or HEADINGS)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


GOOD_ROWS = [
    ["重庆老火锅", "餐饮", "渝中区", "解放碑民族路88号", "023-63861234", "11:00-23:00", "锅底免费，菜品9折",
     "2024-01-01", "2099-12-31", "是"],
    ["仁爱口腔诊所", "医疗", "南岸区", "南坪西路12号", "13812345678", "08:30-18:00", "洁牙半价", "", "", ""],
    ["新华书店", "购物", "江北区", "建新北路20号", "400-123-4567", "09:00-21:00", "购书9折", "2024/03/01", "", "是"],
]
