"""A seeded synthetic title catalog: movies, series seasons and their episodes.

Names are invented from word lists; a few always carry characters that need escaping
(``&``, ``'``, ``<``, accents) so that every parser on the way is exercised. Knows
nothing of users or time.
"""
from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from typing import Mapping

MPAA_SCHEME = "http://api.netflix.com/catalog/titles/mpaa_ratings"
TV_SCHEME = "http://api.netflix.com/categories/tv_ratings"
# The reference serves box art in these sizes as the feeds' small, medium and large.
BOX_ART_SIZES = ("tiny", "small", "large")

MOVIES = "movies"
PROGRAMS = "programs"

_MPAA = (("R", 30), ("PG-13", 25), ("PG", 15), ("NR", 13), ("UR", 7), ("G", 6), ("NC-17", 4))
_TV = (("TV-14", 35), ("TV-PG", 25), ("TV-MA", 20), ("TV-G", 12), ("TV-Y", 8))

_ADJECTIVES = (
    "Silent", "Crimson", "Hollow", "Golden", "Midnight", "Broken", "Electric", "Distant",
    "Savage", "Gentle", "Frozen", "Burning", "Secret", "Endless", "Lonely", "Paper", "Iron",
    "Velvet", "Wild", "Last", "Little", "Restless", "Quiet", "Shattered", "Hidden",
    "Northern", "Forgotten", "Bright", "Copper", "Lucky", "Crooked", "Sleepless",
)
_NOUNS = (
    "Harbor", "Garden", "River", "Signal", "Orchard", "Frontier", "Mirror", "Lantern",
    "Highway", "Empire", "Kingdom", "Horizon", "Canyon", "Station", "Circus", "Orchestra",
    "Lighthouse", "Archive", "Compass", "Voyage", "Summer", "Winter", "Island", "Tide",
    "Machine", "Echo", "Witness", "Carnival", "Verdict", "Meridian", "Comet", "Ledger",
    "Bridge", "Engine", "Valley", "Market", "Anchor", "Forest", "Satellite", "Museum",
)
_PLACES = (
    "Port Averly", "Brightwater", "Ashford Hollow", "Kestrel Bay", "Old Varnham",
    "Mirefield", "Saltmarch", "Dunmore Flats", "Greywick", "Lake Orrin",
)
# Words with accents and other characters outside ASCII.
_ACCENTED = (
    "Café", "Déjà Vu", "Fiancée", "Naïveté", "Mañana", "Smörgåsbord", "Façade",
    "Crème Brûlée", "Noël", "Piñata", "Résumé", "Über",
)
_MOVIE_PATTERNS = (
    "The {adj} {noun}",
    "{adj} {noun}",
    "{noun} of the {noun2}",
    "The {noun} of {place}",
    "Return to {place}",
    "{adj} {noun}s",
    "The Last {noun}",
    "{place} {noun}",
    "Beyond the {noun}",
    "A {adj} {noun} in {place}",
    "{noun} & {noun2}",
    "The {noun}'s {noun2}",
    "{accented} {noun}",
    "The {accented} of {place}",
)
# Forced onto the first movies so that every catalog has titles that need escaping.
_SPECIAL_PATTERNS = (
    "{noun} & {noun2}",
    "The {noun}'s {noun2}",
    "{noun} <3 {noun2}",
    "{accented} {noun}",
    "Less < More: {adj} {noun}",
)
_SERIES_PATTERNS = (
    "{adj} {noun}",
    "The {noun} Files",
    "{place}",
    "{place} {noun}",
    "{noun} & {noun2}",
    "The {adj} Detectives",
)
_EPISODE_PATTERNS = (
    "The {noun}",
    "{adj} {noun}",
    "A {noun} in {place}",
    "The {adj} Hour",
    "What the {noun} Saw",
    "{noun} Day",
    "Nobody's {noun}",
)


@dataclass(frozen=True)
class CatalogTitle:
    """One catalog item: a movie, a season of a series, or an episode (a program)."""

    id: int
    type: str  # "movies" | "series/<series_id>/seasons" | "programs", as in catalog URLs
    name: str  # the regular title; for episodes "<series name>: <episode title>"
    short_name: str  # for episodes, the episode title alone
    year: int
    rating_scheme: str  # MPAA_SCHEME or TV_SCHEME
    rating_label: str  # e.g. "PG-13", "TV-14"
    runtime: int  # seconds
    average_rating: float  # 1.0–5.0, one decimal
    box_art_id: int  # episodes show their season's box art, as in the reference
    available: bool = True  # False: not yet released, so it waits as "saved" in a queue
    series_name: str | None = None
    season_id: int | None = None  # episodes: their season
    episode_ids: tuple[int, ...] = ()  # seasons: their episodes in order

    @property
    def is_movie(self) -> bool:
        return self.type == MOVIES

    @property
    def is_season(self) -> bool:
        return self.type.startswith("series/")

    @property
    def is_episode(self) -> bool:
        return self.type == PROGRAMS

    @property
    def catalog_path(self) -> str:
        return f"catalog/titles/{self.type}/{self.id}"

    @cached_property
    def web_path(self) -> str:
        return f"Movie/{slug(self.name)}/{self.id}"

    def box_art_path(self, size: str) -> str:
        return f"boxshots/{size}/{self.box_art_id}.svg"


