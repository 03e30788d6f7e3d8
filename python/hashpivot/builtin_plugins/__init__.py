"""The builtin revenue models, each an ordinary pluggy plugin module (ECONOMICS.md §4).

Every parameter default is *illustrative* (public figures, not truths) and overridable:
construct the model class with your own values and register it from your plugin, or pass
it in ``models=`` to :func:`hashpivot.strategy.evaluate`.
"""
