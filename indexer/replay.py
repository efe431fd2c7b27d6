"""Rebuilds under way, and the writes each one catches up on at its swap.

A rebuild reads the database batch by batch into a fresh index while the live indexer
keeps applying outbox rows to the old index and deleting them. A write committed after
its asset's batch was read is missing from the new index, and once the indexer has
applied it to the old index and deleted its row, nothing would bring it over. Its writer
was told it is searchable, so it must already be in the new index when that one is
swapped in. This module closes the gap without a second pass over every document.

The protocol:

1. `begin`: the rebuild commits its row in index_rebuild before it reads any document.
2. While any rebuild row exists, the indexer, in the transaction that deletes the outbox
   rows it has applied, copies their asset ids into index_replay: one INSERT … SELECT …
   WHERE EXISTS (index_rebuild) (`indexer.outbox.acknowledge`).
3. `mark_built` once every document is read.
4. `swap_window`, one transaction around the swap: it locks the rebuild's row against
   every acknowledgement, loads the current document of each asset in index_replay, the
   engine writes them into the new index and swaps it in, and the transaction records
   the swap and S, the newest outbox id at that moment, before it releases the lock.
5. `finish`, once no outbox row with an id up to S remains: in one transaction, every
   asset in index_replay is queued in the outbox again, the replay rows are deleted
   when no other rebuild remains, and the rebuild row goes. The indexer then applies
   the queued assets to the new index, reading each one's state afresh. (Step 4 made
   this a second safety net: it repeats writes the new index already holds.)

Why no acknowledged write is ever missing from a search. Take the last write W to an
asset, committed with its outbox row o. If W committed before the asset's batch was
read, the new index has it. Otherwise W committed after step 1 (which precedes every
read), and the batch that applies o read index_rebuild after claiming o (`unswapped`),
so it saw this rebuild's row. Its acknowledgement either

(a) committed before the window took its lock: the window then sees its index_replay
    row and writes the asset's current state into the new index before the swap; or
(b) waited for the window's lock, then finds the swap recorded and, still before it
    deletes o (which is when W's writer is answered), writes the batch again, now into
    the new index (`indexer.outbox.acknowledge`). Applying a batch twice is harmless:
    applying an asset always writes its current state.

Step 5 alone keeps the older guarantee (every write lands in the new index eventually)
when a swap happened but its transaction failed, the one case step 4 cannot record.
Take o again. It is either

(a) applied to the new index: the embedded engine follows a swap at the start of every
    apply, and Meilisearch processes the swap task before any task queued after it; or
(b) applied to the old index, so its apply began before the swap and o was committed
    before the swap. When S is read, after the swap, o is then either deleted already or
    still there with an id up to S: S is the largest id visible at that moment, and o is
    visible (on PostgreSQL ids can commit out of order, but a row with a larger id that
    was invisible then commits after the swap, which is case (a)). Step 5 waits until no
    row up to S remains, so o's deletion has committed before step 5 reads index_replay,
    and that deletion ran after step 1 and before step 5 removed the rebuild row: its
    INSERT … SELECT saw the row and recorded the asset. Step 5 queues it again.

Concurrency. On PostgreSQL the window takes its row FOR UPDATE, which waits for the
acknowledgements holding it FOR KEY SHARE and holds off the next ones; on SQLite it
starts with a write, taking the database's one write lock, which every acknowledgement
also needs. `finish` and the discarding of a dead rebuild first take a SHARE ROW
EXCLUSIVE lock on index_rebuild, which conflicts with the INSERT of `begin`: a rebuild
that starts while another one finishes waits for it, so the finisher can never delete
replay rows recorded for the newcomer. Acknowledgements read index_rebuild's rows FOR
KEY SHARE, which that table lock allows: the finisher's DELETE of its own row waits for
an acknowledgement in flight, then (a new statement, a new snapshot) queues what it
recorded; an acknowledgement that comes after the DELETE waits for the finisher's commit
and then finds no rebuild, so it records nothing that nobody would replay. SQLite
serialises writers anyway; `finish` starts with the DELETE of its row, so it holds the
write lock before it reads anything. Two rebuilds at
once share index_replay: each replays everything recorded, and the last one deletes it.

No indexer running. `reindex` waits for the rows up to S only while they keep going:
when none of them is deleted for a while, it hands its row over (alive_at NULL) and
returns, and the indexer finishes the replay when it runs (`tidy`, once a second),
after applying those rows to the new index, since it claims them after the swap.
Finishing without the wait would lose a write that a slow but living indexer was still
applying to the old index.

A rebuild that dies. Its owner refreshes alive_at from a thread every HEARTBEAT_SECONDS;
a row that is handed over or whose alive_at is older than STALE_SECONDS has no owner,
and `tidy` (run by the next `begin` and by every indexer) settles it: a row not yet
built died before its swap and is discarded, with the replay rows when no rebuild
remains (indexers stop recording); a built row may have swapped, so it takes S now and
is finished like any other, which only replays a few assets when the swap never came.
A rebuild whose row was removed while it was paused for longer than STALE_SECONDS
finds out before its swap, and stops without swapping (RebuildLost).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy import text as sql_text
from sqlmodel import Session, col

from indexer.documents import load_documents
from indexer.engines.base import CatchUp
from store.models import IndexOutbox, IndexRebuild, IndexReplay, UTCDateTime, utc_now

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15.0
STALE_SECONDS = 300.0


def _row(rebuild_id: int) -> ColumnElement[bool]:
    return col(IndexRebuild.id) == rebuild_id


class RebuildLost(Exception):
    """The rebuild's row is gone: another process settled it as abandoned."""


