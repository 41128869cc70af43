"""One folder per platform; see connectors/platform.py for what each folder holds."""
