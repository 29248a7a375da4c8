"""Native integrations with training frameworks, one module each (``gittrack.integrations.xgboost``,
``.lightgbm``, ``.optuna``, ``.sklearn``, ...). Each imports its framework only when it is
imported itself, so ``import gittrack`` never needs one; install the extra
(``pip install 'gittrack[xgboost]'``). See docs/integrations/."""