def _lock(connection: Connection) -> None:
    """Serialise with `begin` on PostgreSQL (see the module docstring)."""
    if connection.dialect.name == "postgresql":
        connection.execute(sql_text("LOCK TABLE index_rebuild IN SHARE ROW EXCLUSIVE MODE"))


def begin(db: Engine) -> int:
    """Register a rebuild (after settling abandoned ones) and return its id. Commits
    before returning: no document may be read before the indexer can see the row."""
    tidy(db)
    with db.begin() as connection:
        now = utc_now()
        rebuild_id = connection.execute(
            insert(IndexRebuild)
            .values(started_at=now, alive_at=now)
            .returning(col(IndexRebuild.id))
        ).scalar_one()
    assert rebuild_id is not None
    return rebuild_id


def _update(db: Engine, rebuild_id: int, **values: Any) -> None:
    with db.begin() as connection:
        changed = connection.execute(
            update(IndexRebuild).where(_row(rebuild_id)).values(**values)
        ).rowcount
    if not changed:
        raise RebuildLost(f"rebuild {rebuild_id} was settled as abandoned by another process")


def mark_built(db: Engine, rebuild_id: int) -> None:
    """Every document is read; from now on the row is finished, never discarded."""
    _update(db, rebuild_id, built_at=utc_now())


def _swapped_now() -> dict[str, Any]:
    """The swap's record: when, and S, the newest outbox id now (NULL for an empty outbox)."""
    newest = select(func.max(col(IndexOutbox.id))).scalar_subquery()
    return {"swapped_at": utc_now(), "replay_after": newest}


def mark_swapped(db: Engine, rebuild_id: int) -> None:
    """Record a swap that may have happened (a rebuild that died after reading)."""
    _update(db, rebuild_id, **_swapped_now())


@contextmanager
def swap_window(db: Engine, rebuild_id: int) -> Iterator[CatchUp]:
    """Step 4: hold every acknowledgement off, yield the current documents of the assets
    acknowledged during the rebuild for the engine to write into the new index, and
    record the swap the engine makes before leaving (in the same transaction)."""
    with db.connect() as connection, connection.begin():
        # A write first: on SQLite it takes the write lock before anything is read.
        held = connection.execute(
            update(IndexRebuild).where(_row(rebuild_id)).values(alive_at=utc_now())
        ).rowcount
        if not held:
            raise RebuildLost(f"rebuild {rebuild_id} was settled as abandoned by another process")
        connection.execute(select(col(IndexRebuild.id)).where(_row(rebuild_id)).with_for_update())
        asset_ids = connection.execute(select(col(IndexReplay.asset_id)).distinct()).scalars()
        documents = load_documents(Session(bind=connection), list(asset_ids))
        yield CatchUp(
            upserts=[doc for doc in documents.values() if doc is not None],
            deletes=[str(asset_id) for asset_id, doc in documents.items() if doc is None],
        )
        connection.execute(update(IndexRebuild).where(_row(rebuild_id)).values(**_swapped_now()))


def unswapped(session: Session) -> frozenset[int]:
    """The rebuilds that have not swapped yet, read by a batch after its claim: if one of
    them swaps before the batch is acknowledged, the batch must be applied again."""
    found = session.execute(
        select(col(IndexRebuild.id)).where(col(IndexRebuild.swapped_at).is_(None))
    ).scalars()
    return frozenset(rebuild_id for rebuild_id in found if rebuild_id is not None)


def swapped_since(session: Session, rebuilds: Collection[int]) -> bool:
    """Whether any of `rebuilds` (from `unswapped`) has swapped or is gone since."""
    still_unswapped = session.execute(
        select(func.count()).where(
            col(IndexRebuild.id).in_(rebuilds), col(IndexRebuild.swapped_at).is_(None)
        )
    ).scalar_one()
    return bool(still_unswapped != len(rebuilds))


def hand_over(db: Engine, rebuild_id: int) -> None:
    """Leave the rest to whichever indexer tidies next."""
    _update(db, rebuild_id, alive_at=None)


def pending(db: Engine, rebuild_id: int) -> int:
    """How many outbox rows the replay still waits for (those up to S)."""
    with db.connect() as connection:
        high_water = connection.execute(
            select(col(IndexRebuild.replay_after)).where(_row(rebuild_id))
        ).first()
        if high_water is None:
            raise RebuildLost(f"rebuild {rebuild_id} is gone")
        if high_water[0] is None:
            return 0
        count: int = connection.execute(
            select(func.count()).where(col(IndexOutbox.id) <= high_water[0])
        ).scalar_one()
        return count


