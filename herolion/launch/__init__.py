"""The `herolion` command line and (later) the cluster backends."""
