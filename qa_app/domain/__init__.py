"""Domain functions: one per user action; each validates, writes, commits, then publishes."""

from .bans import ban, unban
from .blocklist import get_blocklist, set_blocklist
from .events import (
    create_event,
    export_rows,
    join,
    set_issue,
    show,
    update_settings,
)
from .questions import ask, merge, moderate
from .seats import rotate_moderator_key
from .views import snapshot, sync
from .votes import vote

__all__ = [
    "ask",
    "ban",
    "create_event",
    "export_rows",
    "get_blocklist",
    "join",
    "merge",
    "moderate",
    "rotate_moderator_key",
    "set_blocklist",
    "set_issue",
    "show",
    "snapshot",
    "sync",
    "unban",
    "update_settings",
    "vote",
]
