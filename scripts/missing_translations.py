"""List the admin strings that the installed packages leave untranslated in Simplified Chinese.

For every installed app with a locale folder (and Django's own catalogue) the English catalogue
(`locale/en/LC_MESSAGES/django.po`, `djangojs.po`: every msgid in the package's templates and code) is
compared with the package's `zh_Hans` one; an msgid with no translation there (empty or fuzzy) is missing,
unless the project catalogue `locale/zh_Hans/LC_MESSAGES/<domain>.po` translates it.

    python scripts/missing_translations.py            # print what is still missing (exit 1 if any)
    python scripts/missing_translations.py --all      # ignore the project catalogue
    python scripts/missing_translations.py --update   # add the missing msgids (empty) to the project catalogue
"""

import argparse
import os
import sys
from pathlib import Path

import polib

BASE_DIR = Path(__file__).resolve().parent.parent
PROJECT_LOCALE = BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES"
DOMAINS = ("django", "djangojs")
# Installed apps whose strings never reach an admin screen.
SKIP_APPS = {"django.contrib.staticfiles", "django.contrib.sitemaps", "django.contrib.sessions",
             "wagtail.contrib.styleguide", "rest_framework"}


def package_locale_dirs():
    """(label, locale dir) of Django's core catalogue and of each installed app that ships one."""
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")
    import django
    from django.apps import apps

    django.setup()
    dirs = [("django", Path(django.__file__).parent / "conf" / "locale")]
    for config in apps.get_app_configs():
        locale_dir = Path(config.path) / "locale"
        if config.name not in SKIP_APPS and (locale_dir / "en").is_dir():
            dirs.append((config.name, locale_dir))
    return dirs


def key(entry):
    return entry.msgctxt, entry.msgid


def translated(entry):
    if entry is None or entry.obsolete or entry.fuzzy:
        return False
    if entry.msgid_plural:
        return bool(entry.msgstr_plural) and all(entry.msgstr_plural.values())
    return bool(entry.msgstr)


def load(path):
    return {key(e): e for e in polib.pofile(str(path)) if not e.obsolete} if path.exists() else {}


def missing_entries(domain, use_project=True):
    """Untranslated entries of `domain`, in catalogue order, each once, with the app it comes from."""
    project = load(PROJECT_LOCALE / f"{domain}.po") if use_project else {}
    seen, found = set(), []
    for label, locale_dir in package_locale_dirs():
        english = locale_dir / "en" / "LC_MESSAGES" / f"{domain}.po"
        if not english.exists():
            continue
        chinese = load(locale_dir / "zh_Hans" / "LC_MESSAGES" / f"{domain}.po")
        for entry in polib.pofile(str(english)):
            k = key(entry)
            if entry.obsolete or not entry.msgid or k in seen:
                continue
            seen.add(k)
            if not translated(chinese.get(k)) and not translated(project.get(k)):
                found.append((label, entry))
    return found


def update_project_catalogue(domain, entries):
    path = PROJECT_LOCALE / f"{domain}.po"
    if path.exists():
        catalogue = polib.pofile(str(path), wrapwidth=120)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        catalogue = polib.POFile(wrapwidth=120)
        catalogue.metadata = {
            "Project-Id-Version": "union-portal",
            "Language": "zh_Hans",
            "MIME-Version": "1.0",
            "Content-Type": "text/plain; charset=UTF-8",
            "Content-Transfer-Encoding": "8bit",
            "Plural-Forms": "nplurals=1; plural=0;",
        }
    present = {key(e) for e in catalogue}
    added = 0
    for label, entry in entries:
        if key(entry) in present:
            continue
        new = polib.POEntry(msgctxt=entry.msgctxt, msgid=entry.msgid, msgid_plural=entry.msgid_plural,
                            comment=entry.comment, tcomment=label, occurrences=entry.occurrences[:3],
                            flags=[f for f in entry.flags if f.endswith("-format")])
        if entry.msgid_plural:
            new.msgstr_plural = {0: ""}
        catalogue.append(new)
        added += 1
    catalogue.save(str(path))
    return added


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--all", action="store_true", help="ignore the project catalogue")
    parser.add_argument("--update", action="store_true", help="append the missing msgids to the project catalogue")
    args = parser.parse_args()
    total = 0
    for domain in DOMAINS:
        entries = missing_entries(domain, use_project=not args.all)
        total += len(entries)
        if args.update:
            print(f"{domain}: {update_project_catalogue(domain, entries)} 条新增到 {PROJECT_LOCALE / domain}.po")
            continue
        for label, entry in entries:
            context = f" [{entry.msgctxt}]" if entry.msgctxt else ""
            plural = f" | {entry.msgid_plural!r}" if entry.msgid_plural else ""
            print(f"{domain}\t{label}{context}\t{entry.msgid!r}{plural}")
    print(f"共 {total} 条未翻译", file=sys.stderr)
    return 1 if total and not args.update else 0


if __name__ == "__main__":
    sys.exit(main())
