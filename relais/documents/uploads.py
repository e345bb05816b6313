"""Receives the files of a request in memory, never in a temporary file, and never more of
them than one document may weigh.

Django's default handlers write any file over a few megabytes to a temporary file, in clear,
and keep every byte sent before anything checks its size: a supporting document must reach the
disk only encrypted (documents/vault.py), and a request must not hold more memory than one
document. This handler keeps the request's files in memory up to RELAIS_DOCUMENT_MAX_BYTES
in all. Past that, a file's bytes are dropped as they come: the view gets it empty, with
the size that was sent, which the documents' checks refuse in French (validation.py), on
the page, instead of a connection cut short. The reverse proxy bounds the body itself
(client_max_body_size).
"""

import io
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile, UploadedFile
from django.core.files.uploadhandler import FileUploadHandler


class DocumentUploadHandler(FileUploadHandler):
    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        # The bytes the request's files hold in memory, all files together.
        self.kept = 0

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.file = io.BytesIO()
        self.received = 0
        self.dropped = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.received += len(raw_data)
        if self.dropped:
            return
        if self.kept + len(raw_data) > settings.RELAIS_DOCUMENT_MAX_BYTES:
            self.kept -= self.file.tell()
            self.file = io.BytesIO()
            self.dropped = True
            return
        self.file.write(raw_data)
        self.kept += len(raw_data)

    def file_complete(self, file_size: int) -> UploadedFile:
        self.file.seek(0)
        if self.dropped:
            return UploadedFile(
                file=self.file,
                name=self.file_name,
                content_type=self.content_type,
                size=self.received,
                charset=self.charset,
                content_type_extra=self.content_type_extra,
            )
        return InMemoryUploadedFile(
            file=self.file,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )
