"""Static checks of snap/snapcraft.yaml, and the assembly of the snap's prime tree.

    snap_check.py validate REPO          schema, part validator, the contract of issue 6
    snap_check.py prime REPO BINARY DIR  lay out DIR the way snapcraft would prime the snap
    snap_check.py docs REPO BINARY       the Configuration table covers every variable and key

Prints one `ok - ...` / `not ok - ...` line per check (run.sh counts them) and exits 1 when
any check failed. Runs with -W error, so a warning from a validator is a failure.
"""

import copy
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

import yaml

FAILED = []

# Hook names snapd knows (besides interface hooks); `hooks:` is a free map in the schema, so
# a misspelt hook would go unnoticed without this list.
KNOWN_HOOKS = {
    "install",
    "configure",
    "default-configure",
    "pre-refresh",
    "post-refresh",
    "remove",
    "check-health",
    "gate-auto-refresh",
    "install-device",
}
REQUIRED_HOOKS = ["install", "configure", "pre-refresh", "post-refresh"]
CORE24_GLIBC = (2, 39)


def check(name, condition, detail=""):
    if condition:
        print(f"ok - {name}")
    else:
        FAILED.append(name)
        print(f"not ok - {name}" + (f": {detail}" if detail else ""))


def read(path, mode="r"):
    with open(path, mode, encoding=None if "b" in mode else "utf-8") as f:
        return f.read()


def load(repo):
    with open(os.path.join(repo, "snap", "snapcraft.yaml"), encoding="utf-8") as f:
        return yaml.safe_load(f)


