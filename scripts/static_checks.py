"""Static checks of the addon that need no Odoo: what CI can verify of the Odoo layer.

* the manifest is a literal dict with the keys OCA asks for, and every data file it names exists;
* every XML file parses, every CSV access file has the columns Odoo reads;
* the SII engine imports nothing from Odoo;
* every .po file parses and has no untranslated message;
* every Python file compiles;
* no file names a path of the machine it was written on (/work, /tmp, /home, /root).
"""

import ast
import csv
import re
import sys
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "sii_engine"
REQUIRED_MANIFEST_KEYS = {"name", "version", "license", "author", "depends", "data", "installable"}
ACCESS_COLUMNS = ["id", "name", "model_id:id", "group_id:id", "perm_read", "perm_write", "perm_create", "perm_unlink"]
ODOO_IMPORT = re.compile(r"^\s*(from|import)\s+odoo\b", re.MULTILINE)
MACHINE_PATH = re.compile(r"(?<![\w.~-])/(work|tmp|home|root)/")
TEXT_SUFFIXES = {".py", ".xml", ".csv", ".js", ".md", ".sh", ".po", ".pot", ".toml", ".txt", ".cfg", ".ini", ".yml", ""}
# Data copied from elsewhere (schemas, WSDLs, fixtures) is kept byte for byte; hidden folders are tools' caches.
SKIPPED_PARTS = {"__pycache__", "data", "fixtures"}

errors = []


def check_manifest():
    manifest = ast.literal_eval((ROOT / "__manifest__.py").read_text())
    missing = REQUIRED_MANIFEST_KEYS - manifest.keys()
    if missing:
        errors.append(f"__manifest__.py lacks {sorted(missing)}")
    if not re.fullmatch(r"18\.0\.\d+\.\d+\.\d+", manifest.get("version", "")):
        errors.append("__manifest__.py version must be 18.0.x.y.z")
    for key in ("data", "demo"):
        for name in manifest.get(key, []):
            if not (ROOT / name).is_file():
                errors.append(f"__manifest__.py {key} names {name}, which does not exist")
    for bundle_files in manifest.get("assets", {}).values():
        for pattern in bundle_files:
            pattern = pattern[1] if isinstance(pattern, (list, tuple)) else pattern
            relative = pattern.split("/", 1)[1] if pattern.startswith("l10n_cl_dte/") else None
            if relative and not any(ROOT.glob(relative)):
                errors.append(f"asset {pattern} matches no file")


def check_xml():
    for path in ROOT.rglob("*.xml"):
        if ".venv" in path.parts or "fixtures" in path.parts:
            continue
        try:
            etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError as error:
            errors.append(f"{path.relative_to(ROOT)}: {error}")


def check_access_files():
    for path in (ROOT / "security").glob("*.csv"):
        with path.open(newline="") as handle:
            rows = list(csv.reader(handle))
        if not rows or rows[0] != ACCESS_COLUMNS:
            errors.append(f"{path.relative_to(ROOT)}: header must be {','.join(ACCESS_COLUMNS)}")
            continue
        for number, row in enumerate(rows[1:], 2):
            if len(row) != len(ACCESS_COLUMNS):
                errors.append(f"{path.relative_to(ROOT)}:{number}: {len(row)} columns")


def check_engine_is_pure():
    for path in ENGINE.rglob("*.py"):
        if ODOO_IMPORT.search(path.read_text(encoding="utf-8")):
            errors.append(f"{path.relative_to(ROOT)} imports odoo: the engine must not")


def check_translations():
    for path in (ROOT / "i18n").glob("*.po"):
        text = path.read_text(encoding="utf-8")
        entries = re.findall(r'\nmsgid ((?:".*"\n)+)msgstr ((?:".*"\n?)+)', text)
        if not entries:
            errors.append(f"{path.relative_to(ROOT)}: no messages")
        for msgid, msgstr in entries:
            if msgid.strip() != '""' and msgstr.strip() == '""':
                errors.append(f"{path.relative_to(ROOT)}: untranslated {msgid.strip()[:60]}")


def check_python_compiles():
    for path in ROOT.rglob("*.py"):
        if ".venv" in path.parts:
            continue
        try:
            compile(path.read_text(encoding="utf-8"), str(path), "exec")
        except SyntaxError as error:
            errors.append(f"{path.relative_to(ROOT)}: {error}")


def check_no_machine_paths():
    for path in ROOT.rglob("*"):
        parts = path.relative_to(ROOT).parts
        if (not path.is_file() or path.suffix not in TEXT_SUFFIXES or SKIPPED_PARTS & set(parts)
                or any(part.startswith(".") for part in parts)):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if MACHINE_PATH.search(line):
                errors.append(f"{path.relative_to(ROOT)}:{number}: names a machine path: {line.strip()[:80]}")


def main():
    for check in (check_manifest, check_xml, check_access_files, check_engine_is_pure, check_translations,
                  check_python_compiles, check_no_machine_paths):
        check()
    for error in errors:
        print(f"static check failed: {error}")
    if errors:
        return 1
    print("static checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
