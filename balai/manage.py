"""The `balai` console script: Django's management commands with Balai's settings."""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    """Run a management command (`balai migrate`, `balai demo`, ...)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "balai.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["balai", *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    main()
