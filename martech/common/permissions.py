"""DRF permission classes that ask the console's one permission question.

``user.has_perm(capability)`` goes through the authentication backends, the same
function the UI, the services and the workers use.
"""

from rest_framework.permissions import BasePermission


def require_capability(capability: str) -> type[BasePermission]:
    """Return a permission class that allows users holding ``capability``."""

    class HasCapability(BasePermission):
        message = f"This needs the {capability} capability."

        def has_permission(self, request, view):
            user = request.user
            return bool(user and user.is_authenticated and user.has_perm(capability))

    HasCapability.__name__ = f"Has_{capability.replace('.', '_')}"
    return HasCapability
