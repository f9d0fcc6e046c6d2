"""Output serializers: the declared fields are the body, in their order, rendered through a
plan made once per class, with what the instance cannot say resolved from the context."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from rest_framework import serializers
from rest_framework.fields import SkipField

from apikit.output import OutputSerializer, SecondsField, TimestampField, renderer_of


@dataclass
class Person:
    name: str
    born: datetime
    height_cm: int | None = None

    def greeting(self) -> str:
        return f"Hello {self.name}"


@dataclass
class Team:
    slug: str
    lead: Person
    members: list[Person]
    budget: timedelta


class PersonOutput(OutputSerializer):
    name = serializers.CharField()
    born = TimestampField()
    height = serializers.IntegerField(source="height_cm", allow_null=True)
    greeting = serializers.CharField()


class TeamOutput(OutputSerializer):
    slug = serializers.CharField()
    url = serializers.URLField()
    lead = PersonOutput()
    members = PersonOutput(many=True)
    budget_seconds = SecondsField(source="budget")
    motto = serializers.CharField(required=False)

    def resolve_url(self, team: Team, context) -> str:
        return f"{context['base']}/teams/{team.slug}"

    def resolve_motto(self, team: Team, context) -> str:
        if team.slug != "core":
            raise SkipField
        return "Ship it"


BORN = datetime(1990, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
ADA = Person("Ada", BORN, 170)
BO = Person("Bo", BORN.replace(microsecond=5))
TEAM = Team("core", ADA, [ADA, BO], timedelta(hours=1, milliseconds=500))


def test_the_body_is_the_declared_fields_in_order():
    body = TeamOutput(TEAM, context={"base": "https://x"}).data
    assert list(body) == list(TeamOutput().fields)
    assert body == {
        "slug": "core",
        "url": "https://x/teams/core",
        "lead": {
            "name": "Ada",
            "born": "1990-05-01T10:00:00.000000Z",
            "height": 170,
            "greeting": "Hello Ada",
        },
        "members": [
            {
                "name": "Ada",
                "born": "1990-05-01T10:00:00.000000Z",
                "height": 170,
                "greeting": "Hello Ada",
            },
            {
                "name": "Bo",
                "born": "1990-05-01T10:00:00.000005Z",
                "height": None,
                "greeting": "Hello Bo",
            },
        ],
        "budget_seconds": 3600.5,
        "motto": "Ship it",
    }


def test_an_optional_field_a_resolver_skips_is_left_out():
    other = Team("other", ADA, [], timedelta())
    body = TeamOutput(other, context={"base": ""}).data
    assert "motto" not in body
    assert body["members"] == []


def test_a_mapping_renders_by_its_keys_and_a_missing_optional_key_is_left_out():
    class PageOutput(OutputSerializer):
        results = PersonOutput(many=True)
        next = serializers.URLField(allow_null=True)
        total = serializers.IntegerField(required=False)

    body = PageOutput({"results": [BO], "next": None}).data
    assert body == {"results": [PersonOutput(BO).data], "next": None}


def test_the_same_as_drf_s_own_rendering_for_plain_fields():
    """Each field renders its value as DRF would (its own to_representation)."""
    drf = serializers.Serializer.to_representation(PersonOutput(ADA), ADA)
    assert PersonOutput(ADA).data == drf


def test_verbatim_fields_are_put_in_as_they_are():
    class FeedOutput(OutputSerializer):
        results = PersonOutput(many=True)
        verbatim = ("results",)

    stored = [{"name": "Ada", "extra": 1}]
    assert FeedOutput({"results": stored}).data == {"results": stored}


def test_the_plan_is_made_once_per_class():
    assert renderer_of(TeamOutput) is renderer_of(TeamOutput)
    assert renderer_of(PersonOutput) is not renderer_of(TeamOutput)


def test_times_are_utc_with_microseconds_as_every_body_writes_them():
    field = TimestampField()
    assert field.to_representation(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == (
        "2026-01-02T03:04:05.000000Z"
    )
