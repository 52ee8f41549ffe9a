"""Helpers for the collective-enrolment tests: units, agents, rosters built from the real template."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from campaigns.creditcode import make_credit_code
from campaigns.idcard import make_id_number
from campaigns.roster import DATA_SHEET, build_template, columns_for, header_text
from campaigns.tests.conftest import MUTUAL_AID_BLOCK

AGENT_PASSWORD = "Dai-ban-2026-quan"
PLAN = "住院医疗互助（每份30元）"


def make_unit(name="武船工会", region="420106", serial="MC0000001"):
    from campaigns.models import Unit

    return Unit.objects.create(name=name, credit_code=make_credit_code(f"81{region}{serial}"), district="武昌区",
                               contact_person="王工", contact_phone="027-88888888")


def make_agent(unit, username="wuchuan", password=AGENT_PASSWORD, must_change=False, email="agent@example.org"):
    from django.contrib.auth import get_user_model

    from campaigns.models import UnitAgent

    user = get_user_model().objects.create_user(username, email=email, password=password, first_name="李代办")
    return UnitAgent.objects.create(user=user, unit=unit, must_change_password=must_change)


def person_id(n, year=1985):
    """A valid ID number, distinct for each n (birth date and sequence vary)."""
    day = 1 + n % 28
    month = 1 + (n // 28) % 12
    sequence = n // 336
    return make_id_number(f"420106{year}{month:02d}{day:02d}{sequence:03d}")


def gender_of(number):
    return "男" if int(number[16]) % 2 else "女"


def person_row(n, **overrides):
    number = overrides.pop("id_number", None) or person_id(n)
    gender = gender_of(number) if isinstance(number, str) else "男"
    row = {"name": f"职工{n}", "id_number": number, "gender": gender, "mobile": f"138{n:08d}",
           "category": "在职职工", "employer": "武汉船舶工业公司", "plan": PLAN, "shares": 1}
    row.update(overrides)
    return row


def form_block(campaign, block_id=MUTUAL_AID_BLOCK):
    return campaign.find_form_block(block_id)


def roster_bytes(campaign, unit, rows, block_id=MUTUAL_AID_BLOCK):
    """Fill the campaign's real template with rows ({column key: value}) as an agent would."""
    block = form_block(campaign, block_id)
    workbook = load_workbook(io.BytesIO(build_template(campaign, block, unit)))
    sheet = workbook[DATA_SHEET]
    keys = [column.key for column in columns_for(block.value)]
    assert [cell.value for cell in sheet[1]] == [header_text(c) for c in columns_for(block.value)]
    for offset, row in enumerate(rows, 2):
        for index, key in enumerate(keys, 1):
            if key in row:
                sheet.cell(row=offset, column=index, value=row[key])
    handle = io.BytesIO()
    workbook.save(handle)
    return handle.getvalue()


def roster_file(content, name="名单.xlsx"):
    return SimpleUploadedFile(name, content, content_type="application/vnd.openxmlformats-officedocument"
                                                           ".spreadsheetml.sheet")


def upload_url(campaign, block_id=MUTUAL_AID_BLOCK):
    return f"/agents/campaigns/{campaign.pk}/{block_id}/upload/"


def upload(client, campaign, unit, rows, block_id=MUTUAL_AID_BLOCK):
    """POST a roster; the response (302 to the preview on success)."""
    content = roster_bytes(campaign, unit, rows, block_id)
    return client.post(upload_url(campaign, block_id), {"roster": roster_file(content)})


def latest_upload():
    from campaigns.models import RosterUpload

    return RosterUpload.objects.order_by("-pk").first()