@dataclass(frozen=True)
class Catalog:
    """All titles of one seed, and the ones a person can queue, rate or be recommended."""

    seed: int
    titles: tuple[CatalogTitle, ...]
    by_id: Mapping[int, CatalogTitle]
    listable: tuple[CatalogTitle, ...]  # movies and seasons; episodes are only watched

    def get(self, title_id: int) -> CatalogTitle | None:
        return self.by_id.get(title_id)

    @classmethod
    def generate(cls, seed: int, size: int = 400) -> Catalog:
        """A catalog of exactly ``size`` titles, the same for the same seed."""
        if size < 100:
            raise ValueError("a catalog needs at least 100 titles for the simulation to have choices")
        titles = _Generator(random.Random(f"feedhub-emulator-catalog:{seed}"), size).titles()
        return cls(
            seed=seed,
            titles=titles,
            by_id={t.id: t for t in titles},
            listable=tuple(t for t in titles if not t.is_episode),
        )


def slug(name: str) -> str:
    """The reference's web page slug: "Ben-Hur: Collector's Edition" → "Ben-Hur_Collector_s_Edition"."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9-]+", "_", ascii_name).strip("_") or "title"


class _Generator:
    def __init__(self, rng: random.Random, size: int) -> None:
        self._rng = rng
        self._size = size
        self._used_names: set[str] = set()
        # Catalog ids look like the reference's: movies from 60000000, TV from 70000000.
        self._movie_ids = iter(rng.sample(range(60_000_000, 69_999_999), size))
        self._tv_ids = iter(rng.sample(range(70_000_000, 79_999_999), size + 50))

    def titles(self) -> tuple[CatalogTitle, ...]:
        titles: list[CatalogTitle] = []
        # About two fifths TV (seasons and their episodes), the rest movies.
        while True:
            series = self._series()
            if len(titles) + len(series) > self._size * 0.4:
                break
            titles.extend(series)
        for index in range(self._size - len(titles)):
            patterns = (_SPECIAL_PATTERNS[index],) if index < len(_SPECIAL_PATTERNS) else _MOVIE_PATTERNS
            titles.append(self._movie(patterns))
        return tuple(titles)

    def _movie(self, patterns: tuple[str, ...]) -> CatalogTitle:
        rng = self._rng
        name = self._unique_name(patterns)
        title_id = next(self._movie_ids)
        return CatalogTitle(
            id=title_id,
            type=MOVIES,
            name=name,
            short_name=name,
            year=rng.randint(1934, 2012),
            rating_scheme=MPAA_SCHEME,
            rating_label=_weighted(rng, _MPAA),
            runtime=rng.randint(78, 178) * 60,
            average_rating=self._average_rating(),
            box_art_id=title_id,
            available=rng.random() > 0.03,
        )

    def _series(self) -> list[CatalogTitle]:
        rng = self._rng
        series_name = self._unique_name(_SERIES_PATTERNS)
        series_id = next(self._tv_ids)
        first_year = rng.randint(1975, 2011)
        label = _weighted(rng, _TV)
        titles: list[CatalogTitle] = []
        for season_number in range(1, rng.randint(1, 3) + 1):
            season_id = next(self._tv_ids)
            season_name = f"{series_name}: Season {season_number}"
            year = first_year + season_number - 1
            episodes = self._episodes(series_name, season_id, year, label, rng.randint(5, 9))
            titles.append(
                CatalogTitle(
                    id=season_id,
                    type=f"series/{series_id}/seasons",
                    name=season_name,
                    short_name=season_name,
                    year=year,
                    rating_scheme=TV_SCHEME,
                    rating_label=label,
                    runtime=sum(e.runtime for e in episodes),
                    average_rating=self._average_rating(),
                    box_art_id=season_id,
                    series_name=series_name,
                    episode_ids=tuple(e.id for e in episodes),
                )
            )
            titles.extend(episodes)
        return titles

    def _episodes(self, series_name: str, season_id: int, year: int, label: str, count: int) -> list[CatalogTitle]:
        rng = self._rng
        minutes = rng.choice((22, 24, 30, 44, 52, 58))
        episode_titles: list[str] = []
        while len(episode_titles) < count:
            candidate = self._fill(rng.choice(_EPISODE_PATTERNS))
            if candidate not in episode_titles:
                episode_titles.append(candidate)
        return [
            CatalogTitle(
                id=next(self._tv_ids),
                type=PROGRAMS,
                name=f"{series_name}: {episode_title}",
                short_name=episode_title,
                year=year,
                rating_scheme=TV_SCHEME,
                rating_label=label,
                runtime=(minutes + rng.randint(-2, 3)) * 60,
                average_rating=self._average_rating(),
                box_art_id=season_id,
                series_name=series_name,
                season_id=season_id,
            )
            for episode_title in episode_titles
        ]

    def _unique_name(self, patterns: tuple[str, ...]) -> str:
        while True:
            name = self._fill(self._rng.choice(patterns))
            if name not in self._used_names:
                self._used_names.add(name)
                return name

    def _fill(self, pattern: str) -> str:
        rng = self._rng
        noun, noun2 = rng.sample(_NOUNS, 2)
        return pattern.format(
            adj=rng.choice(_ADJECTIVES),
            noun=noun,
            noun2=noun2,
            place=rng.choice(_PLACES),
            accented=rng.choice(_ACCENTED),
        )

    def _average_rating(self) -> float:
        return round(min(5.0, max(1.0, self._rng.gauss(3.5, 0.6))), 1)


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    labels, weights = zip(*table)
    return rng.choices(labels, weights)[0]
