"""Native integrations with training frameworks (PyTorch Lightning, Hugging Face Transformers,
Keras, XGBoost, LightGBM, Optuna, scikit-learn), one module each.

Each module imports its framework when it is itself imported, never before: ``import gittrack``
works without any of them. Install a framework with its extra (``pip install
'gittrack[lightning]'``); see ``docs/integrations/``.
"""
