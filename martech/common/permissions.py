"""DRF permission classes that ask the console's one permission question.

``user.has_perm(capability)`` goes through the authentication backends, the same
function the UI, the services and the workers use.
"""

import contextlib

from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.permissions import SAFE_METHODS, BasePermission


class BodyParsed(BasePermission):
    """Parse the request body before the view acts: a malformed body is a 400 everywhere.

    DRF parses lazily, so an action that never reads ``request.data`` (close a review, pause
    a sync) would act on a truncated body. A default permission class runs after
    authentication and before every handler, so reading the body here answers 400
    ``parse_error`` first. A body of a type the endpoint does not parse is left to the
    endpoint: one that reads its body answers 415 after its own permission checks (someone
    who may not use it gets 403, whatever they send). It grants nothing, refuses nothing else.
    """

    def has_permission(self, request, view):
        if request.method not in SAFE_METHODS:
            with contextlib.suppress(UnsupportedMediaType):
                request.data  # noqa: B018 - parsing is the point
        return True


def require_capability(capability: str) -> type[BasePermission]:
    """Return a permission class that allows users holding ``capability``."""

    class HasCapability(BasePermission):
        message = f"This needs the {capability} capability."

        def has_permission(self, request, view):
            user = request.user
            return bool(user and user.is_authenticated and user.has_perm(capability))

    HasCapability.__name__ = f"Has_{capability.replace('.', '_')}"
    return HasCapability


class CapabilityWritesMixin:
    """Actions listed in ``manage_actions`` need ``write_capability``, checked before the
    body is read: someone without it gets 403, not a validation error about the body."""

    write_capability: str = ""
    manage_actions: frozenset[str] = frozenset()

    def get_permissions(self):
        permissions = super().get_permissions()
        if self.action in self.manage_actions:
            permissions.append(require_capability(self.write_capability)())
        return permissions
