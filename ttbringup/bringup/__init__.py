"""New bringups from a config: ``ttbringup fit`` (what fits, measured) and ``ttbringup new`` (generate + check).

=================  ====================================================================
module             what it is
=================  ====================================================================
``configs``        read a config from a file, a directory or the HF cache (never the network)
``architectures``  which blocks a config needs (one table entry per model_type); refusals
``memory``         one data-free memory plan on the emulator's allocator (``Plan``, ``CHOICES``)
``fit``            largest cache per weights dtype, the recommendation, the table
``generate``       the text of model.py and MODEL_BRINGUP.md
``tiny``           a tiny random checkpoint of a config's architecture
``new``            fit, write, check on the tiny checkpoint, report
``commands``       the ``ttbringup`` command line
=================  ====================================================================
"""
