"""neurona's translations with Babel: tools/i18n.py [all|extract|update|compile|check|init LANG]

The English text of every message is written once, in src/neurona/show/i18n.py, as
``_m("key", "English")``; each other language is a gettext catalogue
src/neurona/show/locale/<lang>/LC_MESSAGES/neurona.po whose entries carry the key as their
context (``msgctxt``), the English as ``msgid`` and the translation as ``msgstr``.

- ``extract`` writes the template locale/neurona.pot from i18n.py;
- ``update`` merges the template into every catalogue (new entries come in empty, removed
  ones go obsolete, changed English marks the entry fuzzy for the translator);
- ``compile`` writes each catalogue's neurona.mo, the file neurona reads at run time;
- ``all`` (the default, ``make i18n``) does the three in that order;
- ``init LANG`` starts the catalogue of a new language from the template;
- ``check`` changes nothing and exits 1 with one line per problem: a template behind the
  source, a catalogue behind the template, an entry untranslated, fuzzy or with other
  ``{placeholders}`` than its English, a neurona.mo behind its neurona.po.

Each file is written only when its messages change, so a run with nothing new leaves the
tree as it was. Needs Babel (a dependency of neurona).
"""

from __future__ import annotations

import gettext
import io
import string
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
SHOW = ROOT / "src" / "neurona" / "show"
SOURCE = SHOW / "i18n.py"
LOCALE = SHOW / "locale"
DOMAIN = "neurona"
TEMPLATE = LOCALE / f"{DOMAIN}.pot"
KEYWORDS = {"_m": ((1, "c"), 2)}
HEADER = "neurona's messages: the English and its key, for a translator to start from."


def fields(text: str) -> set[str]:
    """The names of the ``{placeholders}`` in ``text``."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _shown(path: Path) -> str:
    """``path`` as the messages name it: from the repository's root when inside it."""
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def _new_catalog(locale: str | None = None) -> Catalog:
    return Catalog(locale=locale, domain=DOMAIN, project="neurona", version="0.1.0",
                   copyright_holder="neurona", msgid_bugs_address="",
                   header_comment=f"# {HEADER}")


def extracted() -> Catalog:
    """The template as the source says it is now."""
    catalog = _new_catalog()
    location = _shown(SOURCE)
    for lineno, message, comments, context in extract_from_file("python", SOURCE, KEYWORDS):
        flags = ("python-brace-format",) if fields(message) else ()
        catalog.add(message, context=context, locations=[(location, lineno)], flags=flags,
                    auto_comments=comments)
    return catalog


def _read(path: Path, locale: str | None = None) -> Catalog:
    with open(path, "rb") as po:
        return read_po(po, locale=locale, domain=DOMAIN)


def _entries(catalog: Catalog) -> dict:
    """What a catalogue says, without its header: (context, msgid) -> (msgstr, fuzzy)."""
    return {(m.context, m.id): (m.string or "", m.fuzzy) for m in catalog if m.id}


def _write_po(path: Path, catalog: Catalog) -> bool:
    """Write ``catalog`` to ``path`` unless its entries are those there already."""
    if path.is_file():
        old = _read(path, catalog.locale_identifier)
        if _entries(old) == _entries(catalog) and list(old.obsolete) == list(catalog.obsolete):
            return False
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, include_lineno=False, sort_output=False)
    path.write_bytes(buffer.getvalue())
    return True


def catalogues() -> list[Path]:
    return sorted(LOCALE.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def compiled(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def _mo_entries(data: bytes) -> dict[str, str]:
    translations = gettext.GNUTranslations(io.BytesIO(data))
    return {k: v for k, v in translations._catalog.items() if k}


def extract() -> None:
    if _write_po(TEMPLATE, extracted()):
        print(f"wrote {_shown(TEMPLATE)}")


def update() -> None:
    template = _read(TEMPLATE)
    for path in catalogues():
        catalog = _read(path, path.parent.parent.name)
        catalog.update(template, no_fuzzy_matching=True)
        if _write_po(path, catalog):
            print(f"updated {_shown(path)}")


def compile_all() -> None:
    for path in catalogues():
        data = compiled(_read(path, path.parent.parent.name))
        mo = path.with_suffix(".mo")
        if not mo.is_file() or _mo_entries(mo.read_bytes()) != _mo_entries(data):
            mo.write_bytes(data)
            print(f"compiled {_shown(mo)}")


def init(lang: str) -> None:
    path = LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if path.exists():
        raise SystemExit(f"{_shown(path)} exists already; run tools/i18n.py update")
    catalog = _new_catalog(lang)
    catalog.update(_read(TEMPLATE))
    _write_po(path, catalog)
    print(f"wrote {_shown(path)}: translate its msgstr lines, then run make i18n")


def problems() -> list[str]:
    """Every way the committed catalogues lag behind the source or each other."""
    found = []
    want = set(_entries(extracted()))
    if not TEMPLATE.is_file() or set(_entries(_read(TEMPLATE))) != want:
        found.append(f"{_shown(TEMPLATE)} is not what i18n.py says: run make i18n")
    for path in catalogues():
        name = _shown(path)
        catalog = _read(path, path.parent.parent.name)
        entries = _entries(catalog)
        if set(entries) != want:
            found.append(f"{name} lacks or has extra entries: run make i18n")
        for (context, msgid), (msgstr, fuzzy) in entries.items():
            if not msgstr:
                found.append(f"{name}: {context} is not translated")
            elif fuzzy:
                found.append(f"{name}: {context} is fuzzy (its English changed): check it")
            elif fields(msgstr) != fields(msgid):
                found.append(f"{name}: {context} has the placeholders {sorted(fields(msgstr))}"
                             f", its English {sorted(fields(msgid))}")
        mo = path.with_suffix(".mo")
        if not mo.is_file() or _mo_entries(mo.read_bytes()) != _mo_entries(compiled(catalog)):
            found.append(f"{_shown(mo)} is not {name} compiled: run make i18n")
    return found


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "all"
    if command == "check":
        found = problems()
        for line in found:
            print(line, file=sys.stderr)
        return 1 if found else 0
    if command == "init" and len(argv) == 2:
        init(argv[1])
        return 0
    steps = {"extract": [extract], "update": [update], "compile": [compile_all],
             "all": [extract, update, compile_all]}
    if command not in steps or len(argv) > 1:
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    for step in steps[command]:
        step()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
