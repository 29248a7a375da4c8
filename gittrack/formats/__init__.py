"""Data types and serialisations: logged values, histograms, YAML, Parquet, the WAL codec."""
