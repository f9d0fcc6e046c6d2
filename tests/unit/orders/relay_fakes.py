"""Fakes of the event relay's collaborators: the DynamoDB Streams API (one stream, or a
table's streams by ARN), SNS, the feed and the relay's clock."""

from __future__ import annotations

import uuid

from botocore.exceptions import ClientError

from orders.events.relay import EventRelay, MemoryCheckpoints
from orders.repository.stream_images import event_from_image
from orders.repository.table_design import RELAY_PREFIX

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-11-26T00:00:00.000"
#: A second stream of the same table (disabled and enabled again).
ARN_B = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-11-27T00:00:00.000"


def image(order_id: str, event_id: str | None, region: str = "") -> dict:
    item = {"pk": {"S": f"ORDER#{order_id}"}, "id": {"S": order_id}, "integrator": {"S": "acme"}}
    if event_id:
        item["last_event"] = {
            "M": {
                "id": {"S": event_id},
                "body": {"S": f'{{"id": "{event_id}"}}'},
                "attributes": {"M": {"status": {"S": "received"}}},
                "created_at": {"S": "2026-11-26T00:00:00.000000Z"},
                **({"region": {"S": region}} if region else {}),
            }
        }
    return item


class FakeStreams:
    """One stream, as DynamoDB Streams and the emulator serve it: shards with parents, pages of
    two shards, iterators by sequence number that can expire, an event id per record. A shard
    can be *restored* as moto does when a transaction fails: the shard the stream serves from
    then on is a copy of its first records, and the iterators handed out before keep reading
    the old one (which gets no more writes), while new writes reuse its sequence numbers."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix  # of shard ids, so that two streams' iterators never meet
        self.shards: dict[str, dict] = {}
        self.old: dict[tuple[str, int], dict] = {}  # restored shards, by id and generation
        self.sequence = 100
        self.issued = 0  # iterators are numbered; those up to ``expired_upto`` have expired
        self.expired_upto = 0
        self.calls = 0
        self.status = "ENABLED"
        self.gone: set[str] = set()  # shard ids whose reads answer ResourceNotFoundException

    def iterator(self, shard_id: str, sequence: int) -> str:
        self.issued += 1
        generation = self.shards[shard_id]["generation"]
        return f"{shard_id}|{sequence}|{self.issued}|{generation}"

    def expire_iterators(self) -> None:
        self.expired_upto = self.issued

    def add_shard(self, shard_id: str, parent: str | None = None) -> None:
        self.shards[shard_id] = {"parent": parent, "records": [], "closed": False, "generation": 0}

    def restore(self, shard_id: str, keep: int) -> None:
        """moto's answer to a failed transaction: the shard as it was ``keep`` records ago."""
        shard = self.shards[shard_id]
        self.old[(shard_id, shard["generation"])] = shard
        copy = {**shard, "records": [dict(r) for r in shard["records"][:keep]]}
        copy["generation"] += 1
        self.shards[shard_id] = copy
        self.sequence = int(copy["records"][-1]["dynamodb"]["SequenceNumber"]) if keep else 100

    def write(
        self,
        shard_id: str,
        order_id: str,
        new: str | None,
        old: str | None = None,
        pk: str | None = None,
        region: str = "",
    ) -> str:
        self.sequence += 1
        keys = {"pk": {"S": pk or f"ORDER#{order_id}"}}
        change = {"SequenceNumber": str(self.sequence), "Keys": keys}
        change["NewImage"] = image(order_id, new, region)
        if old:
            change["OldImage"] = image(order_id, old)
        record = {"eventID": uuid.uuid4().hex, "dynamodb": change}
        self.shards[shard_id]["records"].append(record)
        return str(self.sequence)

    def _gone(self, shard_id: str, operation: str) -> None:
        if shard_id in self.gone:
            raise ClientError({"Error": {"Code": "ResourceNotFoundException"}}, operation)

    def describe_stream(self, StreamArn, ExclusiveStartShardId=None):
        ids = list(self.shards)
        start = ids.index(ExclusiveStartShardId) + 1 if ExclusiveStartShardId else 0
        page = ids[start : start + 2]
        description = {
            "StreamArn": StreamArn,
            "StreamStatus": self.status,
            "Shards": [
                {
                    "ShardId": s,
                    **(
                        {"ParentShardId": self.shards[s]["parent"]}
                        if self.shards[s]["parent"]
                        else {}
                    ),
                }
                for s in page
            ],
        }
        if start + 2 < len(ids):
            description["LastEvaluatedShardId"] = page[-1]
        return {"StreamDescription": description}

    def get_shard_iterator(self, StreamArn, ShardId, ShardIteratorType, SequenceNumber=None):
        self._gone(ShardId, "GetShardIterator")
        records = self.shards[ShardId]["records"]
        first = int(records[0]["dynamodb"]["SequenceNumber"]) if records else self.sequence + 1
        if ShardIteratorType == "TRIM_HORIZON":
            sequence = first
        elif ShardIteratorType == "LATEST":
            sequence = self.sequence + 1
        elif ShardIteratorType == "AT_SEQUENCE_NUMBER":
            sequence = int(SequenceNumber)
        else:
            sequence = int(SequenceNumber) + 1
        return {"ShardIterator": self.iterator(ShardId, sequence)}

    def get_records(self, ShardIterator, Limit):
        self.calls += 1
        shard_id, sequence, number, generation = ShardIterator.split("|")
        self._gone(shard_id, "GetRecords")
        if int(number) <= self.expired_upto:
            raise ClientError({"Error": {"Code": "ExpiredIteratorException"}}, "GetRecords")
        shard = self.shards[shard_id]
        if int(generation) != shard["generation"]:
            shard = self.old[(shard_id, int(generation))]
        after = [
            r for r in shard["records"] if int(r["dynamodb"]["SequenceNumber"]) >= int(sequence)
        ]
        records = after[:Limit]
        response = {"Records": records}
        if not (shard["closed"] and len(records) == len(after)):
            following = int(records[-1]["dynamodb"]["SequenceNumber"]) + 1 if records else sequence
            self.issued += 1
            response["NextShardIterator"] = f"{shard_id}|{following}|{self.issued}|{generation}"
        return response


