"""Export 100,000 enrolments to CSV and .xlsx through the admin export view; print time and peak memory."""

import datetime
import os
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make_rows(campaign, count, batch=5000):
    from campaigns import crypto
    from campaigns.idcard import make_id_number, mask_id_number
    from campaigns.models import Enrolment

    token = crypto.encrypt(make_id_number("42010619900307123"))
    objects = []
    for n in range(count):
        number = make_id_number(f"420106{datetime.date(1950, 1, 1) + datetime.timedelta(days=n % 20000):%Y%m%d}"
                                f"{n // 20000:03d}")
        objects.append(Enrolment(
            campaign=campaign, block_id="bench", form_kind="mutual_aid", form_title="医疗互助",
            reference=f"HZ-B-{n:06d}",
            name=f"职工{n}", id_number_encrypted=token, id_number_hash=crypto.lookup_hash(number),
            id_number_masked=mask_id_number(number), mobile="13800000000", employer="单位", branch=f"工会{n % 50}",
            plan="住院医疗互助", shares=1, consent=True))
        if len(objects) == batch:
            Enrolment.objects.bulk_create(objects)
            objects = []
    Enrolment.objects.bulk_create(objects)


def measure(request_factory, user, fmt):
    from campaigns.admin_views import export_view

    request = request_factory.get(f"/admin/enrolments/export/{fmt}/")
    request.user = user
    tracemalloc.start()
    started = time.perf_counter()
    response = export_view(request, fmt)
    size = 0
    lines = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\n")
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"format": fmt, "seconds": round(elapsed, 1), "bytes": size, "lines": lines,
            "peak_python_memory_mb": round(peak / 2**20, 1)}


def main(count=100_000):
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import RequestFactory
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment()
    old = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from campaigns.models import CampaignIndexPage, CampaignPage
        from home.models import HomePage

        home = HomePage.objects.get()
        index = home.add_child(instance=CampaignIndexPage(title="活动专题", slug="campaigns"))
        campaign = index.add_child(instance=CampaignPage(title="导出测试", slug="export",
                                                         start_date=datetime.date(2026, 1, 1)))
        make_rows(campaign, count)
        user = get_user_model().objects.create_superuser("bench", "b@example.org", "x" * 12)
        for fmt in ("csv", "xlsx"):
            figures = measure(RequestFactory(), user, fmt)
            print(f"[{connection.vendor}] export {count} rows to {fmt}: {figures['seconds']} s, "
                  f"{figures['bytes'] / 2**20:.1f} MB, peak Python memory {figures['peak_python_memory_mb']} MB")
    finally:
        connection.creation.destroy_test_db(old, verbosity=0)
        teardown_test_environment()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")
    import django

    django.setup()
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
