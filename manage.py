#!/usr/bin/env python
"""Django's command-line utility, for services given by URL (use `semantik manage` for the embedded stack)."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "semantik.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
