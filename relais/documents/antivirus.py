"""Scanning uploaded files with ClamAV's daemon (clamd), when one is configured.

RELAIS_CLAMD_SOCKET is either the path of clamd's UNIX socket or `host:port`; empty means
no antivirus, and files are then recorded as not scanned. When an antivirus is configured
but cannot answer, the upload is refused rather than stored unscanned.
"""

import logging
import socket
import struct
from dataclasses import dataclass

from django.conf import settings

logger = logging.getLogger(__name__)

CHUNK_BYTES = 64 * 1024
TIMEOUT_SECONDS = 60.0
MAX_REPLY_BYTES = 4096


@dataclass(frozen=True)
class ScanResult:
    scanned: bool
    clean: bool


class VirusFound(Exception):
    def __init__(self, signature: str = "") -> None:
        super().__init__(
            "Un virus a été détecté dans ce fichier : il n'a pas été enregistré. Si vous "
            "pensez qu'il s'agit d'une erreur, contactez la personne qui vous accompagne."
        )
        self.signature = signature


class AntivirusUnavailable(Exception):
    def __init__(self) -> None:
        super().__init__(
            "L'analyse antivirus est momentanément indisponible : le fichier n'a pas été "
            "enregistré. Réessayez dans quelques minutes."
        )


def scan(content: bytes) -> ScanResult:
    address = settings.RELAIS_CLAMD_SOCKET
    if not address:
        return ScanResult(scanned=False, clean=True)
    reply = _ask_clamd(address, content)
    if reply.endswith(" FOUND"):
        signature = reply.removeprefix("stream:").removesuffix(" FOUND").strip()
        logger.warning("Antivirus : fichier refusé, signature %s", signature)
        raise VirusFound(signature)
    if reply.endswith(" OK"):
        return ScanResult(scanned=True, clean=True)
    logger.error("Antivirus : réponse inattendue de clamd : %r", reply[:200])
    raise AntivirusUnavailable()


def _ask_clamd(address: str, content: bytes) -> str:
    try:
        with _connect(address) as connection:
            _send_instream(connection, content)
            return _read_reply(connection)
    # ValueError: a port that is not a number, i.e. a misconfigured setting.
    except (OSError, ValueError) as error:
        logger.error("Antivirus : clamd injoignable (%s) : %s", address, error)
        raise AntivirusUnavailable() from error


def _connect(address: str) -> socket.socket:
    if ":" in address:
        host, _, port = address.rpartition(":")
        return socket.create_connection((host.strip("[]"), int(port)), timeout=TIMEOUT_SECONDS)
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.settimeout(TIMEOUT_SECONDS)
    try:
        connection.connect(address)
    except OSError:
        connection.close()
        raise
    return connection


def _send_instream(connection: socket.socket, content: bytes) -> None:
    connection.sendall(b"zINSTREAM\0")
    for start in range(0, len(content), CHUNK_BYTES):
        chunk = content[start : start + CHUNK_BYTES]
        connection.sendall(struct.pack("!I", len(chunk)) + chunk)
    connection.sendall(struct.pack("!I", 0))


def _read_reply(connection: socket.socket) -> str:
    reply = b""
    while b"\0" not in reply and len(reply) < MAX_REPLY_BYTES:
        received = connection.recv(MAX_REPLY_BYTES)
        if not received:
            break
        reply += received
    return reply.split(b"\0", 1)[0].decode("utf-8", "replace").strip()
