"""Compile the project catalogues (locale/*/LC_MESSAGES/*.po) to .mo, in Python (no gettext needed).

    python scripts/compile_translations.py          # write each .mo that is missing or differs from its .po
    python scripts/compile_translations.py --check  # exit 1 if a .mo is missing or differs from its .po
"""

import sys
from pathlib import Path

import polib

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def compiled(po_path):
    return polib.pofile(str(po_path)).to_binary()


def main(check=False):
    stale = []
    for po_path in sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        data = compiled(po_path)
        if mo_path.exists() and mo_path.read_bytes() == data:
            continue
        if check:
            stale.append(mo_path)
        else:
            mo_path.write_bytes(data)
            print(f"已编译 {mo_path.relative_to(LOCALE_DIR.parent)}")
    for mo_path in stale:
        print(f"{mo_path.relative_to(LOCALE_DIR.parent)} 缺失或已过期：运行 make install", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(check="--check" in sys.argv[1:]))
