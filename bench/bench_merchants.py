"""Import time for 5,000 merchants (xlsx and GBK CSV) on a fresh database, the admin's import job
(confirm → task worker) with its rows per second, and the admin's preview requests for BENCH_PREVIEW_ROWS
(20,000) rows: the upload request, the check job when the file is large, and one preview page.

make bench-merchants                      # temporary SQLite database
BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench make bench-merchants
BENCH_PART=preview .venv/bin/python bench/bench_merchants.py   # the preview requests only
"""

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROWS = int(os.environ.get("BENCH_ROWS", "5000"))
PREVIEW_ROWS = int(os.environ.get("BENCH_PREVIEW_ROWS", "20000"))
CATEGORIES = ["购物", "餐饮", "医疗", "出行", "文体", "教育培训", "生活服务"]


def setup_django(var_dir):
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings.dev"
    os.environ["PORTAL_VAR_DIR"] = var_dir
    os.environ["LOG_LEVEL"] = "WARNING"
    if os.environ.get("BENCH_DATABASE_URL"):
        os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
    else:
        os.environ.pop("DATABASE_URL", None)
        os.environ["SQLITE_PATH"] = str(Path(var_dir) / "bench.sqlite3")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from merchants.models import Category, Merchant

    Merchant.objects.all().delete()  # a reused PostgreSQL database starts empty too
    for name in CATEGORIES:
        Category.objects.get_or_create(name=name)


def make_rows(count, discount="持卡消费9折"):
    categories = CATEGORIES
    districts = ["渝中区", "江北区", "南岸区", "沙坪坝区", "九龙坡区", "渝北区", "大渡口区", "巴南区"]
    kinds = ["火锅", "小面", "超市", "药房", "书店", "健身房", "洗车行", "培训中心", "理发店", "茶楼"]
    rows = []
    for n in range(count):
        district = districts[n % len(districts)]
        rows.append([
            f"{['山城', '巴渝', '嘉陵', '长江', '朝天门'][n % 5]}{kinds[n % len(kinds)]}{n + 1}号店",
            categories[n % len(categories)], district, f"重庆市{district}民生路{n + 1}号",
            f"023-6{n:07d}" if n % 2 else f"139{n:08d}", "09:00-21:00", discount,
            "2024-01-01", "2028-12-31" if n % 3 else "", "是",
        ])
    return rows


def timed(label, action):
    start = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - start
    print(f"{label:<34}{seconds:8.2f} 秒   {result.summary() if hasattr(result, 'summary') else ''}")
    return result


def main():
    with tempfile.TemporaryDirectory() as var_dir:
        setup_django(var_dir)
        from django.db import connection

        from merchants.importing import plan_import, write_csv, write_xlsx
        from merchants.models import Merchant

        if os.environ.get("BENCH_PART") == "preview":  # only the preview requests
            preview_requests()
            return
        print(f"特惠商户导入基准：{ROWS} 行，数据库 {connection.vendor}")
        xlsx = write_xlsx(make_rows(ROWS), instructions=False)
        csv_gbk = write_csv(make_rows(ROWS, discount="持卡消费8.5折"), encoding="gbk")
        plan = timed("xlsx 读取与检查（预览）", lambda: plan_import(xlsx, "bench.xlsx"))
        timed("xlsx 写入（新建，含索引）", plan.apply)
        start = time.perf_counter()
        plan_import(xlsx, "bench.xlsx").apply()
        print(f"{'xlsx 完整导入（重复导入，无变化）':<28}{time.perf_counter() - start:8.2f} 秒")
        start = time.perf_counter()
        result = plan_import(csv_gbk, "bench.csv").apply()
        print(f"{'GBK CSV 完整导入（全部更新）':<29}{time.perf_counter() - start:8.2f} 秒   {result.summary()}")
        assert Merchant.objects.count() == ROWS
        Merchant.objects.all().delete()
        start = time.perf_counter()
        result = plan_import(xlsx, "bench.xlsx").apply()
        total = time.perf_counter() - start
        print(f"{f'xlsx 完整导入（新建 {ROWS} 家）':<29}{total:8.2f} 秒   {result.summary()}")
        print(f"结论：{ROWS} 行 xlsx 从上传到写入完成共 {total:.2f} 秒（约 {ROWS / total:.0f} 行/秒）")
        Merchant.objects.all().delete()
        for label, data, name in (("xlsx", xlsx, "bench.xlsx"), ("GBK CSV", csv_gbk, "bench.csv")):
            Merchant.objects.all().delete()
            job_record, seconds = run_import_job(data, name)
            print(f"{f'后台任务导入 {label}（新建 {ROWS} 家）':<29}{seconds:8.2f} 秒   {job_record.result['summary']}"
                  f"，任务内约 {job_record.result['rows_per_second']} 行/秒")
            assert Merchant.objects.count() == ROWS
        Merchant.objects.all().delete()
        preview_requests()


def run_import_job(data, filename):
    """What the admin's confirm does (stage the file, start the job), then the real worker runs it."""
    import uuid

    from django.core.management import call_command

    from core import staging
    from merchants.jobs import import_merchants, upload_dir

    name = f"0-{uuid.uuid4().hex}{Path(filename).suffix}"
    staging.write(upload_dir() / name, data)
    start = time.perf_counter()
    job_record = import_merchants.start(params={"file": name, "filename": filename})
    call_command("db_worker", batch=True, startup_delay=False, reload=False, interval=0, verbosity=0)
    job_record.refresh_from_db()
    assert job_record.status == "succeeded", job_record.error
    return job_record, time.perf_counter() - start


def table_rows(response):
    return response.content.count(b'<tr class="import-')


def preview_requests():
    """The admin's upload → preview through the test client (the whole request: middleware, view, template)."""
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.test import Client

    from merchants.importing import write_csv, write_xlsx

    user = get_user_model().objects.filter(username="bench").first() or get_user_model().objects.create_superuser(
        "bench", "bench@example.org", "bench-pass-123")
    client = Client()
    client.force_login(user)
    load = os.getloadavg()[0]
    print(f"预览请求（{PREVIEW_ROWS} 行，开始时 1 分钟负载 {load:.1f}，{os.cpu_count()} 核）")
    files = (("xlsx", write_xlsx(make_rows(PREVIEW_ROWS), instructions=False), "bench.xlsx"),
             ("GBK CSV", write_csv(make_rows(PREVIEW_ROWS), encoding="gbk"), "bench.csv"))
    for label, data, name in files:
        start = time.perf_counter()
        response = client.post("/admin/merchants/import/", {"file": SimpleUploadedFile(name, data)})
        seconds = time.perf_counter() - start
        print(f"  {label} 上传请求{'':<16}{seconds:8.2f} 秒   HTTP {response.status_code}，"
              f"{len(response.content) / 1024:.0f} KB，表格行 {table_rows(response)}")
        if response.status_code != 302:  # previewed in the request
            continue
        start = time.perf_counter()
        call_command("db_worker", batch=True, startup_delay=False, reload=False, interval=0, verbosity=0)
        print(f"  {label} 后台检查任务{'':<14}{time.perf_counter() - start:8.2f} 秒")
        ready = client.get(response["Location"])
        for page in (1, PREVIEW_ROWS // 200):
            start = time.perf_counter()
            shown = client.get(ready["Location"], {"page": page})
            print(f"  {label} 预览第 {page} 页{'':<14}{time.perf_counter() - start:8.3f} 秒   HTTP "
                  f"{shown.status_code}，{len(shown.content) / 1024:.0f} KB，"
                  f"表格行 {table_rows(shown)}")


if __name__ == "__main__":
    main()
