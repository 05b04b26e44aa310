#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "policyhub.settings")
    from django.core.management import execute_from_command_line

    from accounts.actor import command_actor

    # Row changes a command makes are recorded as "system:command:NAME" (accounts/actor.py).
    with command_actor(sys.argv):
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
