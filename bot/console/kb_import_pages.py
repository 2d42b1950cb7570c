"""Import pages: upload a CSV, XLSX, JSONL or Taipei XML file, follow its progress, read the report."""

from __future__ import annotations

import csv
import io
import tempfile
import threading
from pathlib import Path, PurePath
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile, status
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from bot.console.import_text import COLUMN_NAMES, reason, where
from bot.console.imports import FORMAT_NAMES, SUFFIXES, ImportJobs, rejected_rows
from bot.console.pages import redirect, render
from bot.deps import StaffUser, settings_of
from bot.harvest.policy import UpstreamPolicy
from bot.security.auth import ConsoleUser
from bot.store import Database

__all__ = ["router", "import_jobs"]

router = APIRouter(tags=["console"], include_in_schema=False)
_jobs_lock = threading.Lock()
CHUNK = 1 << 20


def import_jobs(request: Request) -> ImportJobs:
    """This app's import runner (made on first use)."""
    state = request.app.state
    with _jobs_lock:
        if not hasattr(state, "console_imports"):
            database: Database = state.database
            policy = UpstreamPolicy.of(settings_of(request).harvest)
            state.console_imports = ImportJobs(database, Path(tempfile.gettempdir()), policy)
        jobs: ImportJobs = state.console_imports
        return jobs


def _form(request: Request, user: ConsoleUser, error: str = "", code: int = 200) -> HTMLResponse:
    jobs = import_jobs(request).recent()
    return render(
        request,
        "console/kb_import.html",
        user=user,
        formats=FORMAT_NAMES,
        jobs=jobs,
        error=error,
        max_mb=settings_of(request).console.import_max_mb,
        status_code=code,
    )


@router.get("/console/kb/import", response_class=HTMLResponse)
def import_form(request: Request, user: StaffUser) -> HTMLResponse:
    return _form(request, user)


def _save(upload: UploadFile, limit: int) -> tuple[Path, int]:
    folder = Path(tempfile.mkdtemp(prefix="bot1999-import-"))
    name = PurePath(upload.filename or "upload").name or "upload"
    target = folder / name
    size = 0
    with target.open("wb") as out:
        while chunk := upload.file.read(CHUNK):
            size += len(chunk)
            if size > limit:
                break
            out.write(chunk)
    return target, size


@router.post("/console/kb/import", response_class=HTMLResponse)
async def start_import(
    request: Request,
    user: StaffUser,
    file: Annotated[UploadFile, File()],
    fmt: Annotated[str, Form(max_length=20)] = "auto",
    merge_duplicates: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    filename = PurePath(file.filename or "").name
    chosen = SUFFIXES.get(PurePath(filename).suffix.lower(), "") if fmt == "auto" else fmt
    if chosen not in FORMAT_NAMES:
        message = "無法從檔名判斷格式，請選擇檔案格式。" if fmt == "auto" else "請選擇檔案格式。"
        return await run_in_threadpool(_form, request, user, message, status.HTTP_400_BAD_REQUEST)
    limit = settings_of(request).console.import_max_mb * 1024 * 1024
    path, size = await run_in_threadpool(_save, file, limit)
    if size > limit or size == 0:
        path.unlink(missing_ok=True)
        path.parent.rmdir()
        message = "檔案是空的。" if size == 0 else f"檔案太大（上限 {limit // 1024 // 1024} MB）。"
        return await run_in_threadpool(_form, request, user, message, status.HTTP_400_BAD_REQUEST)
    jobs = import_jobs(request)
    job_id = await run_in_threadpool(
        lambda: jobs.start(
            path, filename, chosen, merge_duplicates=merge_duplicates == "yes", actor=user.username
        )
    )
    return redirect(request, f"/console/kb/import/{job_id}", f"已開始匯入 {filename}。")


@router.get("/console/kb/import/{job_id}", response_class=HTMLResponse)
def import_job(request: Request, job_id: int, user: StaffUser) -> HTMLResponse:
    view = import_jobs(request).view(job_id)
    if view is None:
        return render(request, "console/kb_missing.html", user=user, faq_id=f"匯入 {job_id}", status_code=404)
    return render(
        request,
        "console/kb_import_job.html",
        user=user,
        job=view,
        formats=FORMAT_NAMES,
        rejected=rejected_rows(view),
        where=where,
        reason=reason,
    )


@router.get("/console/api/kb/import/{job_id}")
def import_status(request: Request, job_id: int, user: StaffUser) -> JSONResponse:
    """The job's progress for the page's script: status, total and done rows, a message."""
    view = import_jobs(request).view(job_id)
    if view is None:
        return JSONResponse({"detail": f"no import job {job_id}"}, status.HTTP_404_NOT_FOUND)
    return JSONResponse(view.public(), headers={"Cache-Control": "no-store"})


@router.get("/console/kb/import/{job_id}/rejected.csv")
def rejected_csv(request: Request, job_id: int, user: StaffUser) -> Response:
    view = import_jobs(request).view(job_id)
    if view is None:
        return Response(f"沒有匯入 #{job_id}。\n", status.HTTP_404_NOT_FOUND, media_type="text/plain")
    rows = rejected_rows(view)
    # The row's own cells under the CSV importer's Chinese column names, so the file can be
    # fixed and imported again as it is (位置 and 原因 are ignored on import).
    fields = [name for name in COLUMN_NAMES if any(name in row.row for row in rows)]
    fields += sorted({name for row in rows for name in row.row} - set(COLUMN_NAMES))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["位置", "原因", *(COLUMN_NAMES.get(name, name) for name in fields)])
    for row in rows:
        writer.writerow([where(row.where), reason(row.reason), *(row.row.get(name, "") for name in fields)])
    return Response(
        "\ufeff" + out.getvalue(),  # a BOM, so Excel reads the Chinese right
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="import-{job_id}-rejected.csv"',
            "Cache-Control": "no-store",
        },
    )
