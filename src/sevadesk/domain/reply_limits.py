"""How long a reply may be on each channel, measured the way the channel measures it.

The desk's counter and the server's check use these same numbers."""

from __future__ import annotations

from dataclasses import dataclass

from sevadesk.domain.post_text import MAX_WEIGHTED, weighted_length

# Meta's Cloud API: the body of a WhatsApp text message is at most 4,096 characters.
WHATSAPP_TEXT = 4096
# X's direct messages hold up to 10,000 characters.
X_DM = 10_000


@dataclass(frozen=True, slots=True)
class ReplyLimit:
    """The most a reply may hold on one channel, and how that channel counts."""

    channel: str
    limit: int
    weighted: bool  # X counts weighted characters (twitter-text); WhatsApp counts characters

    def length(self, text: str) -> int:
        return weighted_length(text) if self.weighted else len(text)

    def excess(self, text: str) -> int:
        """How many (weighted) characters too long `text` is; 0 when it fits."""
        return max(self.length(text) - self.limit, 0)


LIMITS = {
    "x": ReplyLimit("x", MAX_WEIGHTED, True),  # one post: twitter-text configuration v3
    "whatsapp": ReplyLimit("whatsapp", WHATSAPP_TEXT, False),
}
PRIVATE_LIMITS = {
    "whatsapp": LIMITS["whatsapp"],
    "x": ReplyLimit("x", X_DM, False),  # a direct message
}


def reply_limit(channel: str) -> ReplyLimit | None:
    """The limit of a reply on `channel`; None for channels answered on the status page
    (web form, Open311), which take no reply message."""
    return LIMITS.get(channel)
