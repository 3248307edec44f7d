"""Authentication by email, and permissions from capability grants only.

Django's ``user.has_perm()``, the ``perms`` template variable and DRF permission classes
all end up here, and from here in ``apps.access.rules.user_can``: one answer everywhere.
"""

from django.contrib.auth.backends import ModelBackend

from apps.access.rules import capabilities_of, user_can


class CapabilityBackend(ModelBackend):
    def get_user_permissions(self, user_obj, obj=None):
        return set()

    def get_group_permissions(self, user_obj, obj=None):
        return set()

    def get_all_permissions(self, user_obj, obj=None):
        return set(capabilities_of(user_obj))

    def has_perm(self, user_obj, perm, obj=None):
        return user_can(user_obj, perm)

    def has_module_perms(self, user_obj, app_label):
        return any(code.startswith(f"{app_label}.") for code in capabilities_of(user_obj))
