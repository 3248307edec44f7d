from django.db import models


class SourceKind(models.TextChoices):
    WEBSITE = "website", "Website"
    IOS = "ios", "iOS app"
    ANDROID = "android", "Android app"
    SERVER = "server", "Backend / server"
    OTHER = "other", "Other"


class Environment(models.TextChoices):
    PRODUCTION = "production", "Production"
    SANDBOX = "sandbox", "Sandbox"
