"""Preview and confirm a 5,000-row roster (500 of them already enrolled on their own): time and peak memory.

Runs on a throw-away SQLite database and, when reachable, PostgreSQL (PG_BENCH_URL). Each step runs twice:
once for the time, once under tracemalloc for the peak Python memory (tracemalloc slows it down).
"""

import datetime
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._db import configure, pg_available  # noqa: E402

ROWS = int(os.environ.get("BENCH_ROSTER_ROWS", "5000"))
ALREADY = ROWS // 10


def setup_campaign(slug):
    from campaigns.models import CampaignIndexPage, CampaignPage
    from campaigns.tests.conftest import body
    from home.models import HomePage

    home = HomePage.objects.get()
    index = CampaignIndexPage.objects.first() or home.add_child(
        instance=CampaignIndexPage(title="活动专题", slug="campaigns"))
    today = datetime.date.today()
    page = CampaignPage(title=f"名单测试{slug}", slug=slug, start_date=today - datetime.timedelta(days=1),
                        end_date=today + datetime.timedelta(days=30), body=body())
    index.add_child(instance=page)
    page.save_revision().publish()
    return CampaignPage.objects.get(pk=page.pk)


def enrol_individually(campaign, block, count):
    from campaigns.models import Enrolment
    from campaigns.tests.collective import person_id

    objects = []
    for n in range(count):
        enrolment = Enrolment(campaign=campaign, block_id=block.id, form_kind="mutual_aid", form_title="医疗互助",
                              name=f"职工{n}", mobile="13800000000", employer="单位", branch="工会", consent=True)
        enrolment.set_id_number(person_id(n))
        objects.append(enrolment)
    Enrolment.objects.bulk_create(objects)


def run(campaign, unit, user, content, traced):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from campaigns import roster

    block = campaign.form_blocks()[0]
    figures = {}
    for step in ("preview", "confirm"):
        if traced:
            tracemalloc.start()
        started = time.perf_counter()
        if step == "preview":
            upload = roster.preview(campaign, block, unit, user, SimpleUploadedFile("名单.xlsx", content))
        else:
            created, updated, _ = roster.confirm(upload, user)
        figures[step] = time.perf_counter() - started
        if traced:
            figures[step + "_peak"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
    upload.refresh_from_db()
    figures["counts"] = (upload.total_rows, upload.new_count, upload.enrolled_count, created)
    return figures


def main(vendor):
    drop = configure(vendor, "bench_roster")
    os.environ["PORTAL_VAR_DIR"] = os.environ.get("PORTAL_VAR_DIR") or tempfile.mkdtemp(prefix="roster-")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.ROSTER_DIR = Path(tempfile.mkdtemp(prefix="rosters-"))
    try:
        call_command("migrate", verbosity=0, interactive=False)
        from django.contrib.auth import get_user_model
        from django.db import connection

        from campaigns.tests.collective import make_unit, person_row, roster_bytes

        unit = make_unit()
        user = get_user_model().objects.create_user("bench-agent", password="x" * 12)
        results = []
        for traced in (False, True):
            campaign = setup_campaign("traced" if traced else "timed")
            enrol_individually(campaign, campaign.form_blocks()[0], ALREADY)
            started = time.perf_counter()
            content = roster_bytes(campaign, unit, [person_row(n) for n in range(ROWS)])
            built = time.perf_counter() - started
            results.append(run(campaign, unit, user, content, traced))
        timed, traced = results
        total, new, enrolled, created = timed["counts"]
        print(f"[{connection.vendor}] roster of {total} rows ({len(content) / 1024:.0f} KB .xlsx, built in "
              f"{built:.1f} s): {new} new, {enrolled} already enrolled, {created} stored")
        print(f"[{connection.vendor}]   preview {timed['preview']:.2f} s, confirm {timed['confirm']:.2f} s; "
              f"peak Python memory preview {traced['preview_peak']:.1f} MB, confirm {traced['confirm_peak']:.1f} MB; "
              f"process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    finally:
        drop()


if __name__ == "__main__":
    vendors = sys.argv[1:] or ["sqlite"] + (["postgresql"] if pg_available() else [])
    if len(vendors) > 1:
        import subprocess

        for vendor in vendors:
            subprocess.run([sys.executable, __file__, vendor], check=True)
    else:
        main(vendors[0])
