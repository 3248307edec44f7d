"""Template context for the page shell."""

from django.conf import settings

from .navigation import sidebar_for


def shell(request):
    user = getattr(request, "user", None)
    sections = sidebar_for(user) if user is not None and user.is_authenticated else []
    return {
        "nav_sections": sections,
        "console_environment": getattr(settings, "CONSOLE_ENVIRONMENT_LABEL", ""),
    }