def finish(db: Engine, rebuild_id: int) -> int | None:
    """Queue every recorded asset and remove the rebuild, returning how many assets were
    queued; None while outbox rows up to S remain (nothing changes then)."""
    with db.connect() as connection, connection.begin() as transaction:
        _lock(connection)
        found = connection.execute(
            delete(IndexRebuild)
            .where(_row(rebuild_id))
            .returning(col(IndexRebuild.swapped_at), col(IndexRebuild.replay_after))
        ).first()
        if found is None:
            raise RebuildLost(f"rebuild {rebuild_id} is gone")
        swapped_at, high_water = found
        if swapped_at is None:
            raise ValueError(f"rebuild {rebuild_id} has not swapped yet")
        if (
            high_water is not None
            and connection.execute(
                select(exists().where(col(IndexOutbox.id) <= high_water))
            ).scalar_one()
        ):
            transaction.rollback()
            return None
        replayed = _queue_replays(connection)
        _forget_replays_if_alone(connection)
    return replayed


def _queue_replays(connection: Connection) -> int:
    asset_id = col(IndexReplay.asset_id)
    queued = select(asset_id, literal(utc_now(), type_=UTCDateTime())).distinct()
    # RETURNING to count them: psycopg reports no rowcount for an INSERT … SELECT.
    queued_ids = connection.execute(
        insert(IndexOutbox)
        .from_select([col(IndexOutbox.asset_id), col(IndexOutbox.created_at)], queued)
        .returning(col(IndexOutbox.id))
    )
    return len(queued_ids.all())


def _forget_replays_if_alone(connection: Connection) -> None:
    """Delete the replay rows when no rebuild remains to need them."""
    connection.execute(delete(IndexReplay).where(~select(col(IndexRebuild.id)).exists()))


def _discard(db: Engine, rebuild_id: int, *, abandoned_before: datetime | None) -> None:
    """Remove a rebuild that never swapped (and the replay rows, when it was the last);
    with `abandoned_before`, only if it is still unbuilt and unowned."""
    condition = _row(rebuild_id)
    if abandoned_before is not None:
        condition &= col(IndexRebuild.built_at).is_(None) & or_(
            col(IndexRebuild.alive_at).is_(None), col(IndexRebuild.alive_at) < abandoned_before
        )
    with db.connect() as connection, connection.begin():
        _lock(connection)
        if connection.execute(delete(IndexRebuild).where(condition)).rowcount:
            _forget_replays_if_alone(connection)


def abandon(db: Engine, rebuild_id: int) -> None:
    """The owner failed: discard the rebuild if it never read everything, else hand it
    over (its swap may have happened)."""
    with db.connect() as connection:
        built = connection.execute(
            select(col(IndexRebuild.built_at)).where(_row(rebuild_id))
        ).first()
    if built is None:
        return
    if built[0] is None:
        _discard(db, rebuild_id, abandoned_before=None)
    else:
        hand_over(db, rebuild_id)


def tidy(db: Engine) -> int:
    """Settle every rebuild without a living owner; return how many assets were queued."""
    abandoned_before = utc_now() - timedelta(seconds=STALE_SECONDS)
    with db.connect() as connection:
        rows = connection.execute(
            select(
                col(IndexRebuild.id),
                col(IndexRebuild.alive_at),
                col(IndexRebuild.built_at),
                col(IndexRebuild.swapped_at),
            )
        ).all()
        leftovers = (
            not rows and connection.execute(select(select(col(IndexReplay.id)).exists())).scalar()
        )
    if leftovers:
        # Recorded by an acknowledgement that raced a finisher, for a row past S: harmless.
        with db.begin() as connection:
            _forget_replays_if_alone(connection)
    replayed = 0
    for rebuild_id, alive_at, built_at, swapped_at in rows:
        assert rebuild_id is not None
        if alive_at is not None and alive_at >= abandoned_before:
            continue  # its owner is alive and finishes it
        if built_at is None:
            log.warning("discarding rebuild %s, abandoned before its swap", rebuild_id)
            _discard(db, rebuild_id, abandoned_before=abandoned_before)
            continue
        try:
            if swapped_at is None:
                # It may have swapped before dying: take S now, which waits for more.
                mark_swapped(db, rebuild_id)
            done = finish(db, rebuild_id)
        except RebuildLost:
            continue  # another process settled it meanwhile
        if done is not None:
            log.info("queued %d assets written during rebuild %s", done, rebuild_id)
            replayed += done
    return replayed


class Heartbeat:
    """Refreshes a rebuild's alive_at from a thread while its owner works, so that no
    other process takes it for abandoned."""

    def __init__(self, db: Engine, rebuild_id: int) -> None:
        self._db = db
        self._rebuild_id = rebuild_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rebuild-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                with self._db.begin() as connection:
                    connection.execute(
                        update(IndexRebuild)
                        .where(_row(self._rebuild_id), col(IndexRebuild.alive_at).is_not(None))
                        .values(alive_at=utc_now())
                    )
            except Exception as exc:  # the next beat retries; STALE_SECONDS is far off
                log.warning("rebuild heartbeat failed: %s", exc)
