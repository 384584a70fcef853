"""The price model: listing features, brand inference, the blend's members, the blend, the price
range, the rules baseline, training, the Hyperopt search, metrics, diagnostics, comparisons and
the served prediction path. Pure functions and estimators: no MLflow, no warehouse.

`price_alchemy.model.pickled` names every object a model artifact refers to: see its docstring
before moving or renaming anything here."""
