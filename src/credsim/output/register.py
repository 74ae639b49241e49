"""The register, the central repository of a run: every observed record streamed to Parquet.

`RunWriter` watches a `Simulation` from outside: after each step it reads `sim.last_ctx` and
appends that month's records to `register.parquet` and its appeals to `appeals.parquet`, in row
groups of about `chunk_rows` rows, so the register is never held whole in memory.  At the steps
of `output.snapshots` and at the end it writes the state of every person and company to
`persons.parquet` and `companies.parquet` (one row per subject and snapshot step).

With `output.register_panel` < 1 a random panel of persons (and of companies) is drawn once
from the run's own `output` random stream: every record of a panel member is kept, none of the
others'.  The snapshots keep everyone and say who is in the panel (`in_panel`).  The schema of
every table is in docs/report.md.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..randomness import stream
from ..engine.state import BY_ASSOCIATION, BY_FALSE, BY_JOINT, BY_RULE, BY_SCORE, NOT_LISTED
from ..scenario.events import CHANNELS, EVENTS
from ..society.population import EDUCATION_LEVELS

CHUNK_ROWS = 1 << 20
EVENT_NAMES = tuple(EVENTS)
EVENT_CODE = {e: i for i, e in enumerate(EVENT_NAMES)}
EVENT_CHANNEL = np.array([CHANNELS.index(EVENTS[e][1]) for e in EVENT_NAMES], np.int8)
CAUSES = {NOT_LISTED: "none", BY_SCORE: "score", BY_RULE: "rule", BY_JOINT: "joint",
          BY_FALSE: "false_record", BY_ASSOCIATION: "association"}
SECTORS = ("public", "manufacturing", "services", "technology")
LIST_STATUS = ("none", "black", "red")


def _dict_type() -> pa.DataType:
    return pa.dictionary(pa.int8(), pa.string())


RECORDS = pa.schema([
    ("step", pa.int32()), ("person", pa.int32()), ("company", pa.int32()),
    ("event", _dict_type()), ("channel", _dict_type()), ("points", pa.float32()),
    ("is_true", pa.bool_()),
])
APPEALS = pa.schema([("step", pa.int32()), ("person", pa.int32()), ("upheld", pa.bool_()),
                     ("listing_ended", pa.bool_())])


def _labels(codes: np.ndarray, names) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int8()), pa.array(list(names), pa.string()))


class ParquetStream:
    """One Parquet file written in row groups of at least `chunk_rows` rows (the last may be short).

    Rows go to segment files under `parts/` next to the final file; `cut(step)` closes the
    current segment at a checkpoint, so a run killed later loses nothing before it, and
    `resume(step)` drops whatever was written from `step` on.  `close()` joins the segments
    into the final file; the run folder's commit removes `parts/`.
    """

    def __init__(self, path: Path, schema: pa.Schema | None, metadata: dict, chunk_rows: int = CHUNK_ROWS):
        self.path = Path(path)
        self.parts = self.path.parent / "parts"
        self.meta = metadata
        self.schema = schema.with_metadata(metadata) if schema is not None else None
        self.writer = None  # opened on the first rows (the schema is then known)
        self.chunk_rows = chunk_rows
        self.batches: list[pa.RecordBatch] = []
        self.pending = 0
        self.rows = 0
        self.start = 0  # first step of the open segment

    def _segments(self) -> list[Path]:
        return sorted(self.parts.glob(f"{self.path.stem}-*.parquet")) if self.parts.is_dir() else []

    @staticmethod
    def _first_step(segment: Path) -> int:
        return int(segment.stem.rsplit("-", 1)[1])

    def add(self, columns: dict) -> None:
        batch = pa.RecordBatch.from_pydict(columns, schema=self.schema)
        if self.schema is None:
            self.schema = batch.schema.with_metadata(self.meta)
            batch = batch.replace_schema_metadata(self.meta)
        if not batch.num_rows:
            return
        self.batches.append(batch)
        self.pending += batch.num_rows
        if self.pending >= self.chunk_rows:
            self.flush()

    def flush(self) -> None:
        if self.writer is None and self.schema is not None and self.batches:
            self.parts.mkdir(exist_ok=True)
            segment = self.parts / f"{self.path.stem}-{self.start:06d}.parquet"
            self.writer = pq.ParquetWriter(segment, self.schema, compression="zstd")
        if self.batches:
            table = pa.Table.from_batches(self.batches, schema=self.schema)
            self.writer.write_table(table, row_group_size=table.num_rows)
            self.rows += table.num_rows
        self.batches, self.pending = [], 0

    def cut(self, next_step: int) -> None:
        """Close the open segment (a checkpoint); later rows start a segment at `next_step`."""
        self.flush()
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        self.start = next_step

    def resume(self, step: int) -> None:
        """Continue a run restored at `step`: drop segments from `step` on, keep the rest."""
        self.rows = 0
        for segment in self._segments():
            if self._first_step(segment) >= step:
                segment.unlink()
            else:
                info = pq.ParquetFile(segment)
                self.rows += info.metadata.num_rows
                if self.schema is None:
                    self.schema = info.schema_arrow
        self.start = step

    def close(self) -> None:
        """Join the segments into the final file in row groups of exactly `chunk_rows` rows, so
        the file is the same whatever checkpoints cut the segments.  The segments stay until the
        run folder is committed (a run killed while finishing resumes from its checkpoint)."""
        self.cut(self.start)
        segments = self._segments()
        if segments or self.schema is not None:
            schema = self.schema if self.schema is not None else pq.read_schema(segments[0])
            tmp = self.path.with_name(self.path.name + ".tmp")
            with pq.ParquetWriter(tmp, schema, compression="zstd") as out:
                buf, rows = [], 0
                for segment in segments:
                    for batch in pq.ParquetFile(segment).iter_batches(batch_size=1 << 16):
                        buf.append(batch)
                        rows += batch.num_rows
                        while rows >= self.chunk_rows:
                            table = pa.Table.from_batches(buf, schema=schema)
                            out.write_table(table.slice(0, self.chunk_rows), row_group_size=self.chunk_rows)
                            rest = table.slice(self.chunk_rows)
                            buf, rows = rest.to_batches(), rest.num_rows
                if rows:
                    out.write_table(pa.Table.from_batches(buf, schema=schema), row_group_size=rows)
            tmp.replace(self.path)


def record_names(sim) -> tuple[tuple, dict]:
    """Event names of the register: the events, then the record kinds of the rules in force."""
    names = EVENT_NAMES + tuple(n for r in sim.sc.rules for n in (k.name for k in r.kinds))
    return names, {n: i for i, n in enumerate(names)}


def record_channels(sim) -> np.ndarray:
    """The channel (index into CHANNELS) of each name of `record_names`: a kind's is its action's."""
    extra = [CHANNELS.index(EVENTS[r.event][1]) for r in sim.sc.rules for _ in r.kinds]
    return np.concatenate([EVENT_CHANNEL, np.array(extra, np.int8)])


def record_points(sim, event: str) -> float:
    """The points a record of `event` carried in the step just run (0 where scoring is off)."""
    if event == "joint_representative":
        return sim.sc.sanctions.joint.representative_points if sim.sc.scoring.enabled else 0.0
    return sim.rulebook.pts(event)


class RunWriter:
    """Streams the register and writes the snapshots of one run into `folder`."""

    def __init__(self, folder: Path, sim, metadata: dict, chunk_rows: int = CHUNK_ROWS):
        out = sim.sc.output
        self.folder = Path(folder)
        self.meta = metadata
        self.chunk_rows = chunk_rows
        self.snapshot_steps = set(out.snapshots)
        self.seconds = 0.0
        start = time.perf_counter()
        n, m = sim.society.persons.count, sim.society.companies.count
        if out.register_panel < 1.0:
            rng = stream(sim.sc.run.seed, "output")
            self.panel_p, self.panel_c = rng.random(n) < out.register_panel, rng.random(m) < out.register_panel
        else:
            self.panel_p, self.panel_c = None, None
        self.records = self.appeals = None
        if out.register_records:
            self.records = ParquetStream(self.folder / "register.parquet", RECORDS, metadata, chunk_rows)
            self.appeals = ParquetStream(self.folder / "appeals.parquet", APPEALS, metadata, chunk_rows)
        self.persons = ParquetStream(self.folder / "persons.parquet", None, metadata, chunk_rows)
        self.companies = ParquetStream(self.folder / "companies.parquet", None, metadata, chunk_rows)
        self.last_snapshot = -1
        self.seconds += time.perf_counter() - start

    def in_panel(self, idx: np.ndarray, person: bool) -> np.ndarray:
        panel = self.panel_p if person else self.panel_c
        return idx if panel is None else idx[panel[idx]]

    def after_step(self, sim) -> None:
        """Append the step just run (`sim.last_ctx`); write a snapshot if the step is chosen."""
        start = time.perf_counter()
        ctx = sim.last_ctx
        if self.records is not None:
            self.records.add(self._records(sim, ctx))
            self.appeals.add(self._appeals(ctx))
        if ctx.t in self.snapshot_steps:
            self.snapshot(sim)
        self.seconds += time.perf_counter() - start

    def _records(self, sim, ctx) -> dict:
        ids, codes, person, true, points = [], [], [], [], []
        names, code_of = record_names(sim)
        for ev, idx, is_true in ctx.records:
            is_person = EVENTS[ev][0] == "person"
            idx = np.asarray(idx)
            kinds = sim.rulebook.kinds.get(ev) if is_true else None
            if kinds is not None and ev in ctx.kinds:
                kcode = ctx.kinds[ev]
                if self.panel_p is not None:
                    keep = self.panel_p[idx]
                    idx, kcode = idx[keep], kcode[keep]
                code = np.array([code_of[n] for n in kinds.names], np.int8)[kcode]
                pts = kinds.points[kcode]
            else:
                idx = self.in_panel(idx, is_person)
                code = np.full(len(idx), EVENT_CODE[ev], np.int8)
                pts = np.full(len(idx), record_points(sim, ev), np.float32)
            k = len(idx)
            if not k:
                continue
            ids.append(idx.astype(np.int32))
            codes.append(code)
            person.append(np.full(k, is_person))
            true.append(np.full(k, bool(is_true)))
            points.append(pts)
        if not ids:
            return {name: [] for name in RECORDS.names}
        ids, codes, person = np.concatenate(ids), np.concatenate(codes), np.concatenate(person)
        return {
            "step": np.full(len(ids), ctx.t, np.int32),
            "person": pa.array(ids, pa.int32(), mask=~person),
            "company": pa.array(ids, pa.int32(), mask=person),
            "event": _labels(codes, names),
            "channel": _labels(record_channels(sim)[codes], CHANNELS),
            "points": np.concatenate(points),
            "is_true": np.concatenate(true),
        }

    def _appeals(self, ctx) -> dict:
        if ctx.appealed is None or not len(ctx.appealed):
            return {name: [] for name in APPEALS.names}
        who = self.in_panel(ctx.appealed, True)
        return {
            "step": np.full(len(who), ctx.t, np.int32),
            "person": who.astype(np.int32),
            "upheld": np.isin(who, ctx.upheld),
            "listing_ended": np.isin(who, ctx.appeal_exits),
        }

    def streams(self) -> list[ParquetStream]:
        return [f for f in (self.records, self.appeals, self.persons, self.companies) if f is not None]

    def checkpoint(self, next_step: int) -> None:
        """Close every open segment: all rows up to `next_step` are safe on disk."""
        for f in self.streams():
            f.cut(next_step)

    def resume(self, step: int) -> None:
        """Drop what was written after the checkpoint a run is resumed from."""
        for f in self.streams():
            f.resume(step)

    def snapshot(self, sim) -> None:
        """Write every person's and company's state at the end of the step just run."""
        t = sim.last_ctx.t
        if t == self.last_snapshot:
            return
        self.last_snapshot = t
        for target, columns in ((self.persons, person_columns(sim, self.panel_p)),
                                (self.companies, company_columns(sim, self.panel_c))):
            rows = len(columns["score"])
            columns = {"step": np.full(rows, t, np.int32), **columns}
            for lo in range(0, rows, self.chunk_rows):
                target.add({k: v[lo:lo + self.chunk_rows] for k, v in columns.items()})
            target.flush()

    def close(self, sim) -> dict:
        """Write the final snapshot, close every file; returns what was written."""
        start = time.perf_counter()
        if sim.last_ctx is not None:
            self.snapshot(sim)
        for f in self.streams():
            f.close()
        self.seconds += time.perf_counter() - start
        return {
            "register_records": self.records.rows if self.records else 0,
            "register_panel": sim.sc.output.register_panel,
            "register_bytes": self.records.path.stat().st_size if self.records else 0,
            "register_write_s": round(self.seconds, 3),
            "snapshot_steps": sorted(self.snapshot_steps | {self.last_snapshot}),
        }


def _panel(panel, n: int) -> np.ndarray:
    return np.ones(n, bool) if panel is None else panel


def _list_status(black: np.ndarray, red: np.ndarray | None) -> pa.DictionaryArray:
    code = black.astype(np.int8)
    if red is not None:
        code[red] = 2
    return _labels(code, LIST_STATUS)


def person_columns(sim, panel) -> dict:
    """The persons snapshot (state at the end of the step just run), one array per column."""
    st, p, view = sim.state, sim.society.persons, sim.view
    n = len(st.score)
    return {
        "person": np.arange(n, dtype=np.int32),
        "region": p.region.astype(np.int32),
        "in_panel": _panel(panel, n),
        "score": st.score,
        "grade": _labels(st.grade, [g.name for g in sim.sc.scoring.grades]),
        "list_status": _list_status(st.black, st.red),
        "list_cause": _labels(st.list_cause, [CAUSES[k] for k in range(len(CAUSES))]),
        "months_listed": st.months_listed,
        "default_outstanding": st.default_out,
        "education": _labels(p.education, EDUCATION_LEVELS),
        "income_quintile": (st.initial_income_quintile + 1).astype(np.int8),
        "income": st.income,
        "employer": pa.array(st.employer, pa.int32(), mask=st.employer < 0),
        "degree": view.degree,
        "friend_degree": view.friend_degree,
        "internalization": st.internalization,
        "salience": st.salience,
        "hardship": st.hardship,
        "refusals": st.refusals,
        "rewards": st.rewards,
        "jobs_lost": st.jobs_lost,
    }


def company_columns(sim, panel) -> dict:
    """The companies snapshot (state at the end of the step just run), one array per column."""
    st, c = sim.state, sim.society.companies
    m = len(st.c_score)
    return {
        "company": np.arange(m, dtype=np.int32),
        "region": c.region.astype(np.int32),
        "in_panel": _panel(panel, m),
        "sector": _labels(c.sector, SECTORS),
        "public": c.public,
        "employees": np.bincount(st.employer[st.employer >= 0], minlength=m).astype(np.int32),
        "representative": c.representative.astype(np.int32),
        "score": st.c_score,
        "grade": _labels(st.c_grade, [g.name for g in sim.sc.scoring.grades]),
        "list_status": _list_status(st.c_black, None),
        "months_listed": st.c_months_listed,
        "default_outstanding": st.c_default_out,
    }
