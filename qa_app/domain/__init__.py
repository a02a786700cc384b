"""Domain functions: one per user action; each validates, writes, commits, then publishes."""

from .audit import actions
from .bans import ban, banned, unban
from .blocklist import get_blocklist, set_blocklist
from .events import (
    create_event,
    export_rows,
    join,
    set_issue,
    show,
    update_settings,
)
from .programme import archive, delete_event, edit_programme
from .questions import ask, merge, moderate, withdraw
from .screen import set_clock, set_screen_mode
from .seats import (
    create_seat,
    editing,
    list_seats,
    revoke_seat,
    rotate_moderator_key,
    rotate_seat,
)
from .sharing import share_report, stop_sharing
from .similar import similar
from .transfer import export_event, import_event
from .undo import undo
from .views import snapshot, sync
from .votes import vote

__all__ = [
    "actions",
    "archive",
    "ask",
    "ban",
    "banned",
    "create_event",
    "create_seat",
    "delete_event",
    "edit_programme",
    "editing",
    "export_event",
    "export_rows",
    "get_blocklist",
    "import_event",
    "join",
    "list_seats",
    "merge",
    "moderate",
    "revoke_seat",
    "rotate_moderator_key",
    "rotate_seat",
    "set_blocklist",
    "set_clock",
    "set_issue",
    "set_screen_mode",
    "share_report",
    "show",
    "similar",
    "snapshot",
    "stop_sharing",
    "sync",
    "unban",
    "undo",
    "update_settings",
    "vote",
    "withdraw",
]
