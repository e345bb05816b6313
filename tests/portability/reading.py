"""Reading an export back, as a person's other tool would: the whole ZIP in memory, its
JSON checked against the format, and every document it names checked against its recorded
size and SHA-256 — so that a test can say that re-reading the export loses nothing."""

import hashlib
import io
import json
import zipfile
from typing import Any

from relais.audit.context import Actor
from relais.documents import vault
from relais.persons.models import Person
from relais.portability.services import export_prepare
from relais.portability.snapshot import FORMAT, FORMAT_VERSION, JSON_NAME


class ExportUnreadable(Exception):
    """The file is not a Relais export this version can read."""


def export_pieces(person: Person, *, by: Actor) -> list[bytes]:
    """The pieces of the ZIP, as the page streams them."""
    return list(export_prepare(person, by=by).chunks())


def export_person(person: Person, *, by: Actor) -> bytes:
    return b"".join(export_pieces(person, by=by))


def read_export(zip_bytes: bytes) -> dict[str, Any]:
    try:
        with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
            data: Any = json.loads(archive.read(JSON_NAME))
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ExportUnreadable("Ce fichier n'est pas un export Relais.")
            if data.get("format_version") != FORMAT_VERSION:
                raise ExportUnreadable(
                    f"Cet export suit la version {data.get('format_version')} du format ; "
                    f"cette version de Relais lit la version {FORMAT_VERSION}."
                )
            for document in data.get("documents", []):
                if document.get("file"):
                    _check_member(archive, document)
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        raise ExportUnreadable("Ce fichier n'est pas un export Relais lisible.") from error
    return data


def _check_member(archive: zipfile.ZipFile, document: dict[str, Any]) -> None:
    digest = hashlib.sha256()
    size = 0
    with archive.open(document["file"]) as member:
        while chunk := member.read(vault.CHUNK_SIZE):
            digest.update(chunk)
            size += len(chunk)
    if size != document["size"] or digest.hexdigest() != document["sha256"]:
        raise ExportUnreadable(
            f"La pièce {document['file']} de l'export ne correspond pas à son empreinte."
        )
