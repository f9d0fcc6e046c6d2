"""Reading one shard of the stream for the event relay: its iterator (from the checkpoint, or
the shard's start when the checkpoint was trimmed away), a read, and the check of a shard that
has been quiet for ``stream_check_seconds``.

That check reads the shard again from a new iterator, starting at the last records it read,
and compares: records past the last one read mean its iterator had stopped seeing the shard
(it reads on from the new one); a record other than the one read at the same sequence number
means the shard was replaced (it goes back to the last record both agree on, so nothing
written to the new copy is skipped). See ``orders.events.stream_follower`` for why a stream or
a shard is replaced.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from time import monotonic
from typing import Any

from botocore.exceptions import ClientError

from .relay_types import GONE, ShardState, error_code
from .stream_follower import StreamFollower

#: The relay's logger (its parts log as the relay).
log = logging.getLogger("orders.events.relay")


class ShardReader:
    """Reads for the relay (part of ``EventRelay``): hands back what a shard holds next, and
    deals with the reads that fail or that a quiet shard calls for, so that the relay's loop
    sees records and nothing else."""

    def __init__(
        self,
        *,
        streams: Any,
        follower: StreamFollower,
        save: Callable[[ShardState], None],
        batch_limit: int,
        stream_check_seconds: float,
    ):
        self._streams = streams
        #: The stream read now, and where a shard without a checkpoint starts.
        self._follower = follower
        #: Saves a shard's checkpoint (the relay's, which also flushes what it projects).
        self._save = save
        self._batch_limit = batch_limit
        # How long a shard may stay quiet before it is read again from a new iterator to see
        # that its iterator still reads what the stream holds.
        self._stream_check_seconds = stream_check_seconds

    def read(self, shard: ShardState) -> dict[str, Any] | None:
        """The shard's next read (``Records``, ``NextShardIterator``), or None when there is
        nothing to handle this pass: the iterator expired or was trimmed (a new one is taken
        from the position next time), reads were throttled, or the shard is gone."""
        try:
            if shard.iterator is None:
                shard.iterator = self._iterator(shard)
                shard.check_at = monotonic() + self._stream_check_seconds
            if monotonic() >= shard.check_at:
                response = self._read_again(shard)
            else:
                response = self._streams.get_records(
                    ShardIterator=shard.iterator, Limit=self._batch_limit
                )
        except ClientError as exc:
            code = error_code(exc)
            if code in ("ExpiredIteratorException", "TrimmedDataAccessException"):
                shard.iterator = None  # start again from the last position
                return None
            if code in ("LimitExceededException", "ThrottlingException"):
                return None  # read too often: the pause before the next pass is enough
            if code in GONE:
                self._shard_gone(shard, exc)
                return None
            raise
        if response.get("Records", []):
            shard.check_at = monotonic() + self._stream_check_seconds
        return response

    def _iterator(self, shard: ShardState) -> str:
        arn = self._follower.arn
        kwargs: dict[str, Any] = {"StreamArn": arn, "ShardId": shard.shard_id}
        if shard.position:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=shard.position)
        else:
            kwargs["ShardIteratorType"] = shard.start
        try:
            return self._streams.get_shard_iterator(**kwargs)["ShardIterator"]
        except ClientError as exc:
            if error_code(exc) != "TrimmedDataAccessException":
                raise
            log.error(
                "stream shard %s was trimmed past checkpoint %s: events older than the "
                "stream's 24-hour retention were never published",
                shard.shard_id,
                shard.position,
            )
            return self._streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard.shard_id, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]

    def _shard_gone(self, shard: ShardState, exc: ClientError) -> None:
        if self._follower.gone(exc):
            return  # the next pass follows the table's new stream
        # The stream is the table's still, but this shard is gone (DynamoDB deletes a closed
        # shard 24 hours after its last record): nothing more can be read from it.
        log.error(
            "stream shard %s of %s is gone (%s): it is taken as read to its end after %s",
            shard.shard_id,
            self._follower.arn,
            error_code(exc),
            shard.position,
        )
        shard.finished, shard.iterator = True, None
        self._save(shard)
        self._follower.refresh_soon()

    def _read_again(self, shard: ShardState) -> dict[str, Any]:
        """Read a quiet shard again from a new iterator, from the first of the records it read
        last, and compare (see the module's docstring). Returns a read to handle like one of
        the iterator's: the records past the last one both reads agree on and the iterator
        after them, or no records and the iterator held when the new read cannot tell."""
        shard.check_at = monotonic() + self._stream_check_seconds
        keep: dict[str, Any] = {"Records": [], "NextShardIterator": shard.iterator}
        anchor = shard.history[0][0] if shard.history else shard.position
        kwargs: dict[str, Any] = {"StreamArn": self._follower.arn, "ShardId": shard.shard_id}
        if anchor:
            kwargs.update(ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=anchor)
        elif shard.start == "TRIM_HORIZON":
            kwargs["ShardIteratorType"] = "TRIM_HORIZON"
        else:
            return keep  # started at the end and read nothing since: nothing to compare
        try:
            iterator = self._streams.get_shard_iterator(**kwargs)["ShardIterator"]
        except ClientError as exc:
            if error_code(exc) == "TrimmedDataAccessException":
                return keep  # what it read last is past the retention: nothing to compare
            raise
        response = self._streams.get_records(ShardIterator=iterator, Limit=self._batch_limit)
        records = response.get("Records", [])
        known = dict(shard.history)
        upto = shard.read_upto or shard.position
        agreed: str | None = None
        for index, record in enumerate(records):
            sequence = record["dynamodb"]["SequenceNumber"]
            if upto is None or int(sequence) > int(upto):
                return self._read_on(shard, upto, records[index:], response)
            ours, theirs = known.get(sequence), record.get("eventID")
            if ours and theirs and ours != theirs:
                return self._rewind(shard, agreed, sequence, records[index:], response)
            agreed = sequence
        if agreed == upto:
            return {"Records": [], **_next(response)}  # the same records: its iterator from now
        return keep  # the read stopped short of what was read last: it cannot tell

    def _read_on(
        self,
        shard: ShardState,
        upto: str | None,
        records: list[dict[str, Any]],
        response: dict[str, Any],
    ) -> dict[str, Any]:
        """The new read has records past the last one read: they are handled, and its iterator
        is used from now on. The one held was stale if it still returns nothing."""
        try:
            held = self._streams.get_records(ShardIterator=shard.iterator, Limit=1)
        except ClientError:
            held = {"Records": [None]}  # expired or the like: no sign of a stale iterator
        if not held.get("Records"):
            log.warning(
                "stream shard %s of %s: its iterator returns nothing while the shard has "
                "records past %s; reading on from a new iterator",
                shard.shard_id,
                self._follower.arn,
                upto or "its start",
            )
        return {"Records": records, **_next(response)}

    def _rewind(
        self,
        shard: ShardState,
        agreed: str | None,
        differs: str,
        records: list[dict[str, Any]],
        response: dict[str, Any],
    ) -> dict[str, Any]:
        log.warning(
            "stream shard %s of %s was replaced under the same name (record %s is another "
            "one now): reading it again after %s, the last record both copies have",
            shard.shard_id,
            self._follower.arn,
            differs,
            agreed or "its start",
        )
        while shard.history and (agreed is None or int(shard.history[-1][0]) > int(agreed)):
            shard.history.pop()
        shard.read_upto = agreed
        if agreed is None:
            # Not even the first record compared is the same: read the whole shard again.
            shard.position, shard.iterator = None, None
            self._save(shard)
            iterator = self._streams.get_shard_iterator(
                StreamArn=self._follower.arn,
                ShardId=shard.shard_id,
                ShardIteratorType="TRIM_HORIZON",
            )["ShardIterator"]
            return {"Records": [], "NextShardIterator": iterator}
        shard.position = agreed
        self._save(shard)  # a restart now must not start after records it never read
        return {"Records": records, **_next(response)}


def _next(response: dict[str, Any]) -> dict[str, Any]:
    """The iterator a read hands on (none: the shard is closed and read to its end)."""
    return {"NextShardIterator": response.get("NextShardIterator")}


def lag_seconds(records: list[dict[str, Any]]) -> float:
    """How long ago the last record read was written: 0 when the read found nothing new."""
    if not records:
        return 0.0
    written = records[-1]["dynamodb"].get("ApproximateCreationDateTime")
    if written is None:
        return 0.0
    if isinstance(written, datetime):
        written = written.timestamp()
    return max(0.0, time.time() - float(written))
