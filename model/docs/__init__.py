"""The README's generated parts: its figures (``figures``), the what-if effect table (``whatifs``) and the
digest that ties each to the model it was drawn from (``provenance``). ``python -m model.docs`` (``make
figures``) regenerates them; ``tests/test_readme_figures.py`` fails when one is older than the model."""
