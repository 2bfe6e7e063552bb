"""People followed from sample to sample within a chunk, so motion is per person.

Each person's motion is measured against that same person's previous pose. People
are matched greedily by landmark-centre distance (in torso lengths, as
``transforms.motion.match_people``); one who enters or leaves, or who cannot be told
from a neighbour, gets no score rather than a jump. A person missed for a moment
(the detector blinked) is matched again within ``memory_s``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from transforms.motion import match_people, person_motion


@dataclass
class _Track:
    track_id: int
    pose: np.ndarray
    time_s: float


@dataclass
class PersonTracker:
    """Tracks of one chunk (a fresh tracker per chunk, like the pose timeline).

    Attributes:
        memory_s: how long a person not seen stays matchable (0: previous sample only,
            which is exactly ``transforms.motion.motion_score``).
    """

    memory_s: float = 0.0
    _tracks: list[_Track] = field(default_factory=list)
    _next_id: int = 0
    _last_time_s: float | None = None

    def update(self, people: Sequence[np.ndarray], time_s: float) -> list[tuple[int, float]]:
        """Match this sample's people to the tracks; (track id, motion score) per matched person.

        Scores are in torso lengths per second since that person's last sample.
        """
        eps = 1e-6
        previous_s = self._last_time_s
        self._last_time_s = time_s
        live = [
            t
            for t in self._tracks
            if (previous_s is not None and t.time_s >= previous_s - eps)
            or time_s - t.time_s <= self.memory_s + eps
        ]
        # Recently seen people first, so a remembered pose never wins over a fresh one.
        live.sort(key=lambda t: -t.time_s)
        scores: list[tuple[int, float]] = []
        matched: set[int] = set()
        next_tracks: list[_Track] = []
        for i, j in _match_in_order(live, people):
            track = live[i]
            score = person_motion(track.pose, people[j], time_s - track.time_s)
            scores.append((track.track_id, score))
            matched.add(j)
            next_tracks.append(_Track(track.track_id, people[j], time_s))
        kept_ids = {t.track_id for t in next_tracks}
        for j, person in enumerate(people):
            if j not in matched:
                next_tracks.append(_Track(self._next_id, person, time_s))
                self._next_id += 1
        # Unmatched tracks stay remembered until their memory runs out.
        next_tracks.extend(t for t in live if t.track_id not in kept_ids)
        self._tracks = next_tracks
        return sorted(scores)


def _match_in_order(
    tracks: Sequence[_Track], people: Sequence[np.ndarray]
) -> list[tuple[int, int]]:
    """Match the most recently seen tracks first, then older ones to what is left."""
    pairs: list[tuple[int, int]] = []
    free = list(range(len(people)))
    for time_s in sorted({t.time_s for t in tracks}, reverse=True):
        group = [i for i, t in enumerate(tracks) if t.time_s == time_s]
        found = match_people([tracks[i].pose for i in group], [people[j] for j in free])
        pairs.extend((group[a], free[b]) for a, b in found)
        taken = {free[b] for _, b in found}
        free = [j for j in free if j not in taken]
    return pairs
