"""Citizens' photos from the chat channels: checked, then kept under a content-addressed name.

A photo is accepted only if it is a JPEG, PNG or WebP image (judged by its bytes, not by
what the sender claims) and no larger than the configured limit. Its reference,
``media:<sha256>.<ext>``, is what the case form's photo slot and the case keep; the same
photo sent twice is stored once.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

__all__ = ["MediaRejected", "MediaStore", "image_type", "REF_PREFIX"]

REF_PREFIX = "media:"
_REF = re.compile(r"^media:(?P<digest>[0-9a-f]{64})\.(?P<ext>jpg|png|webp)$")


class MediaRejected(Exception):
    """A photo that is not kept; ``str(error)`` is the explanation for the citizen."""


def image_type(data: bytes) -> str | None:
    """The file extension for JPEG, PNG or WebP bytes, or None for anything else."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


class MediaStore:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def too_large(self, size: int | None) -> bool:
        """For channels that announce a size before the download: refuse early."""
        return size is not None and size > self.max_bytes

    def too_large_message(self) -> str:
        megabytes = self.max_bytes / 1_000_000
        return f"照片太大了（上限 {megabytes:g} MB），請縮小或改傳另一張照片。"

    def save(self, data: bytes) -> str:
        """Keep ``data`` and return its reference; raise ``MediaRejected`` with the citizen's message."""
        if len(data) > self.max_bytes:
            raise MediaRejected(self.too_large_message())
        if not data:
            raise MediaRejected("沒有收到照片內容，請再傳一次。")
        ext = image_type(data)
        if ext is None:
            raise MediaRejected("只能收 JPEG、PNG 或 WebP 格式的照片，請改傳一張照片。")
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest, ext)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # write beside it and rename: a reader never sees half a photo
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return f"{REF_PREFIX}{digest}.{ext}"

    def path(self, ref: str) -> Path | None:
        """Where a reference's photo is kept, or None if the reference is not one of ours."""
        match = _REF.match(ref)
        if match is None:
            return None
        path = self._path(match["digest"], match["ext"])
        return path if path.is_file() else None

    def _path(self, digest: str, ext: str) -> Path:
        return self.root / digest[:2] / f"{digest}.{ext}"
