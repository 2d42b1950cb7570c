"""The photo store: only real JPEG/PNG/WebP images within the size limit, kept by content."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.media import MediaRejected, MediaStore, image_type
from tests.bot.channels.conftest import JPEG, PNG

WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 40


def test_images_are_recognised_by_their_bytes() -> None:
    assert image_type(JPEG) == "jpg"
    assert image_type(PNG) == "png"
    assert image_type(WEBP) == "webp"
    assert image_type(b"GIF89a" + b"\x00" * 20) is None
    assert image_type(b"<svg xmlns='http://www.w3.org/2000/svg'/>") is None
    assert image_type(b"") is None


def test_a_photo_is_kept_once_under_its_content_address(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media", max_bytes=10_000)
    ref = store.save(JPEG)
    assert ref.startswith("media:")
    assert ref.endswith(".jpg")
    assert store.save(JPEG) == ref  # the same photo twice: one file
    path = store.path(ref)
    assert path is not None
    assert path.read_bytes() == JPEG
    assert [p.name for p in (tmp_path / "media").rglob("*") if p.is_file()] == [path.name]
    assert store.save(PNG) != ref


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"%PDF-1.7 not a photo", "JPEG、PNG 或 WebP"),
        (b"GIF89a" + b"\x00" * 50, "JPEG、PNG 或 WebP"),
        (b"", "沒有收到照片"),
        (b"\xff\xd8\xff" + b"\x00" * 20_000, "照片太大了（上限 0.01 MB）"),
    ],
)
def test_oversize_and_non_images_are_refused_with_a_clear_message(
    tmp_path: Path, data: bytes, says: str
) -> None:
    store = MediaStore(tmp_path / "media", max_bytes=10_000)
    with pytest.raises(MediaRejected, match=says.replace("(", r"\(").replace(")", r"\)")):
        store.save(data)
    assert not (tmp_path / "media").exists() or not any((tmp_path / "media").rglob("*.*"))


def test_references_that_are_not_ours_resolve_to_nothing(tmp_path: Path) -> None:
    store = MediaStore(tmp_path, max_bytes=10_000)
    assert store.path("media:../../etc/passwd.jpg") is None
    assert store.path("https://example.org/a.jpg") is None
    assert store.path("media:" + "0" * 64 + ".jpg") is None  # well formed, but never stored
    assert store.too_large(10_001)
    assert not store.too_large(None)
    assert not store.too_large(10_000)
