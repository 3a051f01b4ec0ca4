"""The admin sections (one screen each), the confirmation modal and the problem screen."""

from .apps import AppsScreen
from .audit import AuditScreen
from .confirm import ConfirmScreen
from .grants import GrantsScreen
from .keys import KeysScreen
from .overview import OverviewScreen
from .problem import ProblemScreen
from .usage import UsageScreen
from .users import UsersScreen

SECTION_SCREENS = {
    "overview": OverviewScreen,
    "users": UsersScreen,
    "apps": AppsScreen,
    "grants": GrantsScreen,
    "keys": KeysScreen,
    "audit": AuditScreen,
    "usage": UsageScreen,
}

__all__ = ["AppsScreen", "AuditScreen", "ConfirmScreen", "GrantsScreen", "KeysScreen", "OverviewScreen",
           "ProblemScreen", "UsageScreen", "UsersScreen", "SECTION_SCREENS"]
