"""Every Redis key and channel the engine uses, built in one place."""

from __future__ import annotations


class Keys:
    """The key (or channel) of each thing, by wall or by name."""

    CURSORS = "wall:cursors"
    HEALTH = "wall:health"
    SECRETS = "wall:secrets"

    @staticmethod
    def events(wall: str) -> str:
        return f"wall:{wall}:events"

    @staticmethod
    def live(wall: str) -> str:
        return f"wall:{wall}:live"

    @staticmethod
    def epoch(wall: str) -> str:
        return f"wall:{wall}:epoch"

    @staticmethod
    def seen(wall: str, post_id: str) -> str:
        return f"wall:{wall}:seen:{post_id}"

    @staticmethod
    def lease(name: str) -> str:
        return f"wall:lease:{name}"

    @staticmethod
    def fence(name: str) -> str:
        return f"wall:fence:{name}"

    @staticmethod
    def inbox(wall: str) -> str:
        return f"wall:{wall}:inbox"

    @staticmethod
    def position(wall: str) -> str:
        return f"wall:{wall}:position"

    @staticmethod
    def shown(wall: str) -> str:
        return f"wall:{wall}:shown"

    @staticmethod
    def bucket(wall: str, minute: int | str) -> str:
        return f"wall:{wall}:stats:{minute}"

    @staticmethod
    def counted(wall: str, post_id: str) -> str:
        """What a post added to the stats, to take it back when it is retracted."""
        return f"wall:{wall}:counted:{post_id}"

    @staticmethod
    def total(wall: str) -> str:
        return f"wall:{wall}:stats:total"

    @staticmethod
    def announced(wall: str, kind: str = "stats") -> str:
        return f"wall:{wall}:announced" if kind == "stats" else f"wall:{wall}:announced:{kind}"

    @staticmethod
    def recent(wall: str) -> str:
        return f"wall:{wall}:recent"

    @staticmethod
    def recent_index(wall: str) -> str:
        return f"wall:{wall}:recent:index"

    @staticmethod
    def control(wall: str) -> str:
        return f"wall:{wall}:control"

    @staticmethod
    def authors(wall: str) -> str:
        return f"wall:{wall}:authors"

    @staticmethod
    def authors_at(wall: str) -> str:
        """When each known author's last post was approved (a sorted set), for retention."""
        return f"wall:{wall}:authors:at"

    @staticmethod
    def queue(wall: str) -> str:
        return f"wall:{wall}:queue"
