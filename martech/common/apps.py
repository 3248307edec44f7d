from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "martech.common"
    label = "common"
    verbose_name = "Console kernel"
