"""The ``immunoreset`` command line (one module per subcommand)."""
