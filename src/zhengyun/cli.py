"""The ``zhengyun`` command: Django's management commands under the project's name.

``zhengyun migrate``, ``zhengyun demo``, ``zhengyun serve``, ``zhengyun worker`` and
``zhengyun run`` (web and worker together) are all management commands. ``zhengyun cloud``
is the API client (``zhengyun.client``): it runs without the server's settings.
"""

import os
import sys


def main():
    if sys.argv[1:2] == ["cloud"]:
        from zhengyun.client.cli import main as cloud

        sys.exit(cloud(sys.argv[2:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhengyun.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line([sys.argv[0], *sys.argv[1:]])


if __name__ == "__main__":
    main()
