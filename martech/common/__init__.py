"""The small shared kernel: context, errors, API conventions, health, navigation."""