class FakePublisher:
    def __init__(self) -> None:
        self.published: list[str] = []
        self.failures = 0

    def publish(self, messages) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("SNS is unreachable")
        self.published.extend(m.event_id for m in messages)


def relay_for(streams, publisher, checkpoints=None, **kwargs) -> EventRelay:
    kwargs.setdefault("checkpoint_seconds", 0)  # checkpoint after every poll unless told
    kwargs.setdefault("stream_arn", lambda: ARN)
    return EventRelay(
        streams=streams,
        publisher=publisher,
        checkpoints=checkpoints if checkpoints is not None else MemoryCheckpoints(),
        decode=event_from_image,
        skip_key_prefix=RELAY_PREFIX,
        **kwargs,
    )


class FakeFeed:
    def __init__(self) -> None:
        self.appended: list[str] = []

    def append(self, messages) -> None:
        self.appended.extend(m.event_id for m in messages)


class Clock:
    """The relay's monotonic clock, moved on by the test instead of waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class TableStreams:
    """The DynamoDB Streams API over several streams of one table (disabled and enabled again
    makes a new one), by ARN; ``current`` is the stream DescribeTable names."""

    def __init__(self) -> None:
        self.streams: dict[str, FakeStreams] = {}
        self.current = ""

    def add(self, arn: str, prefix: str) -> FakeStreams:
        stream = FakeStreams(prefix)
        stream.add_shard(prefix + "1")
        self.streams[arn], self.current = stream, arn
        return stream

    def _stream(self, arn: str, operation: str) -> FakeStreams:
        if arn not in self.streams:
            raise ClientError({"Error": {"Code": "ResourceNotFoundException"}}, operation)
        return self.streams[arn]

    def describe_stream(self, StreamArn, **kwargs):
        return self._stream(StreamArn, "DescribeStream").describe_stream(StreamArn, **kwargs)

    def get_shard_iterator(self, StreamArn, **kwargs):
        return self._stream(StreamArn, "GetShardIterator").get_shard_iterator(StreamArn, **kwargs)

    def get_records(self, ShardIterator, Limit):
        shard_id = ShardIterator.split("|")[0]
        for stream in self.streams.values():
            if shard_id in stream.shards:
                return stream.get_records(ShardIterator, Limit)
        raise ClientError({"Error": {"Code": "ResourceNotFoundException"}}, "GetRecords")
