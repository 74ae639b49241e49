"""`credsim query RUN_DIR "SQL"`: run SQL over a run's tables, print it or stream it to a file.

Results written with --csv or --parquet are streamed in record batches (never held whole);
a Parquet result keeps the run's provenance (`credsim.*` metadata) and the query itself.
"""

from __future__ import annotations

from pathlib import Path

BATCH_ROWS = 1 << 17


class QueryError(ValueError):
    """The SQL cannot run over this run's tables (a user's mistake; exit status 2)."""


def _error(exc: Exception, run) -> QueryError:
    msg = " ".join(str(exc).split())
    tables = ", ".join(run.tables)
    hint = ""
    if "register" not in run.tables:
        hint = " This run has no register (it was run with output.register_records = false)."
    return QueryError(f"SQL: {msg}\nTables in {run.path}: {tables}.{hint} "
                      "See a table's columns with DESCRIBE <table>; the schema is in docs/report.md.")


def _execute(run, sql: str):
    import duckdb

    try:
        return run.connection.sql(sql)  # a relation (None for a statement that returns no rows)
    except duckdb.InternalException:
        raise
    except duckdb.Error as exc:
        raise _error(exc, run) from None


def run_query(run, sql: str, console, csv: Path | None = None, parquet: Path | None = None,
              max_rows: int = 50) -> int:
    """Run `sql`; print up to `max_rows` rows, or write every row to `csv` / `parquet`.

    Returns the number of rows printed or written.
    """
    import duckdb

    result = _execute(run, sql)
    if result is None:
        console.print("ok (the statement returns no rows)", highlight=False)
        return 0
    try:
        if csv is None and parquet is None:
            return _print(result, console, max_rows)
        return _write(result, run, sql, csv, parquet, console)
    except duckdb.InternalException:
        raise
    except duckdb.Error as exc:
        raise _error(exc, run) from None


def _cell(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return f"{value:.6g}" if abs(value) < 1e6 else f"{value:.1f}"
    return str(value)


def _print(result, console, max_rows: int) -> int:
    from .console import print_table

    rows = result.limit(max_rows + 1).fetchall()
    print_table(console, list(result.columns), [[_cell(v) for v in row] for row in rows[:max_rows]],
                numeric_from=10**6)
    shown = min(len(rows), max_rows)
    if len(rows) > max_rows:
        console.print(f"(first {max_rows} rows shown; more follow: raise --max-rows, or write every row "
                      "with --csv FILE or --parquet FILE)", highlight=False)
    else:
        console.print(f"({shown} row{'s' if shown != 1 else ''})", highlight=False)
    return shown


def _write(result, run, sql: str, csv: Path | None, parquet: Path | None, console) -> int:
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    to_reader = getattr(result, "to_arrow_reader", None) or result.fetch_arrow_reader  # duckdb 2.x, 1.x
    reader = to_reader(BATCH_ROWS)
    schema = reader.schema
    meta = {f"credsim.{k}": str(run.summary[k]) for k in
            ("credsim_version", "scenario", "scenario_hash", "seed", "agents", "steps") if k in run.summary}
    meta["credsim.query"] = sql
    targets = [p for p in (csv, parquet) if p is not None]
    tmps = [p.with_name(f".{p.name}.partial") for p in targets]
    writers = []
    rows = 0
    try:
        if csv is not None:
            writers.append(pcsv.CSVWriter(tmps[0], schema))
        if parquet is not None:
            writers.append(pq.ParquetWriter(tmps[-1], schema.with_metadata(meta), compression="zstd"))
        for batch in reader:
            rows += batch.num_rows
            for w in writers:
                w.write_batch(batch)
        for w in writers:
            w.close()
        for tmp, target in zip(tmps, targets):
            tmp.replace(target)
    finally:
        for tmp in tmps:
            tmp.unlink(missing_ok=True)
    for target in targets:
        console.print(f"wrote {rows:,} rows to {target}", highlight=False)
    return rows
