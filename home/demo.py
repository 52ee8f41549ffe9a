"""Demo content: the site skeleton, the real speech corpus and each section app's demo data."""

import secrets
from importlib import import_module
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from wagtail.models import Site

from core.demo import ensure_child
from home.models import HomePage, SiteSettings, StandardPage

# Apps that add demo content expose `load_demo(home, log)` in a `demo` module.
DEMO_APPS = ("campaigns", "merchants")
CORPUS_DIR = settings.BASE_DIR / "corpus"


@transaction.atomic
def build_site():
    from speeches.models import SpeechIndexPage

    home = HomePage.objects.get()
    if not home.intro:
        home.intro = (
            "<p>传达工会声音，服务广大职工。这里汇集历次工会工作会议讲话、惠及会员的活动专题和特惠商户信息。</p>"
        )
        home.save_revision().publish()
    site = Site.objects.get(is_default_site=True)
    point_site_at_base_url(site)
    site_settings = SiteSettings.for_site(site)
    if not site_settings.address:
        site_settings.organisation = "市总工会"
        site_settings.address = "市劳动路1号 工人文化宫"
        site_settings.footer_note = "本站讲话稿来源于公开资料，仅用于工会工作学习交流。"
        site_settings.save()
    index = ensure_child(
        home, SpeechIndexPage, "speeches", title="讲话稿库", show_in_menus=True,
        intro="<p>历次工会工作会议讲话稿，可按年份和组织层级筛选。</p>",
    )
    ensure_child(
        home, StandardPage, "about", title="关于我们", show_in_menus=True,
        body="<p>市总工会宣传门户由市总工会宣传部主办，发布工会工作动态、领导讲话和服务职工的各项活动。</p>",
    )
    return home, index


def point_site_at_base_url(site):
    """Sitemap, canonical links and e-mails use the default site's host and port: take them from BASE_URL."""
    url = urlsplit(settings.WAGTAILADMIN_BASE_URL)
    hostname = url.hostname or "localhost"
    port = url.port or (443 if url.scheme == "https" else 80)
    taken = Site.objects.exclude(pk=site.pk).filter(hostname=hostname, port=port).exists()
    if (site.hostname, site.port) != (hostname, port) and not taken:
        site.hostname, site.port = hostname, port
        site.save(update_fields=["hostname", "port"])


def ensure_admin(log):
    User = get_user_model()
    password_file = settings.VAR_DIR / "admin_password.txt"
    user = User.objects.filter(username="admin").first()
    if user is None:
        password = secrets.token_urlsafe(12)
        user = User.objects.create_superuser("admin", "admin@localhost", password)
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        password_file.write_text(password + "\n", encoding="utf-8")
        password_file.chmod(0o600)
    password = password_file.read_text(encoding="utf-8").strip() if password_file.exists() else "（已存在，密码未变）"
    log(f"管理后台：{settings.WAGTAILADMIN_BASE_URL}/admin/  用户名：admin  密码：{password}")


def load_demo(log=print, progress=None):
    from speeches.importers.writer import import_corpus

    home, index = build_site()
    for path in sorted(CORPUS_DIR.glob("*.txt")):
        summary = import_corpus(path, parent=index, progress=progress)
        for line in summary.lines()[:2]:
            log(line)
    for app in DEMO_APPS:
        try:
            module = import_module(f"{app}.demo")
        except ModuleNotFoundError:
            continue
        module.load_demo(home, log)
    ensure_admin(log)
