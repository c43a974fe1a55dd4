"""The paper's experiments as configs, one file per table block (docs/paper_configs.md).

Each file's ``get_config(arg)`` takes the row as ``key=value`` args; ``common`` holds the
dataset sizes and the pieces the files share.
"""
