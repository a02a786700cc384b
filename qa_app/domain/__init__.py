"""Domain functions: one per user action; each validates, writes, commits, then publishes."""

from .bans import ban, banned, unban
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
from .similar import similar
from .undo import undo
from .views import snapshot, sync
from .votes import vote

__all__ = [
    "ask",
    "ban",
    "banned",
    "create_event",
    "export_rows",
    "join",
    "merge",
    "moderate",
    "rotate_moderator_key",
    "set_issue",
    "show",
    "similar",
    "snapshot",
    "sync",
    "unban",
    "undo",
    "update_settings",
    "vote",
]