def schema_errors(document):
    """check-jsonschema's bundled snapcraft schema; returns its complaints, or '' when clean."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        yaml.safe_dump(document, f)
        path = f.name
    try:
        tool = os.path.join(os.path.dirname(sys.executable), "check-jsonschema")
        result = subprocess.run(
            [tool, "--builtin-schema", "vendor.snapcraft", "--verbose", path],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        os.unlink(path)
    if result.returncode != 0 or result.stderr.strip():
        return (result.stdout + result.stderr).strip() or f"exit {result.returncode}"
    return ""


def part_errors(part):
    import craft_parts

    try:
        craft_parts.validate_part(copy.deepcopy(part))
    except Exception as e:  # noqa: BLE001 - any complaint is a failure
        return f"{type(e).__name__}: {e}"
    return ""


def validate(repo):
    doc = load(repo)

    # The validators themselves: a clean file passes, and each catches a planted mistake.
    errors = schema_errors(doc)
    check("snapcraft.yaml passes the snapcraft schema (check-jsonschema vendor.snapcraft)", not errors, errors)
    broken = copy.deepcopy(doc)
    broken["apps"]["tokend"]["daemon"] = "simpel"
    check("the schema check rejects a planted 'daemon: simpel'", schema_errors(broken))
    for name, part in doc["parts"].items():
        errors = part_errors(part)
        check(f"part '{name}' passes craft_parts.validate_part", not errors, errors)
    rust_parts = [p for p in doc["parts"].values() if p.get("plugin") == "rust"]
    if rust_parts:
        broken = dict(rust_parts[0], **{"rust-chanel": "stable"})
        check("the part validator rejects a planted 'rust-chanel'", part_errors(broken))

    # The contract of issue 6.
    check("snap name is tokend", doc.get("name") == "tokend")
    check("base is core24", doc.get("base") == "core24")
    check("confinement is strict", doc.get("confinement") == "strict")
    check("grade is devel or stable", doc.get("grade") in ("devel", "stable"))
    check("platforms (core24 style) are declared", bool(doc.get("platforms")) and "architectures" not in doc)
    app = doc.get("apps", {}).get("tokend", {})
    check("daemon app is named tokend (unit snap.tokend.tokend.service)", bool(app))
    check("the daemon is 'simple'", app.get("daemon") == "simple")
    check("the daemon restarts on failure", app.get("restart-condition") == "on-failure")
    check("the daemon has a stop-timeout over tokend's 30 s drain", _seconds(app.get("stop-timeout")) > 30)
    check("the daemon plugs network and network-bind", {"network", "network-bind"} <= set(app.get("plugs", [])))
    check("the daemon runs bin/tokend", app.get("command") == "bin/tokend")
    check("the daemon goes through the launcher", app.get("command-chain") == ["bin/tokend-launcher"])
    for name, other in doc.get("apps", {}).items():
        check(f"app '{name}' uses the launcher", other.get("command-chain") == ["bin/tokend-launcher"])
    check(
        "a rust part builds the crate at the top of the repository",
        len(rust_parts) == 1 and rust_parts[0].get("source") == ".",
    )
    adopt = doc.get("adopt-info")
    check(
        "the version is adopted from Cargo.toml by that part",
        "version" in doc or (adopt in doc["parts"] and "craftctl set version" in doc["parts"][adopt].get("override-pull", "")),
    )
    lock = subprocess.run(["git", "-C", repo, "ls-files", "--error-unmatch", "Cargo.lock"], capture_output=True)
    check("Cargo.lock is committed (the rust plugin builds with --locked)", lock.returncode == 0)
    cargo = read(os.path.join(repo, "Cargo.toml"))
    check("SQLite is bundled into the binary (rusqlite 'bundled')", re.search(r"rusqlite\s*=.*\"bundled\"", cargo) is not None)

    hooks_dir = os.path.join(repo, "snap", "hooks")
    files = sorted(os.listdir(hooks_dir)) if os.path.isdir(hooks_dir) else []
    for hook in REQUIRED_HOOKS:
        path = os.path.join(hooks_dir, hook)
        check(f"hook '{hook}' exists and is executable", os.path.isfile(path) and os.access(path, os.X_OK))
    unknown = [f for f in files + list(doc.get("hooks", {})) if f not in KNOWN_HOOKS]
    check("every hook has a name snapd knows", not unknown, f"unknown: {unknown}")
    check("every hook declared in snapcraft.yaml has a file", set(doc.get("hooks", {})) <= set(files))
    return doc


def _seconds(duration):
    total = 0.0
    units = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1, "m": 60}
    for number, unit in re.findall(r"([0-9]+)(ns|us|ms|s|m)", str(duration or "")):
        total += int(number) * units[unit]
    return total


def run_override_build(script, install_dir):
    """Runs a part's override-build as snapcraft would (`sh -e`), with CRAFT_PART_INSTALL set
    to the prime tree, where the built binary already is: `craftctl default` (the cargo
    build) is a no-op stub. Returns the complaint, or '' when it succeeded."""
    with tempfile.TemporaryDirectory() as stub_dir:
        craftctl = os.path.join(stub_dir, "craftctl")
        with open(craftctl, "w", encoding="utf-8") as f:
            f.write('#!/bin/sh\n[ "$1" = default ] || { echo "craftctl stub: $*" >&2; exit 1; }\n')
        os.chmod(craftctl, 0o755)
        env = dict(os.environ, CRAFT_PART_INSTALL=install_dir, PATH=stub_dir + os.pathsep + os.environ.get("PATH", ""))
        result = subprocess.run(["sh", "-e", "-c", script], env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return (result.stdout + result.stderr).strip() or f"exit {result.returncode}"
    return ""


def cargo_version(repo):
    text = read(os.path.join(repo, "Cargo.toml"))
    return re.search(r'^version\s*=\s*"([^"]+)"', text, re.M).group(1)


def prime(repo, binary, out):
    """What snapcraft would put in prime/: the rust part's bin/tokend, the dump parts (with
    organize and prime filters), meta/snap.yaml, and snap/hooks as meta/hooks."""
    doc = load(repo)
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(os.path.join(out, "bin"))
    shutil.copy2(binary, os.path.join(out, "bin", "tokend"))
    for name, part in doc["parts"].items():
        if part.get("plugin") == "rust" and part.get("override-build"):
            errors = run_override_build(part["override-build"], out)
            check(f"part '{name}': its override-build runs on the prime tree (craftctl default stubbed)", not errors, errors)
    for name, part in doc["parts"].items():
        if part.get("plugin") != "dump":
            continue
        source = os.path.join(repo, part["source"])
        organize = part.get("organize", {})
        keep = part.get("prime")
        for root, _dirs, names in os.walk(source):
            for file_name in names:
                rel = os.path.relpath(os.path.join(root, file_name), source)
                dest = organize.get(rel, rel)
                if keep and dest not in keep:
                    continue
                os.makedirs(os.path.dirname(os.path.join(out, dest)) or out, exist_ok=True)
                shutil.copy2(os.path.join(root, file_name), os.path.join(out, dest))
    meta = {
        key: doc[key]
        for key in ("name", "summary", "description", "base", "grade", "confinement")
        if key in doc
    }
    meta["version"] = doc.get("version") or cargo_version(repo)
    meta["architectures"] = ["amd64"]
    meta["apps"] = doc["apps"]
    if doc.get("hooks"):
        meta["hooks"] = {k: (v or {}) for k, v in doc["hooks"].items()}
    os.makedirs(os.path.join(out, "meta", "hooks"))
    with open(os.path.join(out, "meta", "snap.yaml"), "w", encoding="utf-8") as f:
        yaml.safe_dump(meta, f, sort_keys=False, width=1000)
    hooks_dir = os.path.join(repo, "snap", "hooks")
    for hook in sorted(os.listdir(hooks_dir)):
        shutil.copy2(os.path.join(hooks_dir, hook), os.path.join(out, "meta", "hooks", hook))

    paths = sorted({p for app in doc["apps"].values() for p in [app["command"].split()[0], *app.get("command-chain", [])]})
    for path in paths:
        full = os.path.join(out, path)
        check(f"prime tree has {path}, executable", os.path.isfile(full) and bool(os.stat(full).st_mode & stat.S_IXUSR))
    check("prime tree has lib/tokend-snap.sh", os.path.isfile(os.path.join(out, "lib", "tokend-snap.sh")))
    for app_name, app in doc["apps"].items():
        if "completer" in app:
            completer = os.path.join(out, app["completer"])
            text = read(completer) if os.path.isfile(completer) else ""
            check(f"app '{app_name}': its completer {app['completer']} completes tokend.{app_name}", f"tokend.{app_name}" in text)
    page = os.path.join(out, "share", "man", "man1", "tokend.1")
    check("prime tree has the man page share/man/man1/tokend.1", os.path.isfile(page) and ".TH" in read(page))
    for script in ("zsh/site-functions/_tokend", "fish/vendor_completions.d/tokend.fish"):
        path = os.path.join(out, "share", script)
        check(f"prime tree has the completion share/{script}", os.path.isfile(path) and os.path.getsize(path) > 0)
    data = read(binary, "rb")
    versions = {tuple(map(int, v)) for v in re.findall(rb"GLIBC_([0-9]+)\.([0-9]+)", data)}
    newest = max(versions) if versions else (0, 0)
    check(
        f"the binary needs at most glibc {CORE24_GLIBC[0]}.{CORE24_GLIBC[1]} (core24); it needs {newest[0]}.{newest[1]}",
        newest <= CORE24_GLIBC,
    )


def config_variables(binary):
    """Every variable tokend declares (`[env: NAME]` in `tokend --help`)."""
    help_text = subprocess.run([binary, "--help"], capture_output=True, text=True, check=True).stdout
    return re.findall(r"\[env: ([A-Z][A-Z0-9_]*)\]", help_text)


def snap_keys(binary):
    """The `snap set tokend` keys, as tokend derives them from its declarations."""
    return subprocess.run([binary, "settings", "snap-keys"], capture_output=True, text=True, check=True).stdout.split()


def docs(repo, binary):
    """The table with the columns env variable | snap key | default | meaning, in README.md once
    merged there, else in docs/packaging.md."""
    rows = {}
    sources = [p for p in ("README.md", "docs/packaging.md") if os.path.isfile(os.path.join(repo, p))]
    for source in sources:
        lines = read(os.path.join(repo, source)).splitlines()
        for i, line in enumerate(lines):
            if re.match(r"^\|\s*env variable\s*\|\s*snap key\s*\|\s*default\s*\|\s*meaning\s*\|", line):
                for row in lines[i + 2 :]:
                    if not row.startswith("|"):
                        break
                    cells = [c.strip() for c in row.strip("|").split("|")]
                    rows[cells[0].strip("`")] = cells
                break
        if rows:
            print(f"# configuration table found in {source}")
            break
    check("a Configuration table (env variable | snap key | default | meaning) exists", bool(rows))
    names = config_variables(binary)
    check("tokend --help names its variables, RUST_LOG among them", len(names) > 30 and "RUST_LOG" in names, f"{names}")
    missing = [n for n in names if n not in rows]
    check(f"the table has a row for each of the {len(names)} variables tokend --help names", not missing, f"missing: {missing}")
    extra = [n for n in rows if n not in names]
    check("the table has no variable tokend does not read", not extra, f"unknown: {extra}")
    documented_keys = set(re.findall(r"`([a-z][a-z0-9-]*)`", " ".join(cells[1] for cells in rows.values())))
    keys = snap_keys(binary)
    check(f"the table names every snap key ({' '.join(keys)})", set(keys) <= documented_keys, f"missing: {set(keys) - documented_keys}")
    check("every row has a default and a meaning", all(len(c) == 4 and c[2] and c[3] for c in rows.values()))


def main(argv):
    if len(argv) >= 2 and argv[1] == "validate":
        validate(argv[2])
    elif len(argv) >= 2 and argv[1] == "docs":
        docs(argv[2], argv[3])
    elif len(argv) >= 2 and argv[1] == "prime":
        prime(argv[2], argv[3], argv[4])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
