"""Credit models on any tabular file: binning, scorecards, monotone GBDT, points scaling,
metrics, stability (PSI) and reason codes, all on in-memory data (no file I/O, no clock).

Modules, from the inside out:

- `values`, `scaling`, `derived`: plain Python shared by training and the fast scorer;
- `scorer`: the fast pure-Python scorer for scorecard artefacts (no pandas, no optbinning);
- `dataset`, `binning`, `scorecard`, `gbdt`, `metrics`, `monitoring`: pandas/numpy modelling;
- `model`: training with cross-validation, batch prediction, evaluation and monitoring of a
  `TrainedModel` (a JSON-ready artefact plus, for GBDT, a LightGBM model string).

Importing this package imports nothing heavy; import the module you need.
"""
