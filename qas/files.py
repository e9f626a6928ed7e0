"""Reading the text files a user hands in (circuits, configs, devices, Hamiltonians), with one clear error."""

from __future__ import annotations

from pathlib import Path

from qas.errors import InputFileError


def read_text_file(path: str | Path, what: str) -> str:
    """The text of ``path``, or one :class:`InputFileError` naming it as a ``what`` file.

    A missing file, a directory, a file without read permission and a binary file (not UTF-8) each raise a
    different exception from :meth:`Path.read_text`; a user given any of them should read one line, not a traceback.
    """
    try:
        return Path(path).read_text()
    except FileNotFoundError:
        raise InputFileError(f"{what} file {path} does not exist") from None
    except OSError as err:
        raise InputFileError(f"cannot read {what} file {path}: {err.strerror}") from None
    except UnicodeDecodeError as err:
        raise InputFileError(
            f"cannot read {what} file {path}: not UTF-8 text (byte {err.object[err.start]:#04x} at {err.start})"
        ) from None
