"""Imports started from the console: run in a background thread, report progress, keep a report.

The file goes through the one import path (``knowledge.importers.read`` →
``bot.store.kb_import.import_rows``) in one transaction, so an import lands whole or not at
all, under the same :class:`~bot.harvest.policy.UpstreamPolicy` as the harvest and ``bot1999 kb
import``: staff's overrides are never undone, a change to one is queued for review (來源更新),
and with ``harvest.upstream_changes = "review"`` every change waits there. Progress lives in this process's memory while the import runs (a SQLite database takes
one writer at a time, and the import is it); the job row records the start and the final
report, with every rejected row and why.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.console import import_text
from bot.harvest.policy import UpstreamPolicy
from bot.store import Database
from bot.store.kb_import import import_rows
from bot.store.models import ImportJobRow, utcnow
from bot.store.users import UserStore
from knowledge.importers import FORMATS, ImportError_, Rejected, Row, read

__all__ = ["FORMAT_NAMES", "ImportJobs", "JobView", "SUFFIXES"]

log = logging.getLogger(__name__)

FORMAT_NAMES = {
    "csv": "CSV",
    "xlsx": "Excel（XLSX）",
    "jsonl": "JSONL（每行一題）",
    "taipei-xml": "臺北市 XML",
}
SUFFIXES = {".csv": "csv", ".xlsx": "xlsx", ".jsonl": "jsonl", ".ndjson": "jsonl", ".xml": "taipei-xml"}
STATUS_TEXT = {"queued": "排隊中", "running": "匯入中", "done": "完成", "failed": "失敗"}


@dataclass
class _Progress:
    phase: str = "queued"
    total: int = 0
    done: int = 0


@dataclass(frozen=True, slots=True)
class JobView:
    """A job as the import page and its status API show it."""

    id: int
    actor: str
    filename: str
    fmt: str
    status: str
    total: int
    done: int
    message: str
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.status in {"done", "failed"}

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "total": self.total,
            "done": self.done,
            "message": self.message,
            "finished": self.finished,
        }


def _report(report: Any) -> dict[str, Any]:
    stored = {
        "imported": report.imported,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "merged": report.merged,
        "conflicts": report.conflicts,
        "held": report.held,
        "rejected": [{"where": r.where, "reason": r.reason, "row": dict(r.row)} for r in report.rejected],
        "duplicates": [
            {"where": d.where, "faq_id": d.faq_id, "same_as": d.same_as} for d in report.duplicates
        ],
        "kb_version": report.kb_version,
    }
    return {"summary": import_text.summary(stored), **stored}


class ImportJobs:
    """The console's imports in this process (one at a time per process; others queue)."""

    def __init__(self, database: Database, work_dir: Path, policy: UpstreamPolicy) -> None:
        self.database = database
        self.work_dir = work_dir
        self.policy = policy
        self._progress: dict[int, _Progress] = {}
        self._lock = threading.Lock()
        self._one_at_a_time = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self, upload: Path, filename: str, fmt: str, *, merge_duplicates: bool, actor: str) -> int:
        """Queue ``upload`` (a file this object now owns) and import it in the background."""
        if fmt not in FORMATS:
            raise ImportError_(f"unknown format {fmt!r}")
        with self.database.session() as session:
            job = ImportJobRow(
                actor=actor,
                filename=filename[:300],
                fmt=fmt,
                merge_duplicates=merge_duplicates,
                status="queued",
                total=0,
                done=0,
                message="",
                report={},
                created_at=utcnow(),
                updated_at=utcnow(),
            )
            session.add(job)
            session.flush()
            job_id = job.id
            UserStore(session).audit(actor, "kb.import.start", filename[:200], job=job_id, format=fmt)
        with self._lock:
            self._progress[job_id] = _Progress()
            self._threads = [t for t in self._threads if t.is_alive()]
        thread = threading.Thread(
            target=self._run, args=(job_id, upload, fmt, merge_duplicates, actor), name=f"kb-import-{job_id}"
        )
        thread.daemon = True
        self._threads.append(thread)
        thread.start()
        return job_id

    def wait(self, timeout: float = 30.0) -> None:
        """Wait for running imports (for an orderly shutdown and for tests)."""
        deadline = time.monotonic() + timeout
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))

    def _set(self, job_id: int, **changes: Any) -> None:
        with self.database.session() as session:
            job = session.get(ImportJobRow, job_id)
            if job is not None:
                for key, value in changes.items():
                    setattr(job, key, value)
                job.updated_at = utcnow()

    def _run(self, job_id: int, upload: Path, fmt: str, merge: bool, actor: str) -> None:
        progress = self._progress[job_id]
        try:
            with self._one_at_a_time:
                progress.phase = "running"
                self._set(job_id, status="running", message="讀取檔案中")
                rows: list[Row] = list(read(upload, fmt))
                progress.total = len(rows)

                def tick(_row: Row) -> None:
                    progress.done += 1

                with self.database.session() as session:
                    report = import_rows(
                        session,
                        rows,
                        actor=actor,
                        merge_duplicates=merge,
                        progress=tick,
                        hold=self.policy.hold,
                        new_status=self.policy.new_status,
                    )
                    summary = _report(report)
                    UserStore(session).audit(actor, "kb.import", f"#{job_id}", summary=summary["summary"])
                self._set(
                    job_id,
                    status="done",
                    total=len(rows),
                    done=len(rows),
                    message=summary["summary"],
                    report=summary,
                    finished_at=utcnow(),
                )
        except ImportError_ as error:
            self._fail(job_id, f"無法讀取檔案：{import_text.file_error(str(error))}")
        except Exception as error:  # the job must end with a reason, whatever went wrong
            log.exception("import job %d failed", job_id)
            self._fail(job_id, f"匯入失敗，沒有任何資料被變更（{type(error).__name__}: {error}）")
        finally:
            progress.phase = "finished"
            shutil.rmtree(upload.parent, ignore_errors=True)

    def _fail(self, job_id: int, message: str) -> None:
        self._set(job_id, status="failed", message=message[:2000], finished_at=utcnow())

    def view(self, job_id: int) -> JobView | None:
        with self.database.session() as session:
            job = session.get(ImportJobRow, job_id)
            if job is None:
                return None
            view = JobView(
                job.id,
                job.actor,
                job.filename,
                job.fmt,
                job.status,
                job.total,
                job.done,
                job.message,
                job.report,
            )
        progress = self._progress.get(job_id)
        if view.status == "running" and progress is not None and progress.phase == "running":
            message = f"匯入中：{progress.done} / {progress.total} 列" if progress.total else "讀取檔案中"
            return JobView(
                view.id,
                view.actor,
                view.filename,
                view.fmt,
                "running",
                progress.total,
                progress.done,
                message,
            )
        if not view.message:
            return JobView(
                view.id,
                view.actor,
                view.filename,
                view.fmt,
                view.status,
                view.total,
                view.done,
                STATUS_TEXT.get(view.status, view.status),
                view.report,
            )
        return view

    def recent(self, limit: int = 10) -> list[ImportJobRow]:
        from sqlalchemy import select

        with self.database.session() as session:
            return list(session.scalars(select(ImportJobRow).order_by(ImportJobRow.id.desc()).limit(limit)))


def rejected_rows(view: JobView) -> list[Rejected]:
    """The job's rejected rows, each with its cells (none for a job imported before they were kept)."""
    return [
        Rejected(str(r["where"]), str(r["reason"]), {str(k): str(v) for k, v in r.get("row", {}).items()})
        for r in view.report.get("rejected", [])
    ]
