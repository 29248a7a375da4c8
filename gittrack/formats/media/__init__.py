"""Media values: what ``log()`` accepts beside numbers, text and histograms (images, video,
audio, rich text, tables, charts). See ``base`` for the protocol every type follows."""
