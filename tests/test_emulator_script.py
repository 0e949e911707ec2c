"""Scripted activity in the emulator: what a test makes a user do, at chosen times."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import requests

from feedhub.emulator import create_emulator_app
from feedhub.emulator.script import ScriptedEvent
from feedhub.emulator.server import serve_in_thread

START = datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc)


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def make(**options):
    app = create_emulator_app(seed=3, start=START, **options)
    emulator = app.extensions["emulator"]
    emulator.clock.set(START)
    return app, emulator


def movies(emulator, n: int, index: int = 0):
    state = emulator.state(index)
    used = {item.title.id for items in (state.queue, state.watched, state.ratings, state.recommendations) for item in items}
    return [t for t in emulator.catalog.titles if t.is_movie and t.available and t.id not in used][:n]


# --- ScriptedEvent ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param({"action": "dance"}, "action must be one of", id="unknown-action"),
        pytest.param({"at": datetime(2026, 1, 15, 12, 0)}, "aware", id="naive-time"),
        pytest.param({"action": "queue_move"}, "queue_move needs a position", id="move-without-position"),
        pytest.param({"action": "queue_add", "position": 0}, "position", id="position-zero"),
        pytest.param({"action": "rate"}, "rate needs a rating", id="rate-without-rating"),
        pytest.param({"action": "rate", "rating": 6}, "rating", id="rating-too-high"),
        pytest.param({"action": "rate", "rating": "meh"}, "rating", id="rating-word"),
        pytest.param({"action": "rate", "rating": True}, "rating", id="rating-bool"),
        pytest.param({"action": "predict"}, "predict needs a predicted", id="predict-without-value"),
        pytest.param({"action": "recommend", "predicted": 7.5}, "predicted", id="predicted-too-high"),
        pytest.param({"action": "watch", "rating": 3}, "watch takes no rating", id="value-of-another-action"),
        pytest.param({"action": "watch", "viewed_seconds": 0}, "viewed_seconds", id="viewed-nothing"),
    ],
)
def test_scripted_event_refuses_what_cannot_happen(fields, message) -> None:
    with pytest.raises(ValueError, match=message):
        ScriptedEvent(**{"at": START, "action": "watch", "title_id": 1, **fields})


def test_scripted_event_drops_fractions_of_a_second_and_round_trips_as_json() -> None:
    event = ScriptedEvent(START + timedelta(microseconds=900), "rate", 42, rating="not_interested")
    assert event.at == START
    assert event.to_json() == {"at": "2026-01-15T12:00:00Z", "action": "rate", "title_id": 42, "rating": "not_interested"}
    from feedhub.emulator.app import parse_moment

    assert ScriptedEvent.from_json(event.to_json(), parse_moment) == event


# --- Emulator.script -------------------------------------------------------------------


def test_script_makes_the_user_do_exactly_that_at_that_time() -> None:
    _, emulator = make(users=1, simulated=False)
    a, b, c, f = movies(emulator, 4)
    emulator.script(0, [
        ScriptedEvent(at(1), "queue_add", a.id),
        ScriptedEvent(at(2), "queue_add", b.id, position=1),
        ScriptedEvent(at(3), "rate", c.id, rating=4),
        ScriptedEvent(at(4), "recommend", f.id, predicted=3.2),
        ScriptedEvent(at(5), "predict", f.id, predicted=4.4),
    ])
    assert emulator.state(0).queue == ()
    emulator.clock.set(at(2))
    assert [(i.title.id, i.position, i.added_at) for i in emulator.state(0).queue] == [(b.id, 1, at(2)), (a.id, 2, at(1))]
    emulator.clock.set(at(4))
    (rec,) = emulator.state(0).recommendations
    assert (rec.title.id, rec.predicted_rating, rec.recommended_at) == (f.id, 3.2, at(4))
    emulator.clock.set(at(5))
    state = emulator.state(0)
    (rec,) = state.recommendations
    # A new prediction keeps the recommendation's date; the feed changed now.
    assert (rec.predicted_rating, rec.recommended_at) == (4.4, at(4))
    assert state.last_changed["recommendations"] == at(5)
    assert [(r.title.id, r.user_rating) for r in state.ratings] == [(c.id, 4)]
    assert state.watched == ()


def test_a_prediction_defaults_to_the_users_own() -> None:
    _, emulator = make(users=1, simulated=False)
    (f,) = movies(emulator, 1)
    emulator.script(0, [ScriptedEvent(at(1), "recommend", f.id)])
    emulator.clock.set(at(1))
    assert emulator.state(0).recommendations[0].predicted_rating == emulator.world.predicted_rating(0, f)


def test_actions_that_do_not_apply_change_nothing() -> None:
    _, emulator = make(users=1, simulated=False)
    a, b, f = movies(emulator, 3)
    emulator.script(0, [
        ScriptedEvent(at(1), "queue_add", a.id),
        ScriptedEvent(at(2), "queue_add", a.id),  # already queued
        ScriptedEvent(at(3), "queue_move", b.id, position=1),  # not queued
        ScriptedEvent(at(4), "queue_remove", b.id),  # not queued
        ScriptedEvent(at(5), "predict", f.id, predicted=2.0),  # not recommended
    ])
    emulator.clock.set(at(5))
    state = emulator.state(0)
    assert [(i.title.id, i.added_at) for i in state.queue] == [(a.id, at(1))]
    assert state.recommendations == ()


def test_scripted_events_join_the_simulated_stream_in_time_order() -> None:
    _, plain = make(users=1, pace_seconds=30)
    _, scripted = make(users=1, pace_seconds=30)
    (title,) = movies(scripted, 1)
    scripted.script(0, [ScriptedEvent(at(10), "watch", title.id)])
    for emulator in (plain, scripted):
        emulator.clock.set(at(9))
    assert plain.state(0) == scripted.state(0)  # the same world until the script acts
    for emulator in (plain, scripted):
        emulator.clock.set(at(30))
    watched = scripted.state(0).watched
    assert [w.title.id for w in watched if w.watched_at == at(10)] == [title.id]
    # The simulation goes on after it (about one event every 30 seconds).
    assert any(w.watched_at > at(10) for w in watched)
    assert plain.state(0) != scripted.state(0)


def test_script_refuses_the_past_that_has_been_served_and_changes_nothing() -> None:
    _, emulator = make(users=2, simulated=False)
    a, b = movies(emulator, 2)
    emulator.clock.set(at(10))
    emulator.state(0)  # served up to at(10)
    with pytest.raises(ValueError, match="not later than what the emulator has already served"):
        emulator.script(0, [ScriptedEvent(at(20), "queue_add", a.id), ScriptedEvent(at(10), "queue_add", b.id)])
    with pytest.raises(ValueError, match="no title 1 in the catalog"):
        emulator.script(0, [ScriptedEvent(at(20), "queue_add", a.id), ScriptedEvent(at(20), "queue_add", 1)])
    season = next(t for t in emulator.catalog.titles if t.is_season)
    with pytest.raises(ValueError, match="is a season"):
        emulator.script(0, [ScriptedEvent(at(20), "watch", season.id)])
    with pytest.raises(ValueError, match="is an episode"):
        emulator.script(0, [ScriptedEvent(at(20), "queue_add", season.episode_ids[0])])
    with pytest.raises(ValueError, match="no user with index 5"):
        emulator.script(5, [])
    emulator.clock.set(at(30))
    assert emulator.state(0).queue == () and emulator.scripts == {}
    emulator.script(1, [ScriptedEvent(at(20), "queue_add", a.id)])  # user 1 was never served
    assert [i.title.id for i in emulator.state(1).queue] == [a.id]


def test_unsimulated_users_do_nothing_on_their_own() -> None:
    _, emulator = make(users=2, simulated=False)
    emulator.clock.set(START + timedelta(days=30))
    state = emulator.state(1)
    assert (state.queue, state.watched, state.ratings, state.recommendations) == ((), (), (), ())


def test_history_watched_gives_that_many_different_titles_over_the_history() -> None:
    _, emulator = make(users=1, history_watched=1500, simulated=False)
    watched = emulator.state(0).watched
    assert len(watched) == len({w.title.id for w in watched}) == 1500
    assert all(START - timedelta(days=60) < w.watched_at < START for w in watched)
    assert all(not w.title.is_season and w.viewed_seconds == w.title.runtime for w in watched)
    # A season's episodes are watched in order.
    oldest_first = list(reversed(watched))
    for season_id in {w.title.season_id for w in watched if w.title.season_id}:
        episodes = [w.title.id for w in oldest_first if w.title.season_id == season_id]
        order = emulator.catalog.by_id[season_id].episode_ids
        assert episodes == sorted(episodes, key=order.index)


def test_the_default_catalog_and_stream_are_unchanged() -> None:
    _, plain = make(users=1)
    _, explicit = make(users=1, history_watched=0, simulated=True)
    assert plain.catalog == explicit.catalog and len(plain.catalog.titles) == 400
    assert plain.state(0) == explicit.state(0)


# --- the control endpoint --------------------------------------------------------------


@pytest.fixture
def served():
    app, emulator = make(users=1, simulated=False)
    server = serve_in_thread(app)
    yield emulator, server.url
    server.stop()


def test_control_endpoint_scripts_and_lists_events(served) -> None:
    emulator, base = served
    (title,) = movies(emulator, 1)
    event = {"at": "2026-01-15T12:05:00Z", "action": "queue_add", "title_id": title.id, "position": 1}
    posted = requests.post(f"{base}_emulator/script", json={"user": 0, "events": [event]}, timeout=10)
    assert posted.status_code == 201 and posted.json() == {"user": 0, "events": [event]}
    assert requests.get(f"{base}_emulator/script", timeout=10).json() == {"users": [{"index": 0, "events": [event]}]}
    requests.post(f"{base}_emulator/clock", json={"now": "2026-01-15T12:05:00Z"}, timeout=10)
    assert [i.title.id for i in emulator.state(0).queue] == [title.id]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param({"events": []}, 'send {"user"', id="no-user"),
        pytest.param({"user": "0", "events": []}, "user is the index", id="user-not-a-number"),
        pytest.param({"user": 0, "events": [{"at": "noon", "action": "watch", "title_id": 1}]}, "neither Unix seconds", id="bad-time"),
        pytest.param({"user": 0, "events": [{"at": 1768478700, "action": "watch"}]}, '"title_id"', id="no-title"),
        pytest.param({"user": 0, "events": [{"at": 1768478700, "action": "watch", "title_id": 1, "mood": "x"}]}, "unknown event fields: mood", id="unknown-field"),
        pytest.param({"user": 0, "events": [{"at": 1768478700, "action": "watch", "title_id": "1"}]}, "title_id is a catalog id", id="title-not-a-number"),
        pytest.param({"user": 0, "events": [{"at": 1768478700, "action": "watch", "title_id": 1}]}, "no title 1", id="unknown-title"),
        pytest.param({"user": 3, "events": []}, "no user with index 3", id="unknown-user"),
    ],
)
def test_control_endpoint_refuses_bad_scripts_clearly(served, body, message) -> None:
    _, base = served
    response = requests.post(f"{base}_emulator/script", json=body, timeout=10)
    assert response.status_code == 400 and message in response.json()["error"]
    assert requests.get(f"{base}_emulator/script", timeout=10).json() == {"users": []}
