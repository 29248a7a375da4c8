"""Imports every built-in media type, so that each registers its encoder and decoder."""
