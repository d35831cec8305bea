"""The command-line tools' ``main(argv)`` functions; the scripts at the repo root only call these."""
