"""``python -m waterdesk``: the same command line as the ``waterdesk`` script."""

from waterdesk.cli.main import cli

if __name__ == "__main__":
    cli(prog_name="waterdesk")
