import socket
import struct
import threading
from collections.abc import Callable, Iterator

import pytest

from relais.documents import antivirus
from relais.documents.antivirus import AntivirusUnavailable, ScanResult, VirusFound, scan

# Kept in two pieces so that no antivirus flags this test file itself.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def read_exactly(connection: socket.socket, size: int) -> bytes:
    received = b""
    while len(received) < size:
        chunk = connection.recv(size - len(received))
        if not chunk:
            raise ConnectionError("clamd client left mid-stream")
        received += chunk
    return received


def read_instream(connection: socket.socket) -> tuple[bytes, list[int]]:
    assert read_exactly(connection, 10) == b"zINSTREAM\0"
    content, sizes = b"", []
    while size := struct.unpack("!I", read_exactly(connection, 4))[0]:
        sizes.append(size)
        content += read_exactly(connection, size)
    return content, sizes


def clamd_verdict(content: bytes) -> bytes:
    return b"stream: Eicar-Signature FOUND\0" if EICAR in content else b"stream: OK\0"


class FakeClamd:
    """Speaks clamd's INSTREAM command on a listening socket, one client at a time."""

    def __init__(self, listener: socket.socket, answer: Callable[[bytes], bytes]) -> None:
        self.listener = listener
        self.answer = answer
        self.received: list[bytes] = []
        self.chunk_sizes: list[list[int]] = []
        self.stopping = threading.Event()
        # A blocked accept() is not woken by closing the socket: poll so stop() is quick.
        self.listener.settimeout(0.05)
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(5)
                content, sizes = read_instream(connection)
                self.received.append(content)
                self.chunk_sizes.append(sizes)
                connection.sendall(self.answer(content))

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        self.listener.close()


@pytest.fixture
def unix_clamd(tmp_path, settings) -> Iterator[Callable[..., FakeClamd]]:
    servers: list[FakeClamd] = []

    def start(answer: Callable[[bytes], bytes] = clamd_verdict) -> FakeClamd:
        path = str(tmp_path / "clamd.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        listener.listen()
        settings.RELAIS_CLAMD_SOCKET = path
        servers.append(FakeClamd(listener, answer))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def tcp_clamd(settings) -> Iterator[FakeClamd]:
    listener = socket.create_server(("127.0.0.1", 0))
    host, port = listener.getsockname()
    settings.RELAIS_CLAMD_SOCKET = f"{host}:{port}"
    server = FakeClamd(listener, clamd_verdict)
    yield server
    server.stop()


def test_it_reports_a_file_as_not_scanned_when_no_antivirus_is_configured(settings):
    settings.RELAIS_CLAMD_SOCKET = ""

    assert scan(EICAR) == ScanResult(scanned=False, clean=True)


def test_it_reports_a_clean_file_as_scanned_and_clean(unix_clamd):
    clamd = unix_clamd()

    assert scan(b"%PDF-1.7 avis d'imposition") == ScanResult(scanned=True, clean=True)
    assert clamd.received == [b"%PDF-1.7 avis d'imposition"]


def test_it_streams_a_large_file_in_chunks(unix_clamd):
    clamd = unix_clamd()
    content = bytes(range(256)) * 1000

    scan(content)

    assert clamd.received == [content]
    assert len(clamd.chunk_sizes[0]) > 1
    assert max(clamd.chunk_sizes[0]) <= antivirus.CHUNK_BYTES


def test_it_raises_virus_found_with_a_french_message_naming_no_file(unix_clamd):
    unix_clamd()

    with pytest.raises(VirusFound) as found:
        scan(b"facture " + EICAR)

    assert str(found.value).startswith("Un virus a été détecté dans ce fichier")
    assert "facture" not in str(found.value)
    assert found.value.signature == "Eicar-Signature"


def test_it_reaches_clamd_over_tcp_when_the_setting_is_host_and_port(tcp_clamd):
    with pytest.raises(VirusFound):
        scan(EICAR)
    assert scan(b"bulletin de salaire") == ScanResult(scanned=True, clean=True)
    assert tcp_clamd.received == [EICAR, b"bulletin de salaire"]


def test_it_refuses_the_upload_when_the_socket_is_unreachable(tmp_path, settings):
    settings.RELAIS_CLAMD_SOCKET = str(tmp_path / "absent.sock")

    with pytest.raises(AntivirusUnavailable) as unavailable:
        scan(b"%PDF-1.7")

    assert "L'analyse antivirus est momentanément indisponible" in str(unavailable.value)


def test_it_refuses_the_upload_when_the_port_is_not_a_number(settings):
    settings.RELAIS_CLAMD_SOCKET = "clamav:port"

    with pytest.raises(AntivirusUnavailable):
        scan(b"%PDF-1.7")


def test_it_refuses_the_upload_when_clamd_answers_an_error(unix_clamd):
    unix_clamd(lambda content: b"INSTREAM size limit exceeded. ERROR\0")

    with pytest.raises(AntivirusUnavailable):
        scan(b"%PDF-1.7")


def test_it_refuses_the_upload_when_clamd_hangs_up_without_answering(unix_clamd):
    unix_clamd(lambda content: b"")

    with pytest.raises(AntivirusUnavailable):
        scan(b"%PDF-1.7")


def test_it_refuses_the_upload_when_clamd_does_not_answer_in_time(tmp_path, settings, monkeypatch):
    path = str(tmp_path / "mute.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen()
    settings.RELAIS_CLAMD_SOCKET = path
    monkeypatch.setattr(antivirus, "TIMEOUT_SECONDS", 0.2)

    with listener, pytest.raises(AntivirusUnavailable):
        scan(b"%PDF-1.7")
