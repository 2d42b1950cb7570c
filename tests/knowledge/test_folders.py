"""knowledge.folders: staging folders of a killed writer do not pile up; the swap replaces."""

from __future__ import annotations

from pathlib import Path

from knowledge.folders import exclusive_lock, new_staging, swap_into_place


def test_a_killed_writers_staging_folder_is_removed_by_the_next_writer(tmp_path: Path) -> None:
    dest = tmp_path / "e5-adapted-abc"
    leftover = tmp_path / ".e5-adapted-abc.tmp-dead1234"
    leftover.mkdir()
    (leftover / "model.safetensors").write_bytes(b"half a model")
    other = tmp_path / ".e5-adapted-xyz.tmp-live5678"  # another key's writer: not ours to remove
    other.mkdir()
    with exclusive_lock(tmp_path / f".{dest.name}.lock"):
        staging = new_staging(dest)
        (staging / "model.safetensors").write_bytes(b"a whole model")
        swap_into_place(staging, dest)
    assert not leftover.exists()
    assert other.is_dir()
    assert (dest / "model.safetensors").read_bytes() == b"a whole model"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".e5-adapted-abc.lock",
        ".e5-adapted-xyz.tmp-live5678",
        "e5-adapted-abc",
    ]


def test_the_swap_replaces_an_outdated_folder(tmp_path: Path) -> None:
    dest = tmp_path / "model"
    dest.mkdir()
    (dest / "old").write_text("old")
    staging = new_staging(dest)
    (staging / "new").write_text("new")
    swap_into_place(staging, dest)
    assert sorted(p.name for p in dest.iterdir()) == ["new"]
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
